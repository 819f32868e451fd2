"""Criteria: how important is each output unit (conv filter or linear neuron) of a layer?

The shared interface every criterion of the course follows (L1, L2, Taylor, mean activation,
APoZ, HRank and the oracle):

    criterion(model, layers, **options) -> {name: scores}

``layers`` are qualified names of prunable layers (the keys of
:func:`course_lib.pruning.surgery.dependencies`); ``scores`` is a 1-D float tensor with one entry
per output unit of that layer, **higher = more important**. A criterion never changes the model.
Data-driven criteria take their data through ``options`` (e.g. ``loader=...``); bind them with
``functools.partial`` to pass them where a two-argument criterion is expected.
"""
import torch
import torch.nn as nn
from scipy.stats import spearmanr

from .. import config, train
from ..validate import check_model, check_shape, positive_int
from .activations import record
from .plan import normalised
from .surgery import PRUNABLE, dependencies


def _layers(model, layers):
    """``{name: module}`` for ``layers``; TypeError/ValueError when a name is not a Conv2d/Linear."""
    check_model(model)
    if isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
        raise TypeError(f"layers must be a list of layer names, got {layers!r}")
    modules = dict(model.named_modules())
    for name in layers:
        if not isinstance(modules.get(name), PRUNABLE):
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


def aaws(model, layers):
    """Average absolute weight sum (the gradually-global poster): each unit's L1 norm divided by
    its number of weights, per layer. Within a layer it orders the units exactly as
    :func:`l1_norm` does; it differs only when units of layers with other filter sizes are
    ranked together."""
    return {name: filter_norms(m.weight, 1) / m.weight[0].numel()
            for name, m in _layers(model, layers).items()}


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


def taylor(model, layers, loader, batches=None, device=None):
    """Molchanov et al. 2017's first-order Taylor criterion, per unit:
    Theta = mean over images of | mean over positions of (activation x d loss / d activation) |.

    The "activation" is the layer's own output (the conv's map before BatchNorm and ReLU,
    :func:`~course_lib.pruning.activations.record`'s ``"output"`` tap), where Gildenblat's code
    reads it; without BatchNorm, reading it after the ReLU gives the same scores. The absolute
    value is taken per image, as the paper computes the criterion for each example and then
    averages: signs that differ between images do not cancel. Ranked in eval mode (dropout off).
    Scale Theta per layer (``plan_global(normalise="l2")``) before ranking globally.
    """
    _layers(model, layers)
    return record(model, loader, layers, lambda a, g: (a * g).flatten(2).mean(2).abs().sum(0),
                  tap="output", gradient=True, batches=batches, device=device, desc="Taylor")


def mean_activation(model, layers, loader, batches=None, device=None):
    """Per unit, the mean of its post-activation output (after its BatchNorm and ReLU) over
    images and positions: Molchanov et al.'s "mean activation" baseline."""
    _layers(model, layers)
    return record(model, loader, layers, lambda a, g: a.flatten(2).mean(2).sum(0),
                  tap="activation", batches=batches, device=device, desc="mean activation")


def std_activation(model, layers, loader, batches=None, device=None):
    """Per unit, the standard deviation of its post-activation output (after its BatchNorm and
    ReLU) over images and positions: the gradually-global poster's sigma(R). A unit whose output
    hardly varies passes on little the next layer can use. Two passes over ``loader``."""
    _layers(model, layers)
    first = mean_activation(model, layers, loader, batches, device)
    second = record(model, loader, layers, lambda a, g: a.pow(2).flatten(2).mean(2).sum(0),
                    tap="activation", batches=batches, device=device, desc="std activation")
    return {name: (second[name] - first[name].pow(2)).clamp_min(0).sqrt() for name in layers}


def bn_scale(model, layers, input_shape):
    """Network slimming (Liu et al. 2017): per unit, |gamma| of the BatchNorm right after the
    layer, the factor that scales the unit's normalised output. Training with an L1 penalty on
    the gammas drives the unneeded ones to zero. ``input_shape`` (C, H, W) finds each layer's
    BatchNorm; a layer without one is a ValueError."""
    modules = _layers(model, layers)
    groups = dependencies(model, check_shape(input_shape))
    missing = [name for name in modules if name not in groups or not groups[name].norms]
    if missing:
        raise ValueError(f"layers: {missing} have no BatchNorm after them")
    all_modules = dict(model.named_modules())
    return {name: all_modules[groups[name].norms[0]].weight.detach().abs().clone() for name in modules}


def win_fraction(model, layers, loader, batches=None, device=None, keep_best=False):
    """Rueda et al. 2017's local relevance of a maxout piece: the fraction of its unit's
    competitions (one per image and position) that it wins, on the images of ``loader`` (the first
    ``batches`` batches). The pieces of a unit share 1 between them; a piece that never wins
    changes nothing when removed. Every layer must be followed by a Maxout (the ``"maxout"`` tap).
    ``keep_best=True`` scores each unit's most winning piece +inf, so that :func:`plan_global`
    (with ``normalise=None``) removes rarely winning pieces but never a unit's last one.
    Returns ``{layer: (pieces,) float tensor}`` of fractions in [0, 1] (+inf where protected).
    ``loader`` is read twice (its first batch gives the input shape): a DataLoader or a list.
    """
    _layers(model, layers)
    if not isinstance(keep_best, bool):
        raise TypeError(f"keep_best must be True or False, got {keep_best!r}")
    batch = next(iter(loader), None)
    if batch is None:
        raise ValueError("loader must yield at least one batch")
    groups, modules = dependencies(model, tuple(batch[0].shape[1:])), dict(model.named_modules())
    missing = [name for name in layers if name not in groups or groups[name].maxout is None]
    if missing:
        raise ValueError(f"layers: {missing} are not followed by a Maxout")
    reducers = {name: lambda a, g, m=modules[groups[name].maxout]: m.wins(a).float() / a[0, 0].numel()
                for name in layers}
    wins = record(model, loader, layers, reducers, tap="maxout", batches=batches, device=device, desc="wins")
    if keep_best:
        for name, w in wins.items():
            ends = torch.tensor(modules[groups[name].maxout].pieces).cumsum(0).tolist()
            for start, end in zip([0] + ends[:-1], ends):
                w[start + int(w[start:end].argmax())] = float("inf")  # ties: the first piece
    return wins


def feature_map_ranks(maps, rtol=None):
    """The rank of every H x W matrix of ``maps`` (..., H, W): an int64 tensor of shape (...).

    One batched ``torch.linalg.matrix_rank`` call (an SVD per map, no Python loop). A singular
    value counts when it exceeds ``rtol`` x the map's largest one; the default, max(H, W) x the
    float32 machine epsilon (about 1.2e-7), is torch's own, the tolerance HRank's code used
    (``torch.matrix_rank`` on float32 maps). Maps are taken in float32; an all-zero map has rank 0.
    """
    if not isinstance(maps, torch.Tensor) or not maps.is_floating_point():
        raise TypeError(f"maps must be a floating-point tensor, got {getattr(maps, 'dtype', type(maps).__name__)}")
    if maps.dim() < 2 or maps.shape[-1] == 0 or maps.shape[-2] == 0:
        raise ValueError(f"maps must have shape (..., H, W) with H, W >= 1, got {tuple(maps.shape)}")
    if rtol is not None and (isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 <= rtol < 1):
        raise ValueError(f"rtol must be None or a number in [0, 1), got {rtol!r}")
    return torch.linalg.matrix_rank(maps.detach().float(), rtol=rtol)


def hrank(model, layers, loader, batches=None, rtol=None, device=None):
    """Lin et al. 2020's HRank criterion, per filter: the mean over images of the rank of its
    feature map, read after the filter's BatchNorm and ReLU (the ``"activation"`` tap of
    :func:`~course_lib.pruning.activations.record`, as the paper does). A map of low rank is a
    sum of few rank-one maps: little information, so the filter goes first.

    Conv layers only (a linear unit's "map" is one number). ``rtol``: see
    :func:`feature_map_ranks`. Over the first ``batches`` batches of ``loader`` (default: all).
    """
    modules = _layers(model, layers)
    not_conv = [name for name, m in modules.items() if not isinstance(m, nn.Conv2d)]
    if not_conv:
        raise ValueError(f"layers: HRank scores conv layers only, got {not_conv}")
    feature_map_ranks(torch.zeros(1, 1), rtol)  # checks rtol before any data is read
    return record(model, loader, layers, lambda a, g: feature_map_ranks(a, rtol).sum(0),
                  tap="activation", batches=batches, device=device, desc="HRank")


def oracle_loss_change(model, layers, loader, batches=None, device=None):
    """The oracle the criteria approximate: per unit, |C(D, unit removed) - C(D)|, the change of
    the mean cross-entropy over the images of ``loader`` (the first ``batches`` batches) when the
    unit's output is set to zero. It is zeroed after its BatchNorm and activation (the group's
    ``activation``), which is exactly removing the unit (cutting its outgoing connections).

    Costs one pass over the data per unit. Runs in eval mode; the model is not changed.
    """
    modules = _layers(model, layers)
    if batches is not None:
        positive_int(batches, "batches")
    device = device or config.device()
    batch_list = []
    for i, (x, y) in enumerate(config.limit(loader)):
        if batches is not None and i >= batches:
            break
        batch_list.append((x.to(device), y.to(device)))
    if not batch_list:
        raise ValueError("loader must yield at least one batch")
    groups = dependencies(model, tuple(batch_list[0][0].shape[1:]))
    if any(name not in groups for name in modules):
        raise ValueError(f"layers must be prunable layers (with a consumer) {list(groups)}, got {layers!r}")

    def mean_loss():  # in eval mode, without gradients; the model's flags are restored
        return train.evaluate(model, batch_list, device)["loss"]

    scores, all_modules, base = {}, dict(model.named_modules()), mean_loss()
    for name in config.progress(modules, desc="oracle"):
        tap = all_modules[groups[name].activation]
        changes = torch.zeros(groups[name].units)  # the fast development run visits a few units only
        for k in range(min(groups[name].units, config.FAST_DEV_UNITS) if config.fast_dev_run() else groups[name].units):
            def zero(mod, args, out, k=k):
                out = out.clone()
                out[:, k] = 0
                return out
            handle = tap.register_forward_hook(zero)
            try:
                changes[k] = abs(mean_loss() - base)
            finally:
                handle.remove()
        scores[name] = changes
    return scores


# Every criterion by the name a student searches for. "apoz" is Hu et al.'s average percentage of
# zeros returned as 1 - APoZ (nonzero_fraction), so that higher = more important, as everywhere here.
CRITERIA = {"l1": l1_norm, "l2": l2_norm, "aaws": aaws, "apoz": nonzero_fraction,
            "mean_activation": mean_activation, "std_activation": std_activation, "taylor": taylor, "hrank": hrank,
            "bn_scale": bn_scale, "wins": win_fraction, "random": random_scores, "oracle": oracle_loss_change}


def agreement(scores, reference, normalise="l2"):
    """How well ``scores`` ({layer: (units,) tensor}) order the units as ``reference`` does (e.g.
    the oracle's loss changes): Spearman's rank correlation per layer, and pooled over the
    network ("all together": every layer's ``scores`` rescaled by :func:`normalised` with
    ``normalise``, as a global ranking compares them, against the ``reference`` values as they
    are). Returns ``{layer: rho, ..., "all together": rho}``; rho is NaN for a constant layer.
    """
    if not isinstance(scores, dict) or not isinstance(reference, dict) or not reference:
        raise TypeError("scores and reference must be dicts {layer: 1-D tensor of scores}")
    if set(scores) != set(reference):
        raise ValueError(f"scores and reference must name the same layers, got {sorted(scores)} and {sorted(reference)}")
    bad = [n for n in reference if scores[n].shape != reference[n].shape or scores[n].dim() != 1]
    if bad:
        raise ValueError(f"scores and reference must hold one 1-D tensor of the same length per layer; differ in {bad}")
    rescaled = normalised(scores, normalise)
    rho = {n: float(spearmanr(reference[n], scores[n]).statistic) for n in reference}
    rho["all together"] = float(spearmanr(torch.cat([reference[n] for n in reference]),
                                          torch.cat([rescaled[n] for n in reference])).statistic)
    return rho
