"""P: unstructured magnitude pruning with retraining (Han et al. 2015, "Learning both Weights and
Connections").

Per layer, a weight survives when |w| > quality x std, the standard deviation of the layer's
surviving weights. While the network retrains, the gradients of pruned weights are masked to zero,
so no optimizer step (momentum and weight decay included) can revive them; the prune -> retrain
step repeats, and because the std is taken over the survivors, repeating one quality keeps
pruning. Only the ``weight`` of ``nn.Conv2d`` / ``nn.Linear`` layers is pruned; biases are kept.
"""
from contextlib import contextmanager

import torch
import torch.nn as nn

from .. import train

PRUNABLE = (nn.Conv2d, nn.Linear)


def prunable_layers(model):
    """``{qualified name: module}`` of the conv and linear layers of ``model``, in model order."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return {name: m for name, m in model.named_modules() if isinstance(m, PRUNABLE)}


def bits_per_layer(model, bits=None, argument="bits"):
    """``{layer name: bits}`` for every conv / linear layer of ``model``: ``bits`` may be None
    (8 for conv, 5 for fully connected layers, the paper's choice for both the weights and the
    relative indices), one int in [1, 16] for every layer, or a dict naming every layer.
    ``argument`` names the argument in the error message."""
    layers = prunable_layers(model)
    if bits is None:
        return {name: 8 if isinstance(m, nn.Conv2d) else 5 for name, m in layers.items()}
    if isinstance(bits, dict) and set(bits) == set(layers):
        values = dict(bits)
    else:
        values = {name: bits for name in layers}
    for name, b in values.items():
        if not isinstance(b, int) or isinstance(b, bool) or not 1 <= b <= 16:
            raise ValueError(f"{argument} must be None, an int in [1, 16] or a dict of them over the layers "
                             f"{list(layers)}, got {bits!r}")
    return values


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
    layers = prunable_layers(model)
    if masks is not None and not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict of bool tensors or None, got {type(masks).__name__}")
    out = {}
    for name, m in layers.items():
        w = m.weight.detach()
        old = masks[name] if masks is not None and name in masks else torch.ones_like(w, dtype=torch.bool)
        if isinstance(quality, dict) and name not in quality:
            out[name] = old.clone()
            continue
        alive = w[old]
        std = alive.std() if alive.numel() > 1 else torch.tensor(0.0)
        out[name] = old & (w.abs() > _quality_of(quality, name) * std)
    return out


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


def iterative_prune_(model, schedule, train_loader, val_loader=None, epochs=3, lr=0.01, **fit_kwargs):
    """Prune ``model`` in place: for each quality in ``schedule`` (a list of numbers or of
    per-layer dicts) prune with :func:`magnitude_masks`, then retrain ``epochs`` epochs with
    :func:`course_lib.train.fit` under :func:`masked_gradients`. Returns ``(masks, history)``,
    history being one list of epoch rows per step.
    """
    if not isinstance(schedule, (list, tuple)) or not schedule:
        raise ValueError(f"schedule must be a non-empty list of qualities, got {schedule!r}")
    masks, history = None, []
    for quality in schedule:
        masks = magnitude_masks(model, quality, masks)
        apply_masks_(model, masks)
        with masked_gradients(model, masks):
            history.append(train.fit(model, train_loader, val_loader, epochs=epochs, lr=lr, desc="retrain",
                                     **fit_kwargs))
    return masks, history
