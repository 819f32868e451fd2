"""Selections: scores -> a *plan* ``{layer name: sorted LongTensor of the unit indices to KEEP}``.

``ratios`` is the fraction of units to REMOVE, one float for every layer or ``{name: ratio}``;
a layer keeps ``n - round(ratio * n)`` units and always at least one. ``round_to=k`` rounds that
count to the nearest multiple of k (vectorised kernels work on blocks of channels).
"""
import pandas as pd
import torch

from .. import config
from .._validate import positive_int


def _ratios(scores, ratios):
    """``{name: ratio}`` for every layer of ``scores``, checked to lie in [0, 1)."""
    if not isinstance(scores, dict) or not all(isinstance(s, torch.Tensor) and s.dim() == 1 and s.numel() > 0
                                               for s in scores.values()):
        raise TypeError("scores must be a dict {layer name: non-empty 1-D tensor}")
    if isinstance(ratios, dict):
        unknown = set(ratios) - set(scores)
        if unknown:
            raise ValueError(f"ratios name layers without scores: {sorted(unknown)}")
        ratios = {name: ratios.get(name, 0.0) for name in scores}
    else:
        ratios = {name: ratios for name in scores}
    for name, r in ratios.items():
        if not isinstance(r, (int, float)) or isinstance(r, bool) or not 0 <= r < 1:
            raise ValueError(f"ratios: the prune ratio of {name!r} must be a number in [0, 1), got {r!r}")
    return ratios


def n_keep(n, ratio, round_to=1):
    """Units kept when ``ratio`` of ``n`` are removed: n - round(ratio * n), at least 1; with
    ``round_to=k`` rounded to the nearest multiple of k, kept within [min(k, n), n]."""
    positive_int(round_to, "round_to")
    kept = max(1, n - round(ratio * n))
    return min(n, max(min(round_to, n), round_to * round(kept / round_to)))


def _plan(scores, ratios, order, round_to):
    """Keep, per layer, the units that come first in ``order(scores)`` (a permutation)."""
    plan = {}
    for name, r in _ratios(scores, ratios).items():
        s = scores[name]
        plan[name] = order(s)[:n_keep(len(s), r, round_to)].sort().values
    return plan


def plan_smallest(scores, ratios, round_to=1):
    """Prune the lowest-scoring units (keep the largest scores): the criterion's own rule."""
    return _plan(scores, ratios, lambda s: s.argsort(descending=True, stable=True), round_to)


def plan_largest(scores, ratios, round_to=1):
    """Prune the HIGHEST-scoring units: the control that shows whether the criterion matters."""
    return _plan(scores, ratios, lambda s: s.argsort(stable=True), round_to)


def plan_random(scores, ratios, seed=0, round_to=1):
    """Prune random units (scores only give the layer sizes)."""
    gen = config.generator(seed)  # validates seed; shifted by COURSE_SEED
    return _plan(scores, ratios, lambda s: torch.randperm(len(s), generator=gen), round_to)


def plan_table(plan, scores):
    """One row per layer: units before, kept, removed and the removed fraction."""
    rows = []
    for name, s in scores.items():
        kept = len(plan.get(name, s))
        rows.append({"layer": name, "units": len(s), "kept": kept, "removed": len(s) - kept,
                     "removed %": round(100 * (len(s) - kept) / len(s), 1)})
    return pd.DataFrame(rows)
