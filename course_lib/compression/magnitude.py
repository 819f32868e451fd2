"""P: unstructured magnitude pruning with retraining (Han et al. 2015, "Learning both Weights and
Connections").

Per layer, a weight survives when |w| > quality x std, the standard deviation of the layer's
surviving weights (or, by :func:`fraction_masks`, when it is not among a given fraction of the
smallest). While the network retrains, the gradients of pruned weights are masked to zero,
so no optimizer step (momentum and weight decay included) can revive them; the prune -> retrain
step repeats, and because the std is taken over the survivors, repeating one quality keeps
pruning. Only the ``weight`` of ``nn.Conv2d`` / ``nn.Linear`` layers is pruned; biases are kept.
"""
import copy
from contextlib import contextmanager

import pandas as pd
import torch
import torch.nn as nn

from .. import measure, train
from .. import validate
from ..pruning.surgery import PRUNABLE
from ..validate import fraction

# fractions of a layer's weights removed; fine near the top, where the rules of
# course_lib.pruning.sensitivity stop
RATIOS = (0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99)


def prunable_layers(model):
    """``{qualified name: module}`` of the conv and linear layers of ``model``, in model order."""
    return {name: m for name, m in validate.check_model(model).named_modules() if isinstance(m, PRUNABLE)}


def bits_per_layer(model, bits=None, argument="bits"):
    """``{layer name: bits}`` for every conv / linear layer of ``model``: ``bits`` may be None
    (8 for conv, 5 for fully connected layers, the paper's choice for both the weights and the
    relative indices), one int in [1, 16] for every layer, or a dict naming every layer.
    ``argument`` names the argument in the error message."""
    layers = prunable_layers(model)
    if bits is None:
        return {name: 8 if isinstance(m, nn.Conv2d) else 5 for name, m in layers.items()}
    if not isinstance(bits, dict):
        return {name: validate.int_in(bits, argument, 1, 16) for name in layers}
    if set(bits) != set(layers):
        raise ValueError(f"{argument} as a dict must name exactly the layers {list(layers)}, got {list(bits)}")
    return {name: validate.int_in(bits[name], f"{argument}[{name!r}]", 1, 16) for name in layers}


def _quality_of(quality, name):
    q = quality.get(name) if isinstance(quality, dict) else quality
    if isinstance(q, bool) or not isinstance(q, (int, float)) or q < 0:
        raise ValueError(f"quality must be a non-negative number or a dict of them per layer, "
                         f"got {q!r} for layer {name!r}")
    return float(q)


def magnitude_masks(model, quality, masks=None):
    """Keep-masks ``{layer name: bool tensor of the weight's shape}``: |w| > quality x std(w).

    ``quality`` is one number or ``{layer name: number}`` (layers missing from the dict keep all
    their weights). The std is taken over the layer's surviving weights; with ``masks`` from an
    earlier step, weights pruned then stay pruned.
    """
    out = {}
    for name, w, old in _survivors(model, masks):
        if isinstance(quality, dict) and name not in quality:
            out[name] = old.clone()
            continue
        alive = w[old]
        std = alive.std() if alive.numel() > 1 else torch.tensor(0.0)
        out[name] = old & (w.abs() > _quality_of(quality, name) * std)
    return out


def fraction_masks(model, ratios, masks=None, scores=None):
    """Keep-masks that remove, in each layer named in ``ratios`` ({layer name: ratio in [0, 1)}),
    that fraction of its surviving weights, the smallest |w| first (weights tied with the last
    one removed go too): a per-layer threshold as in :func:`magnitude_masks`, set by a
    count instead of by quality x std. Layers not named keep their masks; with ``masks`` from an
    earlier step, weights pruned then stay pruned.

    ``scores`` ({layer name: tensor of the weight's shape}, higher = keep) ranks a layer's weights
    by any per-connection statistic instead of |w|, as ``torch.nn.utils.prune`` takes
    ``importance_scores`` (e.g. a correlation between the connection's input and output units).
    """
    layers = prunable_layers(model)
    if not isinstance(ratios, dict) or not set(ratios) <= set(layers):
        raise ValueError(f"ratios must be a dict over the prunable layers {list(layers)}, got {ratios!r}")
    for name, r in ratios.items():
        fraction(r, f"ratios[{name!r}]")
    if scores is not None and (not isinstance(scores, dict) or not set(scores) <= set(layers) or any(
            not isinstance(s, torch.Tensor) or s.shape != layers[n].weight.shape for n, s in scores.items())):
        raise ValueError("scores must be None or a dict {prunable layer: tensor of its weight's shape}")
    out = {}
    for name, w, old in _survivors(model, masks):
        n_remove = round(ratios.get(name, 0.0) * int(old.sum()))
        if n_remove == 0:
            out[name] = old.clone()
            continue
        key = w.abs() if scores is None or name not in scores else scores[name].detach().to(w.device)
        threshold = key[old].kthvalue(n_remove).values
        out[name] = old & (key > threshold)
    return out


def _survivors(model, masks):
    """``(name, weight, keep-mask so far)`` of every prunable layer (all True without ``masks``)."""
    if masks is not None and not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict of bool tensors or None, got {type(masks).__name__}")
    for name, m in prunable_layers(model).items():
        w = m.weight.detach()
        yield name, w, masks[name] if masks is not None and name in masks else torch.ones_like(w, dtype=torch.bool)


def even_steps(ratios, steps):
    """A schedule for :func:`fraction_masks` that reaches ``ratios`` ({layer name: fraction of its
    weights removed in all}) in ``steps`` equal steps: each removes 1 - (1 - r)^(1/steps) of the
    layer's surviving weights, so every step keeps the same share of what is left."""
    validate.positive_int(steps, "steps")
    if not isinstance(ratios, dict) or not ratios:
        raise ValueError(f"ratios must be a non-empty dict {{layer name: fraction}}, got {ratios!r}")
    step = {name: 1 - (1 - fraction(r, f"ratios[{name!r}]")) ** (1 / steps) for name, r in ratios.items()}
    return [dict(step) for _ in range(steps)]


def weight_sensitivity(model, loader, ratios=RATIOS, device=None):
    """Han et al. 2015's sensitivity analysis: accuracy of ``model`` on ``loader`` with ONE layer
    pruned at a time (its smallest weights, at every fraction of ``ratios``), no retraining.

    Returns a tidy DataFrame, one row per (layer, ratio) plus a ratio-0 row per layer holding the
    unpruned accuracy; columns layer, ratio, kept (weights), accuracy, drop (unpruned accuracy minus
    accuracy), accuracies as fractions: the format of :func:`course_lib.pruning.layer_sensitivity`,
    so its rules (``choose_ratios``, ``greedy_ratios``) apply. ``model`` is not changed.
    """
    layers = prunable_layers(model)
    ratios = validate.ratios(ratios)
    base = train.evaluate(model, loader, device)["accuracy"]
    rows = []
    for name, layer in layers.items():
        n = layer.weight.numel()
        rows.append({"layer": name, "ratio": 0.0, "kept": n, "accuracy": base, "drop": 0.0})
        for r in ratios:
            pruned = copy.deepcopy(model)
            masks = fraction_masks(pruned, {name: r})
            acc = train.evaluate(apply_masks_(pruned, masks), loader, device)["accuracy"]
            rows.append({"layer": name, "ratio": r, "kept": int(masks[name].sum()), "accuracy": acc, "drop": base - acc})
    return pd.DataFrame(rows)


def apply_masks_(model, masks):
    """Zero, in place, the weights of ``model`` that ``masks`` prunes. Returns ``model``."""
    layers = prunable_layers(model)
    if not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict of bool tensors, got {type(masks).__name__}")
    with torch.no_grad():
        for name, mask in masks.items():
            if name not in layers or mask.shape != layers[name].weight.shape:
                raise ValueError(f"masks[{name!r}] does not match a prunable layer's weight shape")
            layers[name].weight.mul_(mask.to(layers[name].weight.dtype))
    return model


@contextmanager
def masked_gradients(model, masks):
    """Within the ``with`` block, the gradient of every pruned weight of ``model`` is zero.

    A zero gradient on a zero weight leaves it at zero under SGD (with momentum and weight decay)
    and Adam, so pruned connections stay pruned while the survivors retrain.
    """
    layers = prunable_layers(model)
    if not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict of bool tensors, got {type(masks).__name__}")
    handles = []
    try:
        for name, mask in masks.items():
            if name not in layers or mask.shape != layers[name].weight.shape:
                raise ValueError(f"masks[{name!r}] does not match a prunable layer's weight shape")
            keep = mask.to(layers[name].weight.dtype)
            handles.append(layers[name].weight.register_hook(lambda grad, keep=keep: grad * keep.to(grad.device)))
        yield model
    finally:
        for handle in handles:
            handle.remove()


def density(masks):
    """``{layer name: fraction of weights kept}`` and, under ``"total"``, the fraction over all layers."""
    if not isinstance(masks, dict) or not masks or not all(isinstance(m, torch.Tensor) for m in masks.values()):
        raise TypeError("masks must be a non-empty dict of bool tensors")
    out = {name: m.float().mean().item() for name, m in masks.items()}
    out["total"] = sum(m.sum().item() for m in masks.values()) / sum(m.numel() for m in masks.values())
    return out


def iterative_prune_(model, schedule, train_loader, val_loader=None, epochs=3, lr=0.01,
                     masks_fn=magnitude_masks, **fit_kwargs):
    """Prune ``model`` in place: for each step of ``schedule`` prune with ``masks_fn(model, step,
    masks)``, then retrain ``epochs`` epochs with :func:`course_lib.train.fit` under
    :func:`masked_gradients`. With the default ``masks_fn``, :func:`magnitude_masks`, a step is a
    quality or a dict of them per layer; with :func:`fraction_masks` it is a dict of ratios,
    e.g. from :func:`even_steps`. Returns a :class:`~course_lib.measure.Result`: ``model`` (the
    same object, pruned in place), ``history`` one row per retraining epoch (:func:`course_lib.train.fit`'s
    columns, with the ``step`` it belongs to, from 1) and ``kept`` the final keep-masks.
    """
    if not isinstance(schedule, (list, tuple)) or not schedule:
        raise ValueError(f"schedule must be a non-empty list of steps, got {schedule!r}")
    if not callable(masks_fn):
        raise TypeError(f"masks_fn must be a callable (model, step, masks) -> masks, got {type(masks_fn).__name__}")
    masks, history = None, []
    for number, step in enumerate(schedule, 1):
        masks = masks_fn(model, step, masks)
        apply_masks_(model, masks)
        with masked_gradients(model, masks):
            rows = train.fit(model, train_loader, val_loader, epochs=epochs, lr=lr, desc="retrain", **fit_kwargs)
        history += [{"step": number, **row} for row in rows]
    return measure.Result(model, pd.DataFrame(history), masks)
