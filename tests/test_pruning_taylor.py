"""The Taylor criterion, mean activation and the oracle of Molchanov et al. 2017; FLOPs per unit;
the transfer set-up of notebook 04 in both profiles."""
import copy
import urllib.error

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from course_lib import data, measure
from course_lib.models import vgg
from course_lib.pruning import (dependencies, mean_activation, normalised, oracle_loss_change, plan_global, prune,
                                taylor, unit_flops)


def net_and_loader(n=12, batch_size=5):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 3, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.5), nn.Linear(3 * 2 * 2, 3))
    with torch.no_grad():  # BatchNorm statistics that are not the identity
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
    x, y = torch.randn(n, 2, 8, 8), torch.randint(0, 3, (n,))
    return model, DataLoader(TensorDataset(x, y), batch_size=batch_size), x, y


def test_taylor_by_hand_is_the_mean_over_images_of_the_absolute_mean_over_positions():
    model, loader, x, y = net_and_loader()
    model.eval()
    expected = torch.zeros(4)
    for xi, yi in zip(x, y):  # one image at a time: its own loss, its own |mean(z * dC/dz)|
        z = model[0](xi[None])
        loss = F.cross_entropy(model[1:](z), yi[None])
        (g,) = torch.autograd.grad(loss, z)
        expected += (z * g).mean((0, 2, 3)).abs().detach()
    scores = taylor(model, ["0", "4"], loader)
    assert torch.allclose(scores["0"], expected / len(x), rtol=1e-4, atol=1e-7)
    assert scores["4"].shape == (3,) and (scores["4"] >= 0).all()


def test_mean_activation_by_hand():
    model, loader, x, _ = net_and_loader()
    model.eval()
    with torch.no_grad():
        expected = model[:3](x).mean((0, 2, 3))
    assert torch.allclose(mean_activation(model, ["0"], loader)["0"], expected, atol=1e-6)


def test_ranking_leaves_weights_statistics_grads_hooks_and_mode_untouched():
    model, loader, _, _ = net_and_loader()
    model.train()
    model[0].weight.grad = torch.ones_like(model[0].weight)
    before = copy.deepcopy(model.state_dict())
    for criterion in (taylor, mean_activation, oracle_loss_change):
        criterion(model, ["0", "4"], loader)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(model[0].weight.grad, torch.ones_like(model[0].weight))
    assert model[4].weight.grad is None
    assert model.training and all(m.training for m in model.modules())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_oracle_is_the_loss_change_of_the_physically_pruned_network():
    model, loader, x, y = net_and_loader()
    model.eval()
    oracle = oracle_loss_change(model, ["0", "4"], loader)
    with torch.no_grad():
        base = F.cross_entropy(model(x), y).item()
        for name in ("0", "4"):
            units = model.get_submodule(name).out_channels
            for k in range(units):
                keep = {name: torch.tensor([j for j in range(units) if j != k])}
                removed = prune(model, keep, (2, 8, 8)).eval()
                change = abs(F.cross_entropy(removed(x), y).item() - base)
                assert oracle[name][k].item() == pytest.approx(change, rel=1e-4, abs=1e-6), (name, k)


def test_l2_normalisation_makes_every_layer_unit_norm():
    scores = {"a": torch.tensor([3.0, 4.0]), "b": torch.tensor([1e-6, 2e-6, 2e-6]), "c": torch.zeros(2)}
    out = normalised(scores, "l2")
    assert out["a"].tolist() == pytest.approx([0.6, 0.8])
    assert out["b"].norm().item() == pytest.approx(1.0)
    assert out["c"].tolist() == [0.0, 0.0]
    assert normalised(scores, "mean")["a"].tolist() == pytest.approx([6 / 7, 8 / 7])
    assert torch.equal(normalised(scores, None)["a"], scores["a"])
    with pytest.raises(ValueError, match="normalise must be one of"):
        normalised(scores, "max")
    with pytest.raises(TypeError, match="scores must be a dict"):
        normalised([1.0], "l2")


def test_unit_flops_is_what_removing_one_unit_saves():
    model, _, _, _ = net_and_loader()
    shape = (2, 8, 8)
    costs = unit_flops(model, shape)
    full = measure.summary(model, shape)["FLOPs"]
    for name, units in (("0", 4), ("4", 3)):
        smaller = prune(model, {name: torch.arange(units - 1)}, shape)
        assert costs[name] == full - measure.summary(smaller, shape)["FLOPs"], name
    plan = plan_global({"0": torch.ones(4), "4": torch.ones(3)}, 1, normalise=None, cost=costs)
    assert [len(plan["0"]), len(plan["4"])] == [3, 3]  # equal scores: the costlier unit goes
    with pytest.raises(ValueError, match="layers must be a non-empty list of prunable layers"):
        unit_flops(model, shape, ["8"])


@pytest.mark.parametrize("call, error, words", [
    (lambda m, l: taylor(m, ["1"], l), ValueError, "'1' is not a Conv2d or Linear"),
    (lambda m, l: taylor(m, "0", l), TypeError, "layers"),
    (lambda m, l: mean_activation(m, ["0"], l, batches=0), ValueError, "batches"),
    (lambda m, l: oracle_loss_change(m, ["8"], l), ValueError, "prunable layers"),
    (lambda m, l: oracle_loss_change(m, ["0"], []), ValueError, "at least one batch"),
    (lambda m, l: oracle_loss_change(m, ["0"], l, batches=0), ValueError, "batches"),
    (lambda m, l: oracle_loss_change("net", ["0"], l), TypeError, "model"),
])
def test_criteria_refuse_bad_arguments(call, error, words):
    model, loader, _, _ = net_and_loader()
    with pytest.raises(error, match=words):
        call(model, loader)


def test_transfer_head_is_the_blog_head():
    head = vgg.transfer_head(25088)
    assert [type(m).__name__ for m in head] == ["Dropout", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Linear"]
    assert (head[1].in_features, head[1].out_features, head[6].out_features) == (25088, 4096, 2)
    model = vgg.vgg16()
    model.classifier = head
    assert measure.count_params(model) == 134_268_738  # torchvision's VGG-16 with a 2-class head
    for kwargs, words in ((dict(in_features=0), "in_features"), (dict(in_features=8, hidden=0), "hidden"),
                          (dict(in_features=8, dropout=1.0), "dropout")):
        with pytest.raises(ValueError, match=words):
            vgg.transfer_head(**kwargs)


def test_imagenet_weights_offline_give_one_clear_message(monkeypatch):
    from torchvision.models import VGG16_Weights

    def offline(self, *args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(type(VGG16_Weights.IMAGENET1K_V1), "get_state_dict", offline)
    with pytest.raises(data.MissingDataError, match=r"(?s)ImageNet VGG-16 weights.*vgg16-397923af\.pth.*quick"):
        vgg.imagenet_vgg16()
    with pytest.raises(ValueError, match="weights must be None or one of"):
        vgg.imagenet_vgg16("IMAGENET")


def test_full_profile_path_on_a_tiny_image_folder_without_download(kaggle_folder):
    kaggle_folder(4, (90, 70))
    loaders = data.cats_vs_dogs_loaders(batch_size=2, per_class=(2, 1, 2), size=64)
    model = vgg.imagenet_vgg16(weights=None)
    model.classifier = vgg.transfer_head(512 * 7 * 7, hidden=16)
    model.features.requires_grad_(False)
    convs = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    scores = taylor(model, convs, loaders["train"], batches=1)
    assert [len(scores[n]) for n in convs] == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    assert all(torch.isfinite(s).all() for s in scores.values())
    assert set(dependencies(model, (3, 64, 64))) == set(convs) | {"classifier.1", "classifier.4"}


def test_exercise_checks_accept_right_answers_and_reject_wrong_ones(capsys):
    from course_lib.checks import nb04

    nb04.check_taylor_scores(lambda a, g: (a * g).flatten(2).mean(2).abs().mean(0))
    nb04.check_l2_rescale(lambda scores: {k: s / s.pow(2).sum().sqrt() for k, s in scores.items()})
    nb04.check_filter_flops(lambda c_in, k, side, c_next, k_next, side_next:
                            2 * (c_in * k * k * side ** 2 + c_next * k_next * k_next * side_next ** 2))
    assert capsys.readouterr().out.count("✓") == 3
    wrong = [
        (nb04.check_taylor_scores, lambda a, g: (a * g).mean((0, 2, 3)).abs(), "per image"),  # the blog's signed mean
        (nb04.check_taylor_scores, lambda a, g: (a * g).abs().mean((0, 2, 3)), "is wrong"),  # |.| per position
        (nb04.check_l2_rescale, lambda scores: {k: s / s.sum() for k, s in scores.items()}, "sqrt"),
        (nb04.check_filter_flops, lambda c_in, k, side, c_next, k_next, side_next: 2 * c_in * k * k * side ** 2,
         "next conv"),
    ]
    for check, answer, words in wrong:
        with pytest.raises(AssertionError, match=words):
            check(answer)
