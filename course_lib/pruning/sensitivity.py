"""Sensitivity analysis (Li et al. 2016, Sec. 3.2 and Fig. 2): prune ONE layer at a time by a
criterion, at growing ratios, and measure accuracy without retraining. Layers whose accuracy holds
are pruned hard; sensitive layers are pruned little or not at all.
"""
import itertools

import pandas as pd
import torch
import torch.nn as nn

from .. import config, train
from ..validate import eval_mode, fraction, positive_int
from ..validate import ratios as _check_ratios
from .batchnorm import recalibrate_bn
from .criteria import l1_norm
from .plan import n_keep, plan_smallest
from .surgery import Chain, dependencies, prune, trace

RATIOS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _check_calibration(calibration_loader, calibration_batches):
    if calibration_loader is not None and not hasattr(calibration_loader, "__iter__"):
        raise ValueError(f"calibration_loader must be None or an iterable of (x, y) batches, "
                         f"got {type(calibration_loader).__name__}")
    positive_int(calibration_batches, "calibration_batches")


def layer_sensitivity(model, loader, input_shape, ratios=RATIOS, criterion=l1_norm, layers=None, device=None,
                      calibration_loader=None, calibration_batches=4, selection=plan_smallest):
    """Accuracy of ``model`` on ``loader`` with one layer pruned at a time, no retraining.

    ``layers``: names of prunable layers (default: every prunable Conv2d, in forward order); each
    is pruned alone at every ratio of ``ratios`` (fractions of its units removed, in (0, 1)), by
    ``selection(scores, ratio) -> plan`` on its ``criterion`` scores (default
    :func:`plan_smallest`, which keeps the highest; :func:`plan_largest` and :func:`plan_random`
    give the controls). ``model`` is not changed.

    ``calibration_loader`` (e.g. the training split): when given, every pruned copy first gets
    the statistics of its BatchNorms from the pruned layer on re-estimated
    (:func:`recalibrate_bn`) on the first ``calibration_batches`` batches of it, since the
    unpruned network's running mean and variance no longer describe what the pruned layer feeds
    them; the BatchNorms before the layer see what they saw in training and keep theirs. Default
    None: evaluate with the stale statistics, as Li et al. do. The unpruned accuracy is never
    recalibrated.

    The layers before the pruned one compute the same in every pruned copy, so they run once per
    layer (:class:`Chain`), and each copy runs from the pruned layer on. Memory: that layer's
    input for every image of ``loader`` and of the calibration batches.

    Returns a tidy DataFrame, one row per (layer, ratio) plus a ratio-0 row per layer holding the
    unpruned accuracy; columns layer, ratio, kept (units), accuracy, drop (unpruned accuracy minus
    accuracy). Accuracies are fractions in [0, 1].
    """
    ratios = _check_ratios(ratios)
    _check_calibration(calibration_loader, calibration_batches)
    if not callable(selection):
        raise TypeError(f"selection must be a callable (scores, ratio) -> plan, got {type(selection).__name__}")
    groups = dependencies(model, input_shape)
    if layers is None:
        layers = [name for name in groups if isinstance(model.get_submodule(name), nn.Conv2d)]
    if isinstance(layers, str) or len(layers) == 0 or any(name not in groups for name in layers):
        raise ValueError(f"layers must be a non-empty list of prunable layers {list(groups)}, got {layers!r}")
    scores = criterion(model, layers)
    base = train.evaluate(model, loader, device)["accuracy"]
    steps = trace(model, input_shape)
    position = {step.name: i for i, step in enumerate(steps)}
    rows = []
    for name in layers:
        before = Chain(steps[:position[name]])
        images = _run(before, loader, device)
        calibration = (None if calibration_loader is None else
                       _run(before, itertools.islice(calibration_loader, calibration_batches), device))
        n = len(scores[name])
        rows.append({"layer": name, "ratio": 0.0, "kept": n, "accuracy": base, "drop": 0.0})
        for r in ratios:
            pruned = prune(model, selection({name: scores[name]}, r), input_shape, groups)
            rest = Chain(trace(pruned, input_shape)[position[name]:])
            if calibration is not None:
                recalibrate_bn(rest, calibration, device)
            acc = train.evaluate(rest, images, device)["accuracy"]
            rows.append({"layer": name, "ratio": r, "kept": n_keep(n, r), "accuracy": acc, "drop": base - acc})
    return pd.DataFrame(rows)


def _run(chain, batches, device):
    """``[(chain(x), y)]`` for the ``(x, y)`` batches, in eval mode, on ``device``."""
    device = device or config.device()
    with eval_mode(chain), torch.no_grad():
        return [(chain(x.to(device)), y) for x, y in config.limit(batches)]


def choose_ratios(table, tolerance=0.01):
    """Per-layer prune ratios from a :func:`layer_sensitivity` table.

    Rule: for each layer, the largest ratio r such that the accuracy drop stays within
    ``tolerance`` (a fraction, 0.01 = 1 pp) at r AND at every smaller ratio tried; 0.0 when even
    the smallest ratio costs more. Returns ``{layer: ratio}``.
    """
    if not isinstance(table, pd.DataFrame) or not {"layer", "ratio", "drop"} <= set(table.columns):
        raise TypeError("table must be a DataFrame returned by layer_sensitivity()")
    fraction(tolerance, "tolerance")
    chosen = {}
    for name, rows in table.groupby("layer", sort=False):
        rows = rows.sort_values("ratio")
        ok = (rows["drop"] <= tolerance).cummin()  # stays True only while every smaller ratio passed
        chosen[name] = float(rows["ratio"][ok].max()) if ok.any() else 0.0
    return chosen


def greedy_ratios(table, target):
    """Per-layer prune ratios from a :func:`layer_sensitivity` table, cheapest step first.

    Start with nothing pruned; repeatedly move ONE layer to its next ratio in ``table``: the
    layer whose accuracy drop at that ratio (pruned alone) is smallest, ties going to the later
    layer (in a VGG its filters hold more parameters). Stop as soon as ``target(ratios)`` is True,
    so the plan removes no more than the target asks. ``target`` takes ``{layer: ratio}`` and
    returns a bool (e.g. "FLOPs -30 % and parameters -50 %"). Returns ``{layer: ratio}``;
    ValueError when even every layer at its largest ratio misses the target.
    """
    if not isinstance(table, pd.DataFrame) or not {"layer", "ratio", "drop"} <= set(table.columns):
        raise TypeError("table must be a DataFrame returned by layer_sensitivity()")
    if not callable(target):
        raise TypeError(f"target must be a callable {{layer: ratio}} -> bool, got {type(target).__name__}")
    steps = {name: rows.sort_values("ratio") for name, rows in table.groupby("layer", sort=False)}
    chosen = {name: 0.0 for name in steps}
    while not target(dict(chosen)):
        options = []
        for position, (name, rows) in enumerate(steps.items()):
            higher = rows[rows["ratio"] > chosen[name]]
            if len(higher):
                options.append((higher["drop"].iloc[0], -position, name, float(higher["ratio"].iloc[0])))
        if not options:
            raise ValueError("target not reached even with every layer at its largest ratio")
        _, _, name, ratio = min(options)
        chosen[name] = ratio
    return chosen
