"""Recording what the units of prunable layers produce, reduced batch by batch.

Data-driven criteria (Taylor, APoZ, HRank, ...) all read the same thing: the tensor a layer's
units produce on real images, sometimes with the gradient of the loss with respect to it. They
differ only in where they read it (the *tap*) and how they reduce it to one number per unit.
:func:`record` does the reading once for all of them:

- ``tap="output"``: the layer's own output (a conv's pre-BatchNorm map, a linear layer's
  pre-activation), what Molchanov et al.'s Taylor criterion multiplies by its gradient;
- ``tap="activation"``: the output of the BatchNorm and activation directly after the layer
  (:class:`~course_lib.pruning.surgery.Group` ``.activation``), what APoZ and HRank read;
- ``tap="consumer"``: the consumer's input for these units (after pooling and flattening), what
  ThiNet reconstructs (not for a layer whose units are maxout pieces: its consumer sees units);
- ``tap="maxout"``: the input of the Maxout after the layer, its pieces' values, what maxout
  neuron pruning counts wins on;
- ``tap="input"``: the layer's own input, (N, in_features) or (N, C_in, H, W) as it arrives,
  for statistics of *connections* (a unit's output is the layer's weights applied to it).

Every other tapped tensor reaches ``reduce`` as ``(N, units, ...)``: (N, C, H, W) for conv maps,
(N, units, 1) for linear outputs, (N, C, H*W) for a conv's units flattened into a linear consumer.
The ``"input"`` and ``"output"`` taps also read the network's last layer, which has no consumer
and so no group.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import config
from ..validate import check_model, eval_mode, positive_int
from .surgery import dependencies

TAPS = ("output", "activation", "consumer", "maxout", "input")
OWN = ("output", "input")  # the taps read at the layer itself, which any Conv2d or Linear has


def _per_unit(t, units):
    """``t`` as (N, units, ...): linear outputs get a trailing axis, flattened maps are unfolded."""
    if t.dim() == 2:
        return t.view(t.shape[0], units, -1) if t.shape[1] != units else t.unsqueeze(-1)
    return t


def _tap_module(name, group, tap):
    """The module whose output (or, for the consumer, input) is read, and whether it is the input."""
    if tap in OWN:
        return name, tap == "input"
    if tap == "activation":
        return group.activation, False
    if tap == "maxout":
        return group.maxout, True
    return group.consumer, True


def record(model, loader, layers, reduce, tap="output", gradient=False, batches=None, device=None,
           desc="record"):
    """Run ``model`` over ``loader`` and reduce, batch by batch, what each layer's units produce.

    ``layers``: names of prunable layers (keys of :func:`~course_lib.pruning.surgery.dependencies`;
    with the ``"input"`` and ``"output"`` taps any Conv2d or Linear, the last layer too);
    ``tap``: one of :data:`TAPS` (see the module docstring). ``reduce(a, g)`` (or ``{layer:
    reduce}``, one per layer, when the reduction depends on the layer) gets the tapped
    tensor ``a`` of one batch as (N, units, ...) and, with ``gradient=True``, ``g`` of the same
    shape, the gradient of the batch's *summed* cross-entropy with respect to ``a`` (so each image
    contributes the gradient of its own loss), else ``None``; it returns a (units,) tensor summed
    over the batch's images, a (units, inputs) tensor, one value per connection (``inputs`` = the
    layer weight's second dimension), or None when it keeps what it needs itself (ThiNet's sampler).
    ``batches`` limits how many batches are read (default: all).

    Returns ``{name: tensor}``, (units,) or (units, inputs): the sum of ``reduce`` over the batches
    divided by the number of images, i.e. a mean per image (no entry for a layer whose ``reduce``
    returned None). Nothing but one batch's tapped tensors is held at a time. The model is not changed: it runs in eval mode (dropout off, BatchNorm statistics
    frozen), its training flags are restored and the hooks removed afterwards even when a batch
    raises; gradients are taken with ``torch.autograd.grad`` so no ``.grad`` is written and no
    ``requires_grad`` is touched.
    """
    check_model(model)
    if tap not in TAPS:
        raise ValueError(f"tap must be one of {TAPS}, got {tap!r}")
    if batches is not None:
        positive_int(batches, "batches")
    if isinstance(layers, str) or not layers:
        raise ValueError(f"layers must be a non-empty list of layer names, got {layers!r}")
    reducers = reduce if isinstance(reduce, dict) else {name: reduce for name in layers}
    if set(reducers) != set(layers) or not all(callable(r) for r in reducers.values()):
        raise TypeError("reduce must be a callable (a, g) -> (units,) tensor, or a dict {layer: callable} "
                        f"for exactly the layers, got {reduce!r}")
    device = device or config.device()
    totals, images, groups, taps = {}, 0, None, _Taps()
    try:
        with eval_mode(model):
            for i, (x, y) in enumerate(config.progress(config.limit(loader), desc=desc, total=batches)):
                if batches is not None and i >= batches:
                    break
                x, y = x.to(device), y.to(device)
                if groups is None:  # the layout, traced once from the first batch's sample shape
                    groups, modules = dependencies(model, tuple(x.shape[1:])), dict(model.named_modules())
                    unknown = [name for name in layers if name not in groups and not (
                        tap in OWN and isinstance(modules.get(name), (nn.Conv2d, nn.Linear)))]
                    if unknown:
                        raise ValueError(f"layers: {unknown} are not prunable layers; those are {list(groups)}")
                    _check_tap(groups, layers, tap)
                    taps.register(model, groups, layers, tap)
                    shapes = {name: tuple(modules[name].weight.shape[:2]) for name in layers}
                with torch.enable_grad() if gradient else torch.no_grad():
                    out = model(x.detach().requires_grad_(True) if gradient else x)
                    grads = [None] * len(layers)
                    if gradient:
                        loss = F.cross_entropy(out, y, reduction="sum")
                        grads = torch.autograd.grad(loss, [taps.tensors[name] for name in layers], allow_unused=True)
                with torch.no_grad():
                    for name, g in zip(layers, grads):
                        a = taps.tensors[name]
                        if gradient and g is None:
                            g = torch.zeros_like(a)
                        units = shapes[name][0]
                        if tap != "input":  # the layer's input stays as it arrives
                            a, g = _per_unit(a, units), None if g is None else _per_unit(g, units)
                        value = reducers[name](a.detach(), g)
                        if value is None:
                            continue
                        if not isinstance(value, torch.Tensor) or value.shape not in ((units,), shapes[name]):
                            raise ValueError(f"reduce must return a ({units},) tensor or one value per connection "
                                             f"{shapes[name]} for layer {name!r}, got "
                                             f"{getattr(value, 'shape', type(value).__name__)}")
                        totals[name] = totals.get(name, 0) + value.detach().double()
                images += len(x)
    finally:
        taps.remove()
    if not images:
        raise ValueError("loader must yield at least one batch")
    return {name: (total / images).float().cpu() for name, total in totals.items()}


def _check_tap(groups, layers, tap):
    """ValueError when ``tap`` does not read the units of every layer: "maxout" needs a Maxout
    after the layer, "consumer" must not have one (the consumer sees maxout units, not pieces)."""
    with_maxout = [name for name in layers if name in groups and groups[name].maxout is not None]
    if tap == "maxout" and len(with_maxout) < len(layers):
        without = [name for name in layers if name not in with_maxout]
        raise ValueError(f"tap 'maxout': layers {without} have no Maxout after them")
    if tap == "consumer" and with_maxout:
        raise ValueError(f"tap 'consumer': the consumers of {with_maxout} see maxout units, not these layers' units")


class _Taps:
    """Forward hooks that keep each layer's tapped tensor of the current batch."""

    def __init__(self):
        self.tensors, self.handles = {}, []

    def register(self, model, groups, layers, tap):
        """One hook per layer at its tap. A hook hands the network a *clone* of the tapped tensor,
        so an in-place module downstream (``ReLU(inplace=True)``) cannot overwrite the values we
        read, and the gradient taken with respect to the original is the tap's own."""
        modules = dict(model.named_modules())
        for name in layers:
            target, is_input = _tap_module(name, groups.get(name), tap)

            def keep(t, name=name):
                self.tensors[name] = t
                return t.clone()

            if is_input:
                hook = modules[target].register_forward_pre_hook(lambda mod, args, keep=keep: (keep(args[0]),))
            else:
                hook = modules[target].register_forward_hook(lambda mod, args, out, keep=keep: keep(out))
            self.handles.append(hook)

    def remove(self):
        for handle in self.handles:
            handle.remove()
        self.handles, self.tensors = [], {}
