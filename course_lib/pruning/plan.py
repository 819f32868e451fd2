"""Selections: scores -> a *plan* ``{layer name: sorted LongTensor of the unit indices to KEEP}``.

Every selection has the form ``select(scores, amount, **options) -> plan``. ``amount`` says how
much to remove: an int (that many units), a float (a *ratio*, the fraction of units removed, in
[0, 1)) or, for the per-layer rules, ``{layer name: int or ratio}`` (layers not named lose none).
The per-layer rules (:func:`plan_smallest`, :func:`plan_largest`, :func:`plan_random`) apply
``amount`` to every layer; :func:`plan_global` ranks all layers together and removes ``amount``
units in all. A layer always keeps at least one unit; ``round_to=k`` rounds a kept count to the
nearest multiple of k (vectorised kernels work on blocks of channels).
"""
import pandas as pd
import torch

from .. import config, measure
from ..validate import fraction, int_in, positive_int
from .surgery import dependencies


def _check_scores(scores):
    """``scores`` if it is ``{layer name: non-empty 1-D tensor}``; else ``TypeError``."""
    if not isinstance(scores, dict) or not all(isinstance(s, torch.Tensor) and s.dim() == 1 and s.numel() > 0
                                               for s in scores.values()):
        raise TypeError("scores must be a dict {layer name: non-empty 1-D tensor}")
    return scores


def _per_layer(scores, amount):
    """``{name: amount}`` for every layer of ``scores``, each an int or a ratio checked against the layer's size."""
    if isinstance(amount, dict):
        unknown = set(amount) - set(_check_scores(scores))
        if unknown:
            raise ValueError(f"amount names layers without scores: {sorted(unknown)}")
        amount = {name: amount.get(name, 0) for name in scores}
    else:
        amount = {name: amount for name in _check_scores(scores)}
    for name, a in amount.items():
        n_keep(len(scores[name]), a, argument=f"amount for layer {name!r}")
    return amount


def n_keep(n, amount, round_to=1, argument="amount"):
    """Units kept of ``n`` when ``amount`` go: an int removes that many (at most n - 1), a ratio
    (float in [0, 1)) removes round(ratio * n), keeping at least 1; with ``round_to=k`` the count
    is rounded to the nearest multiple of k, kept within [min(k, n), n]. ``argument`` names
    ``amount`` in the error message."""
    positive_int(round_to, "round_to")
    if isinstance(amount, float) and 0 <= amount < 1:
        kept = max(1, n - round(amount * n))
    elif isinstance(amount, int) and not isinstance(amount, bool) and 0 <= amount < n:
        kept = n - amount
    else:
        raise ValueError(f"{argument} must be a ratio in [0, 1) or a number of units in [0, {n - 1}], got {amount!r}")
    return min(n, max(min(round_to, n), round_to * round(kept / round_to)))


def _plan(scores, amount, order, round_to):
    """Keep, per layer, the units that come first in ``order(scores)`` (a permutation)."""
    plan = {}
    for name, a in _per_layer(scores, amount).items():
        s = scores[name]
        plan[name] = order(s)[:n_keep(len(s), a, round_to)].sort().values
    return plan


def plan_smallest(scores, amount, round_to=1):
    """Prune the lowest-scoring units of each layer (keep the largest scores): the criterion's own rule."""
    return _plan(scores, amount, lambda s: s.argsort(descending=True, stable=True), round_to)


def plan_largest(scores, amount, round_to=1):
    """Prune the HIGHEST-scoring units of each layer: the control that shows whether the criterion matters."""
    return _plan(scores, amount, lambda s: s.argsort(stable=True), round_to)


def plan_random(scores, amount, seed=0, round_to=1):
    """Prune random units of each layer (scores only give the layer sizes)."""
    gen = config.generator(seed)  # validates seed; shifted by COURSE_SEED
    return _plan(scores, amount, lambda s: torch.randperm(len(s), generator=gen), round_to)


def plan_table(plan, scores):
    """One row per layer: units before, kept, removed and the removed fraction."""
    rows = []
    for name, s in scores.items():
        kept = len(plan.get(name, s))
        rows.append({"layer": name, "units": len(s), "kept": kept, "removed": len(s) - kept,
                     "removed %": round(100 * (len(s) - kept) / len(s), 1)})
    return pd.DataFrame(rows)


NORMALISATIONS = (None, "l2", "mean", "sum")


def normalised(scores, normalise="l2"):
    """``{layer: scores}`` with each layer's scores rescaled so that layers compare: ``"l2"``
    divides by the layer's Euclidean norm, Theta / sqrt(sum_j Theta_j^2) (Molchanov et al. 2017),
    ``"mean"`` by its mean (the gradually-global poster's division by the layer mean), ``"sum"``
    by its sum (each unit's share of its layer), None leaves them (:data:`NORMALISATIONS`); or a
    callable ``fn(layer_scores) -> scale`` (a positive number) divides by what it returns. An
    all-zero layer stays zero."""
    _check_scores(scores)
    if normalise not in NORMALISATIONS and not callable(normalise):
        raise ValueError(f"normalise must be one of {NORMALISATIONS} or a callable, got {normalise!r}")
    rule = {None: lambda s: 1.0, "l2": torch.linalg.vector_norm, "mean": torch.mean, "sum": torch.sum}.get(
        normalise, normalise)
    out = {}
    for name, s in scores.items():
        scale = rule(s)
        out[name] = s / scale if scale > 0 else torch.zeros_like(s)
    return out


def _unit_costs(cost, scores):
    """``{name: (units,) positive float tensor}`` from None (all 1), one number per layer or one per unit."""
    costs = {}
    for name, s in scores.items():
        c = 1.0 if cost is None else cost.get(name, 1.0) if isinstance(cost, dict) else None
        c = torch.as_tensor(c, dtype=torch.float64) if c is not None else None
        if c is None or c.numel() not in (1, len(s)) or not (c > 0).all():
            raise ValueError(f"cost must be None or a dict {{layer: positive number or one per unit}}, got "
                             f"{cost if not isinstance(cost, dict) else cost.get(name)!r} for layer {name!r}")
        costs[name] = c.expand(len(s))
    return costs


def plan_global(scores, amount, normalise="l2", min_keep=1, cost=None, round_to=1):
    """Rank the units of all layers together and remove the ``amount`` lowest: a plan.

    ``amount``: how many units to remove in all, an int, or a ratio in (0, 1) of all units in
    ``scores`` (not per layer: the ranking decides how many each layer loses). ``normalise``
    (one of :data:`NORMALISATIONS`) rescales each layer's scores first, since raw scores of
    different layers need not be on one scale. ``cost``
    (``{layer: number or (units,) tensor}``, e.g. the FLOPs one unit costs) makes the ranking
    cost-aware: units go in order of normalised score / cost, so at equal scores the expensive
    unit goes first. Every layer keeps at least ``min_keep`` units (fewer units than asked are
    removed if that binds), and ``round_to`` then rounds each layer's kept count to a multiple,
    as :func:`n_keep` does (so the total removed can differ from ``amount``). A unit scoring
    +inf is never removed (e.g. the best piece of a maxout unit, :func:`win_fraction`'s
    ``keep_best``); such scores need ``normalise=None``.
    """
    _check_scores(scores)
    if isinstance(amount, dict):
        raise TypeError("amount: plan_global ranks all layers together and takes one int or ratio for the whole "
                        "network; per-layer amounts are for plan_smallest, plan_largest and plan_random")
    if normalise is not None and any(torch.isinf(s).any() for s in scores.values()):
        raise ValueError("scores with +inf (units never removed) need normalise=None")
    keys = normalised({name: s.double() for name, s in scores.items()}, normalise)
    total = sum(len(s) for s in scores.values())
    if isinstance(amount, float):
        amount = round(fraction(amount, "amount", zero=False) * total)
    else:
        int_in(amount, "amount", 0, total - 1)
    positive_int(min_keep, "min_keep")
    positive_int(round_to, "round_to")
    costs = _unit_costs(cost, scores)
    keys = {name: key / costs[name] for name, key in keys.items()}
    units = sorted((k.item(), position, name, i) for position, (name, key) in enumerate(keys.items())
                   for i, k in enumerate(key))  # ties go to the earlier layer, then the lower index
    order = {name: [] for name in scores}  # each layer's units, lowest-ranked first
    for _, _, name, i in units:
        order[name].append(i)
    left, removed = {name: len(s) for name, s in scores.items()}, 0
    for key, _, name, _ in units:
        if removed == amount:
            break
        if left[name] > min_keep and key != float("inf"):
            left[name] -= 1
            removed += 1
    plan = {}
    for name, ranked in order.items():
        n = len(ranked)
        protected = int(torch.isinf(keys[name]).sum())  # rounding must not remove these either
        kept = min(n, max(min(round_to, n), min_keep, round_to * round(left[name] / round_to), protected))
        plan[name] = torch.tensor(sorted(ranked[n - kept:]), dtype=torch.int64)
    return plan


def unit_flops(model, input_shape, layers=None):
    """``{layer: FLOPs one of its units costs}`` (one input of ``input_shape``): its share of
    the layer's own multiply-accumulates plus its share of the consumer's (removing a filter
    also removes the next layer's input channel), times 2. The ``cost`` of a FLOPs-aware
    :func:`plan_global`; exact for chains, where removing one unit saves exactly this much.
    A maxout piece costs its own share only: the consumer sees its unit, which stays (unless the
    piece is its unit's last, when the consumer's share for the unit is saved too)."""
    groups = dependencies(model, input_shape)
    layers = list(groups) if layers is None else layers
    unknown = [name for name in layers if name not in groups]
    if isinstance(layers, str) or not layers or unknown:
        raise ValueError(f"layers must be a non-empty list of prunable layers {list(groups)}, got {layers!r}")
    macs = dict(zip(*[measure.layer_table(model, input_shape)[c] for c in ("layer", "MACs")]))
    return {name: 2 * (macs[name] + (macs[groups[name].consumer] if groups[name].maxout is None else 0))
            / groups[name].units for name in layers}
