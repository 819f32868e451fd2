"""Criteria: how important is each output unit (conv filter or linear neuron) of a layer?

The shared interface every criterion of the course follows (L1 and L2 here; Taylor, APoZ,
HRank, ... in later notebooks):

    criterion(model, layers, **options) -> {name: scores}

``layers`` are qualified names of prunable layers (the keys of
:func:`course_lib.pruning.surgery.dependencies`); ``scores`` is a 1-D float tensor with one entry
per output unit of that layer, **higher = more important**. A criterion never changes the model.
Data-driven criteria take their data through ``options`` (e.g. ``loader=...``); bind them with
``functools.partial`` to pass them where a two-argument criterion is expected.
"""
import torch
import torch.nn as nn

from .. import config
from ..validate import check_model
from .activations import record


def _layers(model, layers):
    """``{name: module}`` for ``layers``; TypeError/ValueError when a name is not a Conv2d/Linear."""
    check_model(model)
    if isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
        raise TypeError(f"layers must be a list of layer names, got {layers!r}")
    modules = dict(model.named_modules())
    for name in layers:
        if not isinstance(modules.get(name), (nn.Conv2d, nn.Linear)):
            raise ValueError(f"layers: {name!r} is not a Conv2d or Linear of the model")
    return {name: modules[name] for name in layers}


def filter_norms(weight, p=1):
    """The ``p``-norm of each output unit's weights: weight (out, in, kh, kw) or (out, in) -> (out,).

    With p=1 this is Li et al.'s s_j = sum |W_j| (the sum of the filter's absolute kernel weights).
    """
    if not isinstance(weight, torch.Tensor) or weight.dim() < 2:
        raise ValueError(f"weight must be a tensor of shape (out, in, ...), got {getattr(weight, 'shape', weight)!r}")
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    return weight.detach().flatten(1).norm(p=p, dim=1)


def l1_norm(model, layers):
    """Li et al. 2016: the L1 norm of each filter (sum of absolute weights), per layer."""
    return {name: filter_norms(m.weight, 1) for name, m in _layers(model, layers).items()}


def l2_norm(model, layers):
    """The L2 norm of each filter, per layer."""
    return {name: filter_norms(m.weight, 2) for name, m in _layers(model, layers).items()}


def random_scores(model, layers, seed=0):
    """Uniform random scores: the baseline every criterion must beat. Same ``seed`` (and ``COURSE_SEED``), same scores."""
    gen = config.generator(seed)  # validates seed; shifted by COURSE_SEED
    return {name: torch.rand(m.weight.shape[0], generator=gen) for name, m in _layers(model, layers).items()}


def nonzero_fraction(model, layers, loader, batches=None, device=None):
    """1 - APoZ (Hu et al. 2016): per unit, the fraction of its post-activation outputs (after
    its BatchNorm and ReLU, :func:`~course_lib.pruning.activations.record`'s ``"activation"``
    tap) that are non-zero, over the images of ``loader`` (the first ``batches`` batches). A unit
    that a ReLU silences almost always scores near 0 and goes first."""
    _layers(model, layers)
    return record(model, loader, layers, lambda a, g: (a != 0).flatten(2).float().mean(2).sum(0),
                  tap="activation", batches=batches, device=device, desc="APoZ")
