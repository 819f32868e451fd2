"""Physical structured pruning of chain networks: remove output filters of a ``Conv2d`` (or
output neurons of a ``Linear``) together with every tensor coupled to them.

Removing filter k of a conv changes a *group* of coupled tensors, not one layer:

- ``conv.weight[k]`` and ``conv.bias[k]``: the filter itself;
- channel k of every ``BatchNorm`` that follows (weight, bias, running mean and variance);
- input channel k of the next conv, ``next.weight[:, k]``; or, when the next layer is a
  ``Linear`` after pooling and flattening, its S = H*W input features ``k*S .. k*S+S-1``
  (flattening an (N, C, H, W) tensor lays channel k out as one block of H*W features).

Removing neuron k of a ``Linear`` removes row k (and bias k) and input column k of the next ``Linear``.

Between a layer and its consumer there may be one :class:`~course_lib.models.maxout.Maxout`:
then the layer's units are the maxout's *pieces*. Removing a piece shrinks its maxout unit; the
consumer loses its input for a unit only when the unit's last piece goes.

The surgery follows *chains*: every module feeds the next one only (``nn.Sequential`` stacks
and the VGG / LeNet layout features -> pool -> flatten -> classifier). It refuses, with a
``ValueError``, graphs it cannot follow (residual adds, concatenations, grouped or depthwise
convs, reused modules); use torch-pruning's ``DependencyGraph`` for those.

A *plan* is ``{layer name: indices of the output units to KEEP}``; layers absent from the plan
are left whole. Build one with :mod:`course_lib.pruning.plan`.
"""
import copy
import itertools
from collections import namedtuple

import torch
import torch.nn as nn

from ..models.maxout import Maxout
from ..validate import check_model, check_shape, eval_mode

PRUNABLE = (nn.Conv2d, nn.Linear)  # the layers whose output units (filters, neurons) the course prunes
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid,
               nn.Hardtanh, nn.Hardswish)
# Modules that keep channel k in channel k (elementwise, per-channel pooling) or lay it out as
# one block of features (Flatten of an (N, C, H, W) tensor).
PASS_THROUGH = ACTIVATIONS + (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
                              nn.Dropout, nn.Dropout2d, nn.Flatten, nn.Identity)
DEPGRAPH_HINT = ("this surgery follows chains only; for other graphs use torch-pruning: "
                 "tp.DependencyGraph().build_dependency(model, example_inputs)")

Step = namedtuple("Step", "name module in_shape out_shape")
Group = namedtuple("Group", "layer norms consumer block units chain activation maxout")
Group.__doc__ = """The tensors coupled to the output units of ``layer`` (qualified names):
``norms`` the BatchNorms in between, ``consumer`` the next Conv2d/Linear, ``block`` how many
input features of the consumer belong to one unit (1, or H*W after flattening a conv's output),
``units`` the layer's output units, ``chain`` every module between the layer and its consumer in
forward order, ``activation`` the last BatchNorm or activation directly after the layer (the
layer's name when none follows): where "what a unit produces" is read after normalisation;
``maxout`` the Maxout in between (its pieces are the layer's units), or None."""


def _refuse(name, problem):
    raise ValueError(f"layer {name!r}: {problem}; {DEPGRAPH_HINT}")


def _record_calls(model, x):
    """Run ``x`` through ``model`` with hooks on its leaf modules; returns the model output and
    ``[name, module, input copy, output copy]`` for each call, in call order."""
    names = {m: n for n, m in model.named_modules()}
    calls, hooks = [], []

    def before(mod, args):  # copy now: an in-place module (ReLU(inplace=True)) overwrites its input
        calls.append([names[mod], mod, args[0].detach().clone() if args else None, None])

    def after(mod, args, out):
        calls[-1][3] = out.detach().clone() if isinstance(out, torch.Tensor) else None

    for name, m in model.named_modules():
        if name and next(m.children(), None) is None:
            hooks += [m.register_forward_pre_hook(before), m.register_forward_hook(after)]
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for h in hooks:
            h.remove()
    return out, calls


def _same_values(a, b):
    """True when tensors ``a`` and ``b`` hold the same values in the same order (any shapes)."""
    return a is not None and b is not None and a.numel() == b.numel() and torch.equal(a.flatten(), b.flatten())


def trace(model, input_shape):
    """The leaf modules of ``model`` in forward order, checked to form a chain.

    One random input of ``input_shape`` (C, H, W) or (features,) runs through the model in eval
    mode. Returns a list of ``Step(name, module, in_shape, out_shape)`` (shapes without batch).
    Raises ``ValueError`` naming the layer when the model is not a chain the surgery can follow:
    a module called twice, a module whose input is not its predecessor's output (residual add,
    concatenation, a functional op), a grouped conv, or a module type it does not know.
    """
    check_model(model)
    shape = check_shape(input_shape)
    for name, m in model.named_modules():
        if next(m.children(), None) is not None and next(m.parameters(recurse=False), None) is not None:
            _refuse(name, f"{type(m).__name__} uses parameters of its own besides its submodules")
    param = next(model.parameters(), None)
    x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(0))
    x = x.to(param.device) if param is not None else x
    with eval_mode(model):
        out, calls = _record_calls(model, x)
    steps, previous = [], ("the model input", x)
    for name, m, inp, res in calls:
        if any(s.name == name for s in steps):
            _refuse(name, "is called more than once in forward (a shared module)")
        if not isinstance(m, PRUNABLE + NORMS + PASS_THROUGH + (Maxout,)):
            _refuse(name, f"{type(m).__name__} is not a module the surgery knows how to follow")
        if isinstance(m, nn.Conv2d) and m.groups != 1:
            _refuse(name, f"grouped/depthwise convolution (groups={m.groups}) couples input and output channels")
        if isinstance(m, nn.Linear) and inp is not None and inp.dim() != 2:
            _refuse(name, f"a Linear applied to input of shape {tuple(inp.shape[1:])} per sample, not a vector")
        if res is None:
            _refuse(name, "returns something other than one tensor")
        if not _same_values(inp, previous[1]):
            _refuse(name, f"its input is not the output of {previous[0]} (a residual add, a concatenation "
                          "or a functional op in between)")
        steps.append(Step(name, m, tuple(inp.shape[1:]), tuple(res.shape[1:])))
        previous = (repr(name), res)
    if not steps or not _same_values(out, previous[1]):
        raise ValueError(f"the model output is not the output of its last module {previous[0]}; {DEPGRAPH_HINT}")
    return steps


class Chain(nn.Module):
    """Consecutive steps of a chain network (a slice of :func:`trace`'s list) as one module.

    ``forward`` takes a batch (N, ...) shaped as the first step's ``in_shape`` and runs it
    through the steps' modules in order, reshaping each input to its step's ``in_shape`` as the
    network's own forward does (e.g. its flatten before the classifier). The modules are shared, not copied:
    ``Chain(steps[i:])(Chain(steps[:i])(x))`` equals ``model(x)``, so the layers before step i
    can run once and the rest many times. An empty ``steps`` returns its input.
    """

    def __init__(self, steps):
        super().__init__()
        if not isinstance(steps, (list, tuple)) or not all(isinstance(s, Step) for s in steps):
            raise TypeError("steps must be a list of Steps returned by trace()")
        self.steps = nn.ModuleList(s.module for s in steps)
        self.shapes = [s.in_shape for s in steps]

    def forward(self, x):
        for module, shape in zip(self.steps, self.shapes):
            x = module(x.reshape(len(x), *shape))
        return x


def _block(chain, channels):
    """Input features of the consumer per unit: 1, or H*W when a (C, H, W) map was flattened.
    ``chain``: the steps from the producing layer to its consumer, both included."""
    producer, consumer = chain[0], chain[-1]
    if isinstance(consumer.module, nn.Conv2d):
        if not isinstance(producer.module, nn.Conv2d):
            _refuse(consumer.name, f"a conv fed by the linear layer {producer.name!r}")
        return 1
    feature_maps = [s.out_shape for s in chain[:-1] if len(s.out_shape) == 3]
    spatial = feature_maps[-1][1] * feature_maps[-1][2] if feature_maps else 1
    if consumer.in_shape != (channels * spatial,):
        _refuse(consumer.name, f"expects input of shape {consumer.in_shape}, not {channels} units "
                               f"of {producer.name!r} flattened into blocks of {spatial}")
    return spatial


def _maxout(step, between, norms, channels):
    """The name of the one Maxout between ``step``'s layer (of ``channels`` units) and its
    consumer, or None, and how many units reach the consumer."""
    maxouts = [s for s in between if isinstance(s.module, Maxout)]
    if not maxouts:
        return None, channels
    if len(maxouts) > 1:
        _refuse(maxouts[1].name, f"a second Maxout between {step.name!r} and its consumer")
    m = maxouts[0]
    if m.module.channels != channels:  # e.g. a Maxout over the flattened features of a conv
        _refuse(m.name, f"takes {m.module.channels} pieces, not the {channels} units of {step.name!r}")
    later_norms = [s for s in norms if between.index(s) > between.index(m)]
    if later_norms:
        _refuse(later_norms[0].name, "normalises the units of a Maxout (put the BatchNorm before the Maxout)")
    return m.name, m.module.units


def _groups(steps):
    """``{name: Group}`` for each Conv2d / Linear of the traced chain ``steps`` with a consumer."""
    groups = {}
    for i, step in enumerate(steps):
        later = [j for j in range(i + 1, len(steps)) if isinstance(steps[j].module, PRUNABLE)]
        if not isinstance(step.module, PRUNABLE) or not later:
            continue  # the output layer has no consumer: its units are the model's outputs
        chain, channels = steps[i:later[0] + 1], step.out_shape[0]
        between = chain[1:-1]
        norms = [s for s in between if isinstance(s.module, NORMS)]
        maxout, outputs = _maxout(step, between, norms, channels)
        for s in norms:
            if s.module.num_features != channels:
                _refuse(s.name, f"normalises {s.module.num_features} features, not the {channels} "
                                f"units of {step.name!r}")
        direct = list(itertools.takewhile(lambda s: isinstance(s.module, NORMS + ACTIVATIONS), between))
        groups[step.name] = Group(step.name, tuple(s.name for s in norms), chain[-1].name,
                                  _block(chain, outputs), channels, tuple(s.name for s in between),
                                  direct[-1].name if direct else step.name, maxout)
    return groups


def dependencies(model, input_shape):
    """Every prunable layer of a chain ``model`` with the tensors coupled to its output units.

    Returns ``{name: Group(layer, norms, consumer, block, units, chain, activation, maxout)}`` in
    forward order for each Conv2d / Linear that has a next Conv2d / Linear (the output layer has
    none, so it is not prunable).
    """
    return _groups(trace(model, input_shape))


def _check_plan(plan, groups, modules):
    """The plan as ``{name: sorted LongTensor of kept indices}``; ValueError on any bad entry."""
    if not isinstance(plan, dict):
        raise TypeError(f"plan must be a dict {{layer name: indices to keep}}, got {type(plan).__name__}")
    checked = {}
    for name, keep in plan.items():
        if name not in groups:
            if isinstance(modules.get(name), PRUNABLE):
                raise ValueError(f"plan: layer {name!r} produces the model output; its units cannot be removed")
            raise ValueError(f"plan: unknown layer name {name!r}; prunable layers are {list(groups)}")
        size = modules[name].weight.shape[0]
        try:
            idx = torch.as_tensor(keep)
        except (TypeError, ValueError, RuntimeError):
            idx = None
        if idx is not None and idx.numel() == 0:
            raise ValueError(f"plan: layer {name!r} would keep none of its {size} units; removing every "
                             "filter disconnects the network (keep at least one)")
        if idx is None or idx.dim() != 1 or idx.dtype == torch.bool or idx.is_floating_point() or idx.is_complex():
            raise ValueError(f"plan: indices of layer {name!r} must be a 1-D sequence of ints, got {keep!r}")
        bad = idx[(idx < 0) | (idx >= size)]
        if bad.numel():
            raise ValueError(f"plan: indices {bad.tolist()} of layer {name!r} are out of range 0..{size - 1}")
        values, counts = idx.unique(return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"plan: duplicate indices {values[counts > 1].tolist()} for layer {name!r}")
        checked[name] = values.long()  # unique() sorts: kept units stay in their original order
    return checked


def _select(module, attr, idx, dim):
    """Replace tensor ``module.<attr>`` (parameter or buffer, may be None) by its ``idx`` slices along ``dim``."""
    old = getattr(module, attr)
    if old is None:
        return
    new = old.detach().index_select(dim, idx.to(old.device))  # a new, smaller tensor: the old one is freed
    setattr(module, attr, nn.Parameter(new, old.requires_grad) if isinstance(old, nn.Parameter) else new)


def expand_to_features(idx, block):
    """Channel indices -> consumer input features: channel c owns features c*block .. c*block+block-1."""
    return (idx[:, None] * block + torch.arange(block)).flatten()


def _resolve(model, plan, input_shape, groups=None):
    """Trace ``model`` (unless its ``groups`` are given) and check ``plan``:
    ``(groups, {name: kept indices}, {name: module})``."""
    if groups is None:
        groups = dependencies(model, input_shape)
    elif not isinstance(groups, dict) or not all(isinstance(g, Group) for g in groups.values()):
        raise TypeError("groups must be None or the dict returned by dependencies()")
    modules = dict(model.named_modules())
    return groups, _check_plan(plan, groups, modules), modules


def prune_(model, plan, input_shape, groups=None):
    """Remove, in place, the output units of each layer not kept by ``plan`` and everything
    coupled to them (see the module docstring). Returns ``model``.

    ``plan``: ``{layer name: indices to keep}``; ``input_shape``: one input, (C, H, W) or
    (features,). ``groups``: the :func:`dependencies` of this architecture, when already known
    (e.g. when pruning many copies of one network), to skip tracing it again. Everything is
    checked before anything changes. Build optimizers after pruning: the pruned tensors are new
    parameters.
    """
    groups, keep, modules = _resolve(model, plan, input_shape, groups)
    for name, idx in keep.items():
        group = groups[name]
        layer, consumer = modules[name], modules[group.consumer]
        for attr in ("weight", "bias"):
            _select(layer, attr, idx, 0)
        for norm in (modules[n] for n in group.norms):
            for attr in ("weight", "bias", "running_mean", "running_var"):
                _select(norm, attr, idx, 0)
            norm.num_features = len(idx)
        inputs = idx if group.maxout is None else modules[group.maxout].keep_(idx)  # what still reaches the consumer
        _select(consumer, "weight", expand_to_features(inputs, group.block), 1)
        if isinstance(layer, nn.Conv2d):
            layer.out_channels = len(idx)
        else:
            layer.out_features = len(idx)
        if isinstance(consumer, nn.Conv2d):
            consumer.in_channels = len(inputs)
        else:
            consumer.in_features = len(inputs) * group.block
    return model


def prune(model, plan, input_shape, groups=None):
    """A pruned deep copy of ``model`` (see :func:`prune_`); ``model`` itself is not changed."""
    check_model(model)
    return prune_(copy.deepcopy(model), plan, input_shape, groups)


def mask_outgoing(model, plan, input_shape):
    """A deep copy of ``model`` computing exactly what :func:`prune` computes, at full size:
    the *outgoing* weights of every removed unit (the consumer's input weights for it) are zeroed.

    Zeroing the filter itself would not do: the conv bias and BatchNorm's beta still send a
    constant through the removed channel. Used to test the surgery and to show the equivalence.
    A removed maxout piece is instead silenced (it never wins), unless its whole unit goes: then
    the unit's outgoing weights are zeroed.
    """
    masked = copy.deepcopy(model)
    groups, keep, modules = _resolve(masked, plan, input_shape)
    for name, idx in keep.items():
        group = groups[name]
        inputs = idx
        if group.maxout is not None:
            maxout = modules[group.maxout]
            inputs = maxout.units_kept(idx)
            removed = torch.ones(maxout.channels, dtype=torch.bool)
            removed[idx] = False
            maxout.silence_(torch.nonzero(removed & torch.isin(maxout.unit_of(), inputs)).flatten())
        weight = modules[group.consumer].weight
        removed = torch.ones(weight.shape[1], dtype=torch.bool, device=weight.device)
        removed[expand_to_features(inputs, group.block).to(weight.device)] = False
        with torch.no_grad():
            weight[:, removed] = 0
    return masked


def replace_module(model, name, new):
    """Put ``new`` (an ``nn.Module``) in place of ``model``'s submodule ``name`` (a qualified
    name such as ``"classifier.0"``), in place; returns the module it replaced. For the methods
    that swap layers (a factorized layer, a folded BatchNorm, a merged block): the result is
    traced like any chain, so a ``Linear(in, out)`` replaced by ``Sequential(Linear(in, r),
    Linear(r, out))`` has a prunable layer of ``r`` units."""
    check_model(model)
    if not isinstance(new, nn.Module):
        raise TypeError(f"new must be a torch.nn.Module, got {type(new).__name__}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be the qualified name of a submodule, got {name!r}")
    parent_name, _, child = name.rpartition(".")
    parent = dict(model.named_modules()).get(parent_name)
    if parent is None or child not in parent._modules:
        raise ValueError(f"name: {name!r} is not a submodule of the model")
    old = parent._modules[child]
    setattr(parent, child, new)
    return old
