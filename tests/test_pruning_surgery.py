"""The surgery removes filters/neurons physically and computes exactly what the original model
computes with the removed units' OUTGOING connections cut; it agrees with torch-pruning."""
import copy
import random

import pytest
import torch
import torch.nn as nn
import torch_pruning as tp
import torchvision

from course_lib.models.lenet import LeNet300100, LeNet5, LeNet5Caffe, LeNet5Classic
from course_lib.models.vgg import vgg16
from course_lib.pruning import Chain, dependencies, mask_outgoing, prune, prune_, replace_module, trace

LAYERS = (nn.Conv2d, nn.Linear)


def randomize_norms(model, gen):
    """Non-trivial BatchNorm statistics and affine parameters (beta != 0 is what leaks)."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) + 0.5
            m.bias.data = torch.randn(n, generator=gen)
            m.running_mean = torch.randn(n, generator=gen)
            m.running_var = torch.rand(n, generator=gen) + 0.5
    return model.eval()


def random_chain(seed):
    """A random conv(-BN)-ReLU(-pool) ... Flatten ... Linear(-BN1d)-ReLU ... Linear chain, input (3, 16, 16)."""
    rng, layers, channels, side = random.Random(seed), [], 3, 16
    for _ in range(rng.randint(1, 3)):
        out = rng.randint(2, 6)
        layers.append(nn.Conv2d(channels, out, 3, padding=1, bias=rng.random() < 0.5))
        layers += [nn.BatchNorm2d(out)] if rng.random() < 0.6 else []
        layers.append(nn.ReLU())
        if rng.random() < 0.5:
            layers.append(nn.MaxPool2d(2))
            side //= 2
        channels = out
    if rng.random() < 0.5:
        layers.append(nn.AdaptiveAvgPool2d(2))
        side = 2
    layers.append(nn.Flatten())
    features = channels * side * side
    for _ in range(rng.randint(1, 2)):
        hidden = rng.randint(2, 8)
        layers.append(nn.Linear(features, hidden))
        layers += [nn.BatchNorm1d(hidden)] if rng.random() < 0.3 else []
        layers.append(nn.ReLU())
        features = hidden
    layers.append(nn.Linear(features, 3))
    torch.manual_seed(seed)
    return randomize_norms(nn.Sequential(*layers), torch.Generator().manual_seed(seed))


def random_plan(model, seed, p=0.7):
    """Keep a random non-empty subset of units of some layers (never the output layer)."""
    gen, rng = torch.Generator().manual_seed(seed), random.Random(seed)
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, LAYERS)][:-1]
    plan = {}
    for name, m in layers:
        if rng.random() < p:
            n = m.weight.shape[0]
            plan[name] = torch.randperm(n, generator=gen)[:rng.randint(1, n)].tolist()
    return plan


def cut_outgoing(model, plan):
    """Reference, independent of the library: a copy whose next Conv2d/Linear (in module order)
    after each planned layer sees zeros in the INPUT channels of the removed units."""
    ref = copy.deepcopy(model)
    named = [(n, m) for n, m in ref.named_modules() if isinstance(m, LAYERS)]
    for (name, layer), (_, consumer) in zip(named, named[1:]):
        if name not in plan:
            continue
        removed = torch.ones(layer.weight.shape[0], dtype=torch.bool)
        removed[plan[name]] = False

        def zero_inputs(mod, args, removed=removed):
            x = args[0].clone()
            x.view(x.shape[0], len(removed), -1)[:, removed] = 0  # (N, C, H*W) or (N, C, S) blocks
            return (x,)
        consumer.register_forward_pre_hook(zero_inputs)
    return ref


@pytest.mark.parametrize("seed", range(30))
def test_pruned_equals_original_with_outgoing_connections_cut(seed):
    model = random_chain(seed)
    plan = random_plan(model, seed)
    before = copy.deepcopy(model.state_dict())
    small = prune(model, plan, (3, 16, 16)).eval()
    x = torch.randn(5, 3, 16, 16, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected = cut_outgoing(model, plan)(x)
        assert torch.allclose(small(x), expected, atol=1e-5)
        assert torch.allclose(mask_outgoing(model, plan, (3, 16, 16))(x), expected, atol=1e-5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "original changed"
    for name, keep in plan.items():
        assert small.get_submodule(name).weight.shape[0] == len(keep)


def test_masking_the_filter_itself_is_not_removal():
    # the trap the invariant avoids: zeroing conv weights leaves bias and BN beta leaking through
    model = randomize_norms(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                                          nn.Linear(4 * 6 * 6, 2)), torch.Generator().manual_seed(0))
    model[1].bias.data.fill_(1.0)  # beta > 0 survives the ReLU of a zeroed filter
    plan = {"0": [0, 2]}
    masked = copy.deepcopy(model)
    with torch.no_grad():
        masked[0].weight[[1, 3]] = 0
        x = torch.randn(2, 3, 8, 8)
        assert not torch.allclose(masked(x), prune(model, plan, (3, 8, 8))(x), atol=1e-3)


@pytest.mark.parametrize("make, shape", [
    (lambda: vgg16(batch_norm=True, width=0.125, input_size=32, in_channels=1, num_classes=10, hidden=16), (1, 32, 32)),
    (lambda: vgg16(batch_norm=False, width=0.125, input_size=64, in_channels=3, num_classes=5, hidden=8), (3, 64, 64)),
    (LeNet5, (1, 28, 28)), (LeNet5Caffe, (1, 28, 28)), (LeNet300100, (1, 28, 28))])
def test_course_models(make, shape):
    torch.manual_seed(0)
    model = randomize_norms(make(), torch.Generator().manual_seed(0))
    plan = random_plan(model, 1, p=1.0)
    small = prune(model, plan, shape).eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        assert torch.allclose(small(x), cut_outgoing(model, plan)(x), atol=1e-5)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in model.parameters())


def test_in_place_variant_changes_and_returns_the_model():
    model = random_chain(3)
    plan = random_plan(model, 3, p=1.0)
    assert prune_(model, plan, (3, 16, 16)) is model
    assert model[0].weight.shape[0] == len(plan["0"])


def test_flatten_blocks_follow_the_pooled_spatial_size():
    groups = dependencies(vgg16(width=0.125, input_size=64, in_channels=1, hidden=8), (1, 64, 64))
    assert groups["features.28"].consumer == "classifier.0"
    assert groups["features.28"].block == 4  # 64/32 = 2, avgpool 2x2
    assert groups["features.0"].norms == () and groups["features.0"].consumer == "features.2"


@pytest.mark.parametrize("make", [torchvision.models.vgg16, torchvision.models.vgg16_bn])
def test_same_shapes_weights_and_outputs_as_torch_pruning(make):
    torch.manual_seed(0)
    model = randomize_norms(make(num_classes=10), torch.Generator().manual_seed(0))
    plan = random_plan(model, 7, p=0.8)
    ours = prune(model, plan, (3, 32, 32))
    theirs = copy.deepcopy(model)
    graph = tp.DependencyGraph().build_dependency(theirs, example_inputs=torch.randn(1, 3, 32, 32))
    for name, keep in plan.items():
        layer = theirs.get_submodule(name)
        removed = sorted(set(range(layer.weight.shape[0])) - set(keep))
        fn = tp.prune_conv_out_channels if isinstance(layer, nn.Conv2d) else tp.prune_linear_out_channels
        if removed:
            graph.get_pruning_group(layer, fn, idxs=removed).prune()
    a, b = ours.state_dict(), theirs.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].shape == b[k].shape, k
        assert torch.equal(a[k], b[k]), k
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(ours.eval()(x), theirs.eval()(x), atol=1e-5)


# ---- refusals ---------------------------------------------------------------------------------

class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 3, padding=1)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))

    def forward(self, x):
        y = self.conv1(x)
        return self.head(y + self.conv2(y))


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.fc = nn.Conv2d(3, 2, 1), nn.Conv2d(3, 2, 1), nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.cat([self.a(x), self.b(x)], 1).mean((2, 3)))


class InPlaceResidual(nn.Sequential):
    def forward(self, x):
        y = self[0](x)
        y += x  # an in-place add: same tensor, different values
        return self[2](self[1](y).flatten(1))


@pytest.mark.parametrize("model, shape, words", [
    (Residual(), (3, 8, 8), ["'head.0'", "not the output of 'conv2'", "residual add"]),
    (Concat(), (3, 8, 8), ["'b'", "not the output"]),
    (InPlaceResidual(nn.Conv2d(3, 3, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Linear(3, 2)), (3, 8, 8),
     ["'1'", "not the output"]),
    (nn.Sequential(nn.Conv2d(4, 4, 3, groups=2), nn.Flatten(), nn.Linear(4, 2)), (4, 3, 3), ["'0'", "groups=2"]),
    (nn.Sequential(nn.Conv2d(4, 4, 3, groups=4), nn.Flatten(), nn.Linear(4, 2)), (4, 3, 3), ["'0'", "depthwise"]),
    (LeNet5Classic(), (1, 32, 32), ["is not a module"]),
    (torchvision.models.resnet18(num_classes=2), (3, 32, 32), ["called more than once"]),
    (nn.Sequential(nn.Conv2d(3, 4, 1), nn.Linear(5, 2)), (3, 5, 5), ["'1'", "not a vector"]),
    (nn.Sequential(nn.Conv2d(3, 4, 1), nn.MaxPool2d(2, return_indices=True)), (3, 4, 4),
     ["'1'", "other than one tensor"]),
])
def test_refuses_graphs_that_are_not_chains(model, shape, words):
    first = next(n for n, m in model.named_modules() if isinstance(m, LAYERS))
    with pytest.raises(ValueError) as err:
        prune(model, {first: [0]}, shape)
    for word in words + ["torch-pruning", "DependencyGraph"]:
        assert word in str(err.value)


@pytest.mark.parametrize("plan, words", [
    ({"0": []}, ["'0'", "none of its 4", "every filter"]),
    ({"0": [0, 4]}, ["'0'", "[4]", "out of range 0..3"]),
    ({"0": [-1, 2]}, ["'0'", "[-1]", "out of range"]),
    ({"0": [1, 1, 2]}, ["'0'", "duplicate", "[1]"]),
    ({"0": [0.0, 1.0]}, ["'0'", "1-D sequence of ints"]),
    ({"0": [[0, 1]]}, ["'0'", "1-D sequence of ints"]),
    ({"7": [0]}, ["unknown layer name '7'", "'0'", "'4'"]),
    ({"6": [0]}, ["'6'", "model output"]),
])
def test_refuses_bad_plans_and_changes_nothing(plan, words):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3),
                          nn.ReLU(), nn.Linear(3, 2))
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError) as err:
        prune_(model, plan, (1, 6, 6))
    for word in words:
        assert word in str(err.value)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_refuses_non_dict_plan_and_bad_arguments():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    with pytest.raises(TypeError, match="plan"):
        prune(model, [("0", [0])], (3,))
    with pytest.raises(TypeError, match="model"):
        prune("vgg", {}, (3,))
    with pytest.raises(ValueError, match="input_shape"):
        prune(model, {}, (0,))
    with pytest.raises(TypeError, match="groups must be None or the dict returned by dependencies"):
        prune(model, {}, (3,), groups={"0": ("0",)})


def test_given_groups_prune_as_tracing_does():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 2))
    plan = {"0": [1, 3]}
    groups = dependencies(model, (1, 8, 8))
    a, b = prune(model, plan, (1, 8, 8)), prune(model, plan, (1, 8, 8), groups=groups)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_replaced_layer_is_traced_and_pruned_like_any_other():
    """A Linear replaced by its exact factorization Linear(in, r) -> Linear(r, out) (full-rank SVD)
    computes the same function, and its r units are prunable: removing them equals cutting them."""
    torch.manual_seed(0)
    model = LeNet300100().eval()
    x = torch.randn(4, 1, 28, 28)
    before = model(x)
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][1]  # the 300 -> 100 layer
    old = model.get_submodule(name)
    u, s, vh = torch.linalg.svd(old.weight.detach(), full_matrices=False)  # (100, 100), (100,), (100, 300)
    first, second = nn.Linear(300, 100, bias=False), nn.Linear(100, 100)
    with torch.no_grad():
        first.weight.copy_(s[:, None] * vh)
        second.weight.copy_(u)
        second.bias.copy_(old.bias)
    assert replace_module(model, name, nn.Sequential(first, second)) is old
    assert torch.allclose(model(x), before, atol=1e-5)
    groups = dependencies(model, (1, 28, 28))
    assert groups[f"{name}.0"].units == 100 and groups[f"{name}.0"].consumer == f"{name}.1"
    plan = {f"{name}.0": torch.arange(0, 100, 3)}
    assert torch.allclose(prune(model, plan, (1, 28, 28))(x), mask_outgoing(model, plan, (1, 28, 28))(x), atol=1e-5)


def test_replace_module_refuses_bad_arguments():
    model = LeNet300100()
    with pytest.raises(TypeError, match="new must be a torch.nn.Module"):
        replace_module(model, "classifier.0", "linear")
    with pytest.raises(ValueError, match="is not a submodule"):
        replace_module(model, "classifier.99", nn.Identity())
    with pytest.raises(ValueError, match="qualified name"):
        replace_module(model, "", nn.Identity())
    with pytest.raises(TypeError, match="model"):
        replace_module("model", "a", nn.Identity())


def test_a_chain_of_steps_runs_the_model_from_any_layer_on():
    """Chain(steps[:i]) then Chain(steps[i:]) computes what the model computes, here across the VGG's
    functional flatten (x.flatten(1) in its forward, no Flatten module)."""
    torch.manual_seed(0)
    model = vgg16(batch_norm=True, width=0.125, input_size=32, in_channels=1, num_classes=10, hidden=16).eval()
    steps = trace(model, (1, 32, 32))
    x = torch.randn(4, 1, 32, 32)
    with torch.no_grad():
        want = model(x)
        for i in (0, 7, len(steps) - 3, len(steps)):
            got = Chain(steps[i:])(Chain(steps[:i])(x))
            assert torch.allclose(got, want, atol=1e-6), i
    assert list(Chain(steps).parameters())[0] is next(model.parameters())  # shared, not copied
    for bad in (steps[0], [steps[0].module], "features.0"):
        with pytest.raises(TypeError, match="steps must be a list of Steps"):
            Chain(bad)
