"""The iterative loop every data-driven method of the course runs (Molchanov et al. 2017, ThiNet,
HRank, ...): score -> select -> remove physically -> fine-tune -> evaluate and measure -> repeat.
"""
import copy

import pandas as pd
import torch

from .. import config, measure, train
from ..validate import check_model, check_shape, fraction, positive_int
from .batchnorm import recalibrate_bn
from .plan import plan_global, plan_smallest
from .report import latency_table
from .surgery import dependencies, prune, prune_


def history_row(model, input_shape, loader=None, latency_batch=None, device=None, first=None):
    """One row of a pruning history: ``model``'s params, FLOPs, bytes (:func:`course_lib.measure.summary`),
    "params %" and "FLOPs %" of ``first`` (the original's row; default: this one), accuracy on
    ``loader`` (if given) and, with ``latency_batch``, the CPU latency (ms) of such a batch by the
    protocol of :func:`~course_lib.pruning.report.latency_table` (the best of interleaved rounds, one thread)."""
    row = measure.summary(model, input_shape)
    first = first or row
    row["params %"] = round(100 * row["params"] / first["params"], 2)
    row["FLOPs %"] = round(100 * row["FLOPs"] / first["FLOPs"], 2)
    if loader is not None:
        row["accuracy"] = train.evaluate(model, loader, device)["accuracy"]
    if latency_batch is not None:
        times = latency_table({"model": model}, input_shape, batch_sizes=(latency_batch,))
        row["latency ms"] = float(times.iloc[0, 0])
    return row


def one_shot(model, scores, amount, input_shape, select=plan_smallest, calibration_loader=None, device=None):
    """Prune a copy of ``model`` once, as L1 filter pruning and HRank do; ``model`` is not changed.

    ``select(scores, amount)`` chooses the units to keep (default :func:`plan_smallest`: the lowest
    scores of each layer go; ``amount`` as the selection takes it: units, a ratio removed, or
    ``{layer: ratio}``), the surgery removes the others and, with ``calibration_loader``, every
    BatchNorm re-estimates its statistics on it (:func:`recalibrate_bn`).

    Returns a :class:`~course_lib.measure.Result`: ``model`` the pruned network, ``history``
    None, ``kept`` the plan ``{layer: sorted indices of the units kept}``.
    """
    if not callable(select):
        raise TypeError(f"select must be a callable select(scores, amount), got {type(select).__name__}")
    plan = select(scores, amount)
    pruned = prune(model, plan, input_shape)
    if calibration_loader is not None:
        recalibrate_bn(pruned, calibration_loader, device)
    return measure.Result(pruned, kept=plan)


def prune_iteratively(model, criterion, input_shape, per_step, steps, select=plan_global, fine_tune=None,
                      loader=None, target=None, layers=None, latency_batch=None, device=None, cost=None,
                      accept=None, observe=None):
    """Prune a copy of ``model`` step by step; ``model`` itself is not changed.

    Each step scores the current network's units with ``criterion(model, layers)``, removes
    ``per_step`` units with ``select(scores, n)`` (default :func:`plan_global`: global ranking,
    l2-normalised per layer, at least one unit kept per layer) and the surgery, then calls
    ``fine_tune(model)`` (e.g. a short :func:`course_lib.train.fit`; None: no fine-tuning) and
    measures params, FLOPs, bytes, accuracy on ``loader`` (if given) and, with
    ``latency_batch``, the median CPU latency (ms) of a batch of that size.

    ``cost(model, layers)`` (e.g. ``lambda m, l: unit_flops(m, input_shape, l)``) makes the
    selection cost-aware: it is recomputed on the current network every step and passed as
    ``select(scores, n, cost=...)``, since a unit's FLOPs change as its neighbours shrink.

    ``per_step``: units per step, an int, or a fraction of the ORIGINAL units of ``layers``
    (default: every prunable layer). It stops after ``steps`` steps or as soon as
    ``target(row)`` is True for a history row (e.g. ``lambda row: row["FLOPs %"] <= 50``).
    ``accept(row)`` (e.g. ``lambda row: row["accuracy"] >= 0.97`` with a validation ``loader``)
    judges each step: a step it rejects is undone, the network before it is returned, its row
    stays in the history with ``accepted`` False, and the loop ends. The loop also ends when
    the selection removes nothing. Gradually global pruning's stopping rule, "continue while the
    validation accuracy is at least P_t and return the last network that met it", is
    ``accept=lambda row: row["accuracy"] >= P_t`` with the validation split as ``loader``.

    ``observe(step, model, scores, plan)`` is called every step after the selection and before
    the surgery, with the network the scores were computed on: a notebook can score other
    criteria on the same sequence of networks (it must not change ``model``).

    Returns a :class:`~course_lib.measure.Result`: ``model`` the pruned network; ``history`` a
    DataFrame, one row per step (step 0 = the original) with columns step, removed (units so
    far), params, FLOPs, bytes, "params %", "FLOPs %" (of the original), accuracy and
    "latency ms" when measured; ``kept`` the plans of all steps composed, ``{layer: sorted
    indices of the ORIGINAL units kept}``.
    """
    check_model(model)
    input_shape = check_shape(input_shape)
    positive_int(steps, "steps")
    for value, name in ((criterion, "criterion"), (select, "select")):
        if not callable(value):
            raise TypeError(f"{name} must be a callable, got {type(value).__name__}")
    if any(f is not None and not callable(f) for f in (fine_tune, target, cost, accept, observe)):
        raise TypeError("fine_tune, target, cost, accept and observe must be callables or None")
    pruned = copy.deepcopy(model)
    groups = dependencies(pruned, input_shape)
    layers = list(groups) if layers is None else list(layers)
    if not layers or any(name not in groups for name in layers):
        raise ValueError(f"layers must be a non-empty list of prunable layers {list(groups)}, got {layers!r}")
    alive = {name: torch.arange(groups[name].units) for name in layers}  # original indices still there
    total = sum(len(a) for a in alive.values())
    if isinstance(per_step, float):
        per_step = max(1, round(fraction(per_step, "per_step", zero=False) * total))
    positive_int(per_step, "per_step")
    first = history_row(pruned, input_shape, loader, latency_batch, device)
    rows = [{"step": 0, "removed": 0, **first, **({} if accept is None else {"accepted": True})}]
    for step in config.progress(range(1, steps + 1), desc="prune steps"):
        before = (copy.deepcopy(pruned), alive) if accept is not None else None
        scores = criterion(pruned, layers)
        n = min(per_step, sum(len(a) for a in alive.values()) - len(layers))
        plan = select(scores, n) if cost is None else select(scores, n, cost=cost(pruned, layers))
        if all(len(plan.get(name, a)) == len(a) for name, a in alive.items()):
            break  # the selection removes nothing more (e.g. every maxout unit is down to one piece)
        if observe is not None:
            observe(step, pruned, scores, plan)
        prune_(pruned, plan, input_shape)
        alive = {name: a[plan[name]] if name in plan else a for name, a in alive.items()}
        if fine_tune is not None:
            fine_tune(pruned)
        rows.append({"step": step, "removed": total - sum(len(a) for a in alive.values()),
                     **history_row(pruned, input_shape, loader, latency_batch, device, first)})
        if accept is not None:
            rows[-1]["accepted"] = bool(accept(rows[-1]))
            if not rows[-1]["accepted"]:
                pruned, alive = before
                break
        if target is not None and target(rows[-1]):
            break
    return measure.Result(pruned, pd.DataFrame(rows), {name: a.sort().values for name, a in alive.items()})
