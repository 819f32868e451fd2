import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.pruning import dependencies
from course_lib.pruning.activations import record


def net():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                          nn.Conv2d(4, 6, 3), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(24, 5), nn.ReLU(),
                          nn.Linear(5, 3))
    with torch.no_grad():  # non-trivial BatchNorm statistics, so eval mode differs from train mode
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
    return model


def batches(n=3, size=5):
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(size, 1, 8, 8, generator=g), torch.randint(0, 3, (size,), generator=g)) for _ in range(n)]


def reference(model, data):
    """Every tap of every layer of ``net()``, computed by hand, with gradients of the summed loss."""
    m = model.eval()
    out = []
    for x, y in data:
        h0 = m[0](x)
        h2 = F.relu(m[1](h0))
        h3 = m[3](h2)
        h4 = m[4](h3)
        h5 = F.relu(h4)
        h6 = h5.flatten(1)
        h7 = m[7](h6)
        h8 = F.relu(h7)
        loss = F.cross_entropy(m[9](h8), y, reduction="sum")
        taps = {("0", "output"): h0, ("0", "activation"): h2, ("0", "consumer"): h3,
                ("4", "output"): h4, ("4", "activation"): h5, ("4", "consumer"): h6,
                ("7", "output"): h7, ("7", "activation"): h8, ("7", "consumer"): h8}
        grads = torch.autograd.grad(loss, list(taps.values()), retain_graph=True)
        out.append({k: (a.detach(), g) for (k, a), g in zip(taps.items(), grads)})
    return out


def per_unit(t, units):
    return t.unsqueeze(-1) if t.dim() == 2 and t.shape[1] == units else t.view(t.shape[0], units, -1) if t.dim() == 2 else t


UNITS = {"0": 4, "4": 6, "7": 5}


def taylor(a, g):
    return (a * g).flatten(2).mean(2).abs().sum(0)


def energy(a, g):
    return a.flatten(2).pow(2).mean(2).sum(0)


@pytest.mark.parametrize("tap", ["output", "activation", "consumer"])
@pytest.mark.parametrize("gradient, reduce", [(False, energy), (True, taylor)])
def test_record_equals_an_explicit_loop_over_stored_activations(tap, gradient, reduce):
    model, data = net(), batches()
    want = {name: sum(reduce(per_unit(b[name, tap][0], n), per_unit(b[name, tap][1], n)) for b in reference(net(), data))
            / sum(len(x) for x, _ in data) for name, n in UNITS.items()}
    got = record(model, data, list(UNITS), reduce, tap=tap, gradient=gradient, device="cpu")
    for name in UNITS:
        assert got[name].shape == (UNITS[name],)
        assert torch.allclose(got[name], want[name].float(), rtol=1e-4, atol=1e-6), (name, got[name], want[name])


def test_record_reads_only_the_first_batches_and_sees_frozen_layers_gradients():
    model, data = net(), batches()
    for p in model.parameters():
        p.requires_grad_(False)  # frozen layers: the gradient w.r.t. their outputs still exists
    want = sum(taylor(b["4", "output"][0], b["4", "output"][1]) for b in reference(net(), data[:2])) / 10
    got = record(model, data, ["4"], taylor, gradient=True, batches=2, device="cpu")["4"]
    assert torch.allclose(got, want.float(), rtol=1e-4, atol=1e-6)
    assert not any(p.requires_grad for p in model.parameters())


def test_record_leaves_the_model_as_it_was_also_when_a_batch_raises():
    model = net().train()
    model[1].eval()  # a mixed state, restored module by module
    model[7].weight.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [m.training for m in model.modules()]
    record(model, batches(), ["0", "4"], taylor, gradient=True, device="cpu")

    def broken():
        yield from batches(1)
        yield torch.zeros(2, 1, 5, 5), torch.zeros(2, dtype=torch.long)  # wrong size: the forward pass raises

    with pytest.raises(RuntimeError):
        record(model, broken(), ["0", "4"], taylor, gradient=True, device="cpu")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert [m.training for m in model.modules()] == flags
    assert all(p.grad is None for p in model.parameters())
    assert model[7].weight.requires_grad is False and model[0].weight.requires_grad is True
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_dependencies_name_the_chain_and_the_activation_tap():
    groups = dependencies(net(), (1, 8, 8))
    assert groups["0"].chain == ("1", "2", "3") and groups["0"].activation == "2" and groups["0"].units == 4
    assert groups["4"].chain == ("5", "6") and groups["4"].activation == "5" and groups["4"].block == 4
    assert groups["7"].activation == "8" and groups["7"].consumer == "9"


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(tap="inputs"), ValueError, "tap must be one of"),
    (dict(reduce="mean"), TypeError, "reduce must be a callable"),
    (dict(batches=0), ValueError, "batches must be a positive int"),
    (dict(layers=[]), ValueError, "layers must be a non-empty list"),
    (dict(layers=["3"], tap="output"), ValueError, "not prunable layers"),
    (dict(reduce=lambda a, g: a.sum()), ValueError, r"reduce must return a \(4,\) tensor or one value per connection"),
    (dict(layers=["9"], tap="activation"), ValueError, "not prunable layers"),
    (dict(loader=[]), ValueError, "at least one batch"),
])
def test_record_refuses_bad_arguments(kwargs, error, words):
    args = dict(model=net(), loader=batches(1), layers=["0"], reduce=energy, device="cpu") | kwargs
    with pytest.raises(error, match=words):
        record(**args)


def test_nonzero_fraction_is_one_minus_apoz_of_the_post_activation_maps():
    from course_lib.pruning import nonzero_fraction

    model, data = net(), batches()
    got = nonzero_fraction(model, ["0", "4"], data, device="cpu")
    for name in ("0", "4"):
        maps = torch.cat([b[name, "activation"][0] for b in reference(net(), data)])  # (15, C, H, W)
        assert torch.allclose(got[name], (maps != 0).float().mean((0, 2, 3)), atol=1e-6)
        assert ((got[name] >= 0) & (got[name] <= 1)).all()


def test_the_input_tap_gives_per_connection_statistics_also_for_the_output_layer():
    """A correlation-style statistic of every connection of the last layer (Sun et al. 2016 prune
    connections by such statistics): mean over images of input_i x output_j, from one reducer that
    computes the output from the tapped input with the layer's own weights."""
    model, data = net(), batches()
    last = model[9]

    def products(a, g):  # a: (N, 5), the last layer's input; returns (3, 5), one value per connection
        return torch.einsum("nj,ni->ji", F.linear(a, last.weight, last.bias), a)

    got = record(model, data, ["9"], products, tap="input", device="cpu")["9"]
    ins = torch.cat([model.eval()[:9](x) for x, _ in data]).detach()
    expected = (model[9](ins).T @ ins / len(ins)).detach()
    assert got.shape == (3, 5) and torch.allclose(got, expected, atol=1e-5)
    out = record(model, data, ["9"], lambda a, g: a.flatten(2).mean(2).sum(0), tap="output", device="cpu")["9"]
    assert torch.allclose(out, model[9](ins).mean(0), atol=1e-5)
    conv_in = record(model, data, ["4"], lambda a, g: a.mean((2, 3)).sum(0).repeat(6, 1), tap="input", device="cpu")
    assert conv_in["4"].shape == (6, 4)  # a conv's connections: (filters, input channels)
