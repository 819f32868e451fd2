import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from course_lib import measure
from course_lib.pruning import (contributions, greedy_removal, l1_norm, mask_outgoing, rescale_weights,
                                scale_inputs_, thinet_prune)

SHAPE = (2, 8, 8)


def chain(seed=0):
    """conv(2->6) BN ReLU conv(6->5) ReLU pool flatten linear(5*4*4 -> 7) ReLU linear(7 -> 3)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(2, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                          nn.Conv2d(6, 5, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(80, 7), nn.ReLU(), nn.Linear(7, 3))
    with torch.no_grad():
        model[1].running_mean.uniform_(-0.2, 0.2)
        model[1].running_var.uniform_(0.5, 1.5)
    return model.eval()


def loader(n=12, batch_size=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randn(n, *SHAPE, generator=gen), torch.randint(0, 3, (n,), generator=gen)),
                      batch_size=batch_size)


def inputs(data):
    return torch.cat([x for x, _ in data])


def test_contributions_sum_to_the_conv_output_minus_bias():
    model, data = chain(), loader()
    x, y, where = contributions(model, "0", data, positions=4)
    assert x.shape == (12 * 4, 6) and y.shape == (48,) and where.shape == (48, 3)
    with torch.no_grad():
        a = model[2](model[1](model[0](inputs(data))))
        out = model[3](a) - model[3].bias[:, None, None]
    image, unit, loc = where.T
    expected = out.flatten(2)[image, unit, loc].double()
    assert torch.allclose(y, expected, atol=1e-5)
    assert torch.allclose(x.sum(1), y)
    assert set(image.tolist()) == set(range(12)), "every image is sampled"


def test_contributions_across_a_flatten_into_a_linear_layer():
    model, data = chain(), loader()
    x, y, where = contributions(model, "3", data, positions=3)
    assert x.shape == (36, 5) and (where[:, 2] == 0).all()
    with torch.no_grad():
        feats = model[:7](inputs(data))
        out = feats @ model[7].weight.T
    assert torch.allclose(y, out[where[:, 0], where[:, 1]].double(), atol=1e-5)
    # channel c's contribution is its block of 16 features
    block = (feats.view(12, 5, 16)[where[:, 0]] * model[7].weight[where[:, 1]].view(36, 5, 16)).sum(2)
    assert torch.allclose(x, block.double(), atol=1e-5)


def test_sampling_is_reproducible_and_leaves_the_model_alone():
    model, data = chain(), loader()
    model.train()
    before = copy.deepcopy(model.state_dict())
    a, b = contributions(model, "0", data, seed=3), contributions(model, "0", data, seed=3)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[2], contributions(model, "0", data, seed=4)[2])
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def naive_greedy(x):
    """The plain algorithm: per candidate, per sample, the squared sum of the removed set."""
    removed, left, order = [], list(range(x.shape[1])), []
    for _ in range(x.shape[1]):
        best, best_cost = None, None
        for j in left:
            cost = sum(float(sum(x[i, t] for t in removed + [j])) ** 2 for i in range(x.shape[0]))
            if best_cost is None or cost < best_cost:
                best, best_cost = j, cost
        removed.append(best)
        left.remove(best)
        order.append(best)
    return order


def test_greedy_equals_the_plain_loop_and_reports_its_error():
    x = torch.randn(30, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    order, error = greedy_removal(x)
    assert order.tolist() == naive_greedy(x)
    assert sorted(order.tolist()) == list(range(7))
    for t in range(7):
        assert error[t] == pytest.approx(float((x[:, order[:t + 1]].sum(1) ** 2).mean()))
    assert error[-1] == pytest.approx(float((x.sum(1) ** 2).mean()))


def planted():
    """A chain whose second conv reads only channels 0, 1, 4 of the first, plus channel 3, a copy
    of channel 1 whose outgoing weights are 0.1 times channel 1's."""
    model = chain(seed=2)
    with torch.no_grad():
        model[0].weight[3] = model[0].weight[1]
        model[0].bias[3] = model[0].bias[1]
        for attr in ("weight", "bias", "running_mean", "running_var"):
            getattr(model[1], attr)[3] = getattr(model[1], attr)[1]
        model[3].weight[:, [2, 5]] = 0
        model[3].weight[:, 3] = 0.1 * model[3].weight[:, 1]
    return model


def test_greedy_keeps_the_channels_the_output_depends_on_and_rescaling_recovers_their_weights():
    model, data = planted(), loader(20)
    x, y, _ = contributions(model, "0", data)
    order, error = greedy_removal(x)
    assert set(order[:2].tolist()) == {2, 5} and error[1] == pytest.approx(0, abs=1e-12)
    assert order[2].item() == 3, "the down-weighted copy goes next"
    w, residual = rescale_weights(x, [0, 1, 4])
    assert torch.allclose(w, torch.tensor([1.0, 1.1, 1.0]), atol=1e-5) and residual < 1e-10
    run = thinet_prune(model, {"0": 0.5}, data, SHAPE)
    pruned, history, kept = run.model, run.history, run.kept
    assert kept["0"].tolist() == [0, 1, 4] and run.file_bytes == measure.state_dict_bytes(pruned)
    assert pruned[0].out_channels == 3 and pruned[3].in_channels == 3
    assert history["relative error"].iloc[1] < 1e-9
    with torch.no_grad():
        assert torch.allclose(pruned(inputs(data)), model(inputs(data)), atol=1e-5), "the pruned network is exact"


def test_after_pruning_the_next_layer_computes_the_reconstruction():
    model, data = chain(seed=5), loader(20)
    x, y, where = contributions(model, "0", data)
    order, _ = greedy_removal(x)
    keep = order[3:].sort().values
    w, _ = rescale_weights(x, keep)
    run = thinet_prune(model, {"0": 0.5}, data, SHAPE)
    pruned, kept = run.model, run.kept
    assert torch.equal(kept["0"], keep)
    with torch.no_grad():
        out = pruned[3](pruned[:3](inputs(data))) - pruned[3].bias[:, None, None]
    image, unit, loc = where.T
    assert torch.allclose(out.flatten(2)[image, unit, loc].double(), x[:, keep] @ w.double(), atol=1e-4)


def test_without_rescaling_the_pruned_network_is_the_masked_one():
    model, data = chain(seed=6), loader(20)
    run = thinet_prune(model, {"0": 0.5, "3": 0.4}, data, SHAPE, rescale=False)
    pruned, history, kept = run.model, run.history, run.kept
    masked = mask_outgoing(model, {name: k for name, k in kept.items()}, SHAPE).eval()
    with torch.no_grad():
        assert torch.allclose(pruned(inputs(data)), masked(inputs(data)), atol=1e-5)
    assert [m.out_channels for m in (pruned[0], pruned[3])] == [3, 3]
    assert list(history["layer"]) == ["original", "0", "3"] and history["FLOPs %"].iloc[-1] < 100


def test_thinet_prune_takes_samples_on_the_network_pruned_so_far_and_fine_tunes_between_layers():
    model, data = chain(seed=7), loader(20)
    before = copy.deepcopy(model.state_dict())
    calls = []
    run = thinet_prune(model, {"0": 0.5, "3": 0.4, "7": 0.3}, data, SHAPE,
                       fine_tune=lambda net: calls.append([m.weight.shape for m in net if
                                                           isinstance(m, (nn.Conv2d, nn.Linear))]),
                       eval_loader=data)
    pruned, history = run.model, run.history
    assert len(calls) == 3 and calls[0][0][0] == 3 and calls[1][1][0] == 3
    assert pruned[7].out_features == 5 and pruned[9].in_features == 5
    assert "accuracy" in history and len(history) == 4
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the model is not changed"


def test_a_custom_selection_replaces_the_greedy_choice():
    model, data = chain(seed=8), loader()
    l1_smallest = lambda net, layer, x, n: l1_norm(net, [layer])[layer].argsort()[:n]  # noqa: E731
    kept = thinet_prune(model, {"0": 0.5}, data, SHAPE, select=l1_smallest).kept
    assert kept["0"].tolist() == sorted(l1_norm(model, ["0"])["0"].argsort()[3:].tolist())
    with pytest.raises(ValueError, match="select must return 3 distinct"):
        thinet_prune(model, {"0": 0.5}, data, SHAPE, select=lambda net, layer, x, n: [0, 0, 1])
    with pytest.raises(ValueError, match="select must return 3 distinct"):
        thinet_prune(model, {"0": 0.5}, data, SHAPE, select=lambda net, layer, x, n: [0, 1, 6])


def test_scale_inputs_multiplies_each_input_channel_or_block():
    conv = nn.Conv2d(3, 2, 3)
    before = conv.weight.detach().clone()
    scale_inputs_(conv, torch.tensor([1.0, 2.0, 0.5]))
    assert torch.allclose(conv.weight, before * torch.tensor([1.0, 2.0, 0.5]).view(1, 3, 1, 1))
    linear = nn.Linear(6, 2)
    before = linear.weight.detach().clone()
    scale_inputs_(linear, torch.tensor([2.0, 3.0]), block=3)
    assert torch.allclose(linear.weight, before * torch.tensor([2.0, 2, 2, 3, 3, 3]))
    with pytest.raises(ValueError, match="one factor per input channel"):
        scale_inputs_(linear, torch.tensor([2.0, 3.0, 4.0]), block=3)
    with pytest.raises(TypeError, match="consumer"):
        scale_inputs_(nn.ReLU(), torch.tensor([1.0]))


def test_bad_arguments_fail_clearly():
    model, data = chain(), loader()
    for ratio in (0, 0.0, 1.0, 1.5, -0.1, True):
        with pytest.raises(ValueError, match="prune ratio"):
            thinet_prune(model, {"0": ratio}, data, SHAPE)
    with pytest.raises(ValueError, match="not prunable"):
        thinet_prune(model, {"9": 0.5}, data, SHAPE)
    with pytest.raises(ValueError, match="not prunable"):
        thinet_prune(model, {"features.0": 0.5}, data, SHAPE)
    with pytest.raises(TypeError, match="ratios"):
        thinet_prune(model, 0.5, data, SHAPE)
    with pytest.raises(ValueError, match="layer must be a prunable layer"):
        contributions(model, "9", data)
    with pytest.raises(ValueError, match="positions"):
        contributions(model, "0", data, positions=0)
    with pytest.raises(ValueError, match="x must be"):
        greedy_removal(torch.zeros(5))
    with pytest.raises(ValueError, match="x must be"):
        greedy_removal(torch.zeros(5, 1))
    with pytest.raises(ValueError, match="kept must be"):
        rescale_weights(torch.zeros(5, 3), [0, 3])
    with pytest.raises(ValueError, match="kept must be"):
        rescale_weights(torch.zeros(5, 3), [])
    with pytest.raises(TypeError, match="fine_tune"):
        thinet_prune(model, {"0": 0.5}, data, SHAPE, fine_tune="yes")


def test_an_empty_loader_is_refused_with_the_usual_message():
    model, empty = chain(), loader(n=0)
    with pytest.raises(ValueError, match="loader must yield at least one batch"):
        contributions(model, "0", empty)
    with pytest.raises(ValueError, match="loader must yield at least one batch"):
        thinet_prune(model, {"0": 0.5}, empty, SHAPE)


def test_conv_contributions_follow_stride_and_padding():
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 3, stride=2, padding=2),
                          nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 2)).eval()
    data = loader(6)
    x, y, where = contributions(model, "0", data, positions=5)
    with torch.no_grad():
        a = F.relu(model[0](inputs(data)))
        out = model[2](a) - model[2].bias[:, None, None]
    assert torch.allclose(y, out.flatten(2)[where[:, 0], where[:, 1], where[:, 2]].double(), atol=1e-5)


def test_samples_are_weighted_by_the_batchnorm_after_the_consumer():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 3, padding=1), nn.BatchNorm2d(3),
                          nn.ReLU(), nn.Flatten(), nn.Linear(3 * 64, 2)).eval()
    with torch.no_grad():
        model[3].weight.copy_(torch.tensor([2.0, -0.5, 1.0]))
        model[3].running_var.copy_(torch.tensor([4.0, 1.0, 0.25]))
    data = loader(6)
    raw, _, where = contributions(model, "0", data, after_norm=False)
    weighted, y, where2 = contributions(model, "0", data)
    factor = model[3].weight / torch.sqrt(model[3].running_var + model[3].eps)
    assert torch.equal(where, where2)
    assert torch.allclose(weighted, raw * factor[where[:, 1], None].double(), atol=1e-6)
    with torch.no_grad():  # y is what the BatchNorm adds to its own shift, per sample
        z = model[3](model[2](model[1](model[0](inputs(data)))))
        shift = model[3].bias - model[3].running_mean * factor + model[2].bias * factor
    image, unit, loc = where.T
    assert torch.allclose(y, (z.flatten(2)[image, unit, loc] - shift[unit]).double(), atol=1e-5)
