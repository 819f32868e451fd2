"""ThiNet (Luo, Wu & Lin 2017): prune the channels of layer i that layer i+1 can best do without.

Layer i's output channels are layer i+1's input channels. Every output value of layer i+1 (minus
its bias) is a sum over those channels, y = sum_c x_c, with x_c the contribution of channel c:
its kernel window of layer i+1's weights times the input patch of channel c (for a linear layer
after flattening, channel c's block of H*W features times their weights). ThiNet

1. samples such values on real images (:func:`contributions`): rows x = (x_1, ..., x_C), y = sum(x);
2. removes channels greedily (:func:`greedy_removal`): each step the channel j that keeps the
   removed set's summed contribution sum_{t in T + j} x_t smallest on the samples;
3. rescales the kept channels (:func:`rescale_weights`): w = argmin_w ||y - X_S w||^2, folded into
   layer i+1's weights per kept input channel;
4. removes the channels with the shared surgery, layer after layer (:func:`thinet_prune`).
"""
import copy

import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import config, measure
from ..validate import check_model, check_shape, fraction, positive_int
from .activations import record
from .loop import history_row
from .plan import n_keep
from .surgery import dependencies, prune_


def norm_scale(model, groups, name):
    """Per output unit of layer ``name``, the factor gamma / sqrt(var + eps) of the BatchNorm right
    after it, as a (units,) tensor (all ones when none follows or the layer has no group)."""
    norms = groups[name].norms if name in groups else ()
    layer = model.get_submodule(name)
    if not norms:
        return torch.ones(layer.weight.shape[0])
    bn = model.get_submodule(norms[0])
    weight = bn.weight.detach() if bn.affine else torch.ones_like(bn.running_var)
    return (weight / torch.sqrt(bn.running_var + bn.eps)).cpu()


def contributions(model, layer, loader, positions=10, batches=None, seed=0, after_norm=True, device=None):
    """ThiNet's training examples for ``layer``'s channels, read on the images of ``loader``.

    For each image, ``positions`` random (output unit, location) pairs of the consumer (layer
    i+1) are drawn; for each pair, the contribution of every input channel c of the consumer
    (= output channel of ``layer``): x_c = sum over the kernel window of W[k, c] * the input
    patch of channel c (a linear consumer after flattening: over channel c's block of features).

    With ``after_norm`` and a BatchNorm after the consumer, each sample is multiplied by that
    BatchNorm's factor gamma_k / sqrt(var_k + eps) for its unit k: the errors are then measured
    where the network uses them, after normalisation, as ThiNet would measure them on the same
    network with its BatchNorms folded into the convs (unit k's output is then scaled by that
    factor). Without it a unit whose raw outputs are large dominates the fit.

    Returns ``(x, y, where)``: x (n, C) float64 with n = images * positions, y = x.sum(1) (n,),
    the consumer's output minus its bias at the samples (times the BatchNorm factor), and where (n, 3) long: (image index in
    loader order, output unit, location index in the consumer's output map, 0 for a linear).
    The model is not changed.
    """
    check_model(model)
    positive_int(positions, "positions")
    first = next(iter(loader), None)
    if first is None:
        raise ValueError("loader must yield at least one batch")
    groups = dependencies(model, tuple(first[0].shape[1:]))
    if layer not in groups:
        raise ValueError(f"layer must be a prunable layer (a producer with a consumer) {list(groups)}, got {layer!r}")
    consumer = model.get_submodule(groups[layer].consumer)
    factor = norm_scale(model, groups, groups[layer].consumer) if after_norm else torch.ones(consumer.weight.shape[0])
    gen, rows, seen = config.generator(seed), [], [0]

    def sample(a, g):  # a: the consumer's input, (N, C, H, W) for a conv, (N, C, block) for a linear
        n, c = a.shape[:2]
        weight = consumer.weight.detach()
        if isinstance(consumer, nn.Conv2d):
            patches = F.unfold(a, consumer.kernel_size, consumer.dilation, consumer.padding, consumer.stride)
        else:
            patches = a.reshape(n, -1, 1)  # one "location": the whole flattened input
        image = torch.arange(n).repeat_interleave(positions)
        unit = torch.randint(weight.shape[0], (n * positions,), generator=gen)
        where = torch.randint(patches.shape[2], (n * positions,), generator=gen)
        picked = patches[image.to(a.device), :, where.to(a.device)].view(n * positions, c, -1)
        w = weight[unit.to(a.device)].reshape(n * positions, c, -1)
        x = (picked * w).sum(2).double().cpu() * factor[unit, None].double()
        rows.append((x, torch.stack([image + seen[0], unit, where], 1)))
        seen[0] += n
        return None

    record(model, loader, [layer], sample, tap="consumer", batches=batches, device=device, desc="ThiNet samples")
    x = torch.cat([r[0] for r in rows])
    return x, x.sum(1), torch.cat([r[1] for r in rows])


def greedy_removal(x):
    """ThiNet's greedy channel selection on contributions ``x`` (n, C).

    Step t removes the channel j that keeps ||sum_{t in T + j} x_t||^2 smallest (T: the channels
    removed so far), for all candidates at once: ||s + x_j||^2 = ||s||^2 + 2 s.x_j + ||x_j||^2.
    Returns ``(order, error)``: order (C,) long, the channels in the order they are removed
    (so the greedy set for any |T| is ``order[:|T|]``); error (C,) float64, the mean squared
    reconstruction error sum_i (sum_{t in T} x_it)^2 / n after each step.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[0] == 0 or x.shape[1] < 2:
        raise ValueError(f"x must be an (n, C) tensor of contributions with n >= 1 and C >= 2, "
                         f"got {getattr(x, 'shape', type(x).__name__)}")
    x = x.double()
    energy, s = (x * x).sum(0), torch.zeros(x.shape[0], dtype=torch.float64)
    left = torch.ones(x.shape[1], dtype=torch.bool)
    order, error = [], []
    for _ in config.progress(range(x.shape[1]), desc="ThiNet greedy"):
        cost = torch.where(left, 2 * (s @ x) + energy, torch.inf)
        j = int(cost.argmin())
        s, left[j] = s + x[:, j], False
        order.append(j)
        error.append(float(s @ s) / x.shape[0])
    return torch.tensor(order), torch.tensor(error, dtype=torch.float64)


def rescale_weights(x, kept):
    """ThiNet's least-squares scaling of the kept channels: w = argmin_w ||y - x[:, kept] w||^2
    with y = x.sum(1) (``torch.linalg.lstsq``). ``x`` (n, C); ``kept`` channel indices.
    Returns ``(w, error)``: w (len(kept),) float32 and the mean squared error left, ||y - X_S w||^2 / n."""
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        raise ValueError(f"x must be an (n, C) tensor, got {getattr(x, 'shape', type(x).__name__)}")
    kept = torch.as_tensor(kept, dtype=torch.long)
    if kept.dim() != 1 or kept.numel() == 0 or kept.min() < 0 or kept.max() >= x.shape[1]:
        raise ValueError(f"kept must be a non-empty 1-D list of channel indices in 0..{x.shape[1] - 1}, got {kept.tolist()}")
    x = x.double()
    y, xs = x.sum(1), x[:, kept]
    w = torch.linalg.lstsq(xs, y[:, None]).solution[:, 0]
    residual = y - xs @ w
    return w.float(), float(residual @ residual) / x.shape[0]


def scale_inputs_(consumer, w, block=1):
    """Multiply the consumer's weights of input channel c by w[c], in place (w: (channels,));
    ``block`` input features per channel (H*W after flattening a conv's maps into a linear)."""
    if not isinstance(consumer, (nn.Conv2d, nn.Linear)):
        raise TypeError(f"consumer must be a Conv2d or Linear, got {type(consumer).__name__}")
    per_feature = torch.as_tensor(w, dtype=consumer.weight.dtype).repeat_interleave(block).to(consumer.weight.device)
    if per_feature.numel() != consumer.weight.shape[1]:
        raise ValueError(f"w must hold one factor per input channel ({consumer.weight.shape[1] // block}), "
                         f"got {torch.as_tensor(w).numel()}")
    with torch.no_grad():
        consumer.weight.mul_(per_feature.view(1, -1, *[1] * (consumer.weight.dim() - 2)))


def thinet_prune(model, ratios, loader, input_shape, rescale=True, fine_tune=None, eval_loader=None,
                 positions=10, batches=None, select=None, seed=0, after_norm=True, device=None):
    """ThiNet over a network: for each layer of ``ratios`` ({layer: fraction of its channels to
    REMOVE}, in forward order), take samples on the network as pruned so far, choose the channels
    greedily, fold the least-squares scaling into the consumer (``rescale``), remove the others
    with the surgery, then ``fine_tune(model)`` (None: none). ``model`` itself is not changed.

    ``select(model, layer, x, n_remove)`` -> channels to remove replaces the greedy choice (e.g.
    the smallest L1 norms, to see what the reconstruction adds); ``positions``, ``batches``, ``seed``,
    ``after_norm`` as for :func:`contributions`; ``eval_loader``: accuracy in the history.

    Returns a :class:`~course_lib.measure.Result`: ``model`` the pruned network; ``history`` a
    DataFrame, one row per layer (row 0 = "original") with the layer pruned, its reconstruction
    error on the samples relative to ||y||^2 (after rescaling when ``rescale``), and
    :func:`~course_lib.pruning.loop.history_row`'s measures; ``kept`` the plan, ``{layer: sorted
    original indices of the channels kept}``.
    """
    check_model(model)
    input_shape = check_shape(input_shape)
    if not isinstance(ratios, dict) or not ratios:
        raise TypeError(f"ratios must be a non-empty dict {{layer name: fraction to remove}}, got {ratios!r}")
    for name, r in ratios.items():
        fraction(r, f"ratios: the prune ratio of {name!r}", zero=False)
    if any(f is not None and not callable(f) for f in (fine_tune, select)):
        raise TypeError("fine_tune and select must be callables or None")
    groups = dependencies(model, input_shape)
    order = [name for name in groups if name in ratios]
    if len(order) != len(ratios):
        raise ValueError(f"ratios name layers that are not prunable: {sorted(set(ratios) - set(groups))}; "
                         f"those are {list(groups)}")
    pruned = copy.deepcopy(model)
    first = history_row(pruned, input_shape, eval_loader, device=device)
    rows, kept = [{"layer": "original", "relative error": 0.0, **first}], {}
    for name in config.progress(order, desc="ThiNet layers"):
        x, y, _ = contributions(pruned, name, loader, positions=positions, batches=batches, seed=seed,
                                after_norm=after_norm, device=device)
        n_remove = groups[name].units - n_keep(groups[name].units, ratios[name])
        removed = greedy_removal(x)[0][:n_remove] if select is None else torch.as_tensor(select(pruned, name, x, n_remove))
        keep = torch.tensor(sorted(set(range(x.shape[1])) - set(removed.flatten().tolist())))
        if removed.dim() != 1 or len(removed) != n_remove or len(keep) != x.shape[1] - n_remove:
            raise ValueError(f"select must return {n_remove} distinct channel indices of layer {name!r} "
                             f"in 0..{x.shape[1] - 1}, got {removed.tolist()}")
        if rescale:
            w, error = rescale_weights(x, keep)
        else:
            w, error = None, float(x[:, removed].sum(1).pow(2).mean())
        prune_(pruned, {name: keep}, input_shape)
        if w is not None:
            scale_inputs_(pruned.get_submodule(groups[name].consumer), w, groups[name].block)
        kept[name] = keep
        if fine_tune is not None:
            fine_tune(pruned)
        rows.append({"layer": name, "relative error": error / float(y.pow(2).mean()),
                     **history_row(pruned, input_shape, eval_loader, device=device, first=first)})
    return measure.Result(pruned, pd.DataFrame(rows), kept)
