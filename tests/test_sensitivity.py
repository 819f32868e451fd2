"""Sensitivity analysis prunes one layer at a time by L1 and evaluates without retraining;
choose_ratios turns its curves into per-layer ratios."""
import copy

import matplotlib
import pandas as pd
import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.pruning import (choose_ratios, greedy_ratios, l1_norm, l2_norm, layer_sensitivity, plan_largest,
                                plan_smallest, plot_sensitivity, prune, recalibrate_bn)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(6, 10)).eval()
    x = torch.randn(100, 1, 8, 8)
    y = model(x).argmax(1).detach()  # labels the model gets right: accuracy 1 before pruning
    return model, DataLoader(TensorDataset(x, y), batch_size=25)


def accuracy_removing_smallest_l1(model, loader, layer, n_removed):
    """Independent reference: zero the smallest-L1 filters' outgoing connections by hand."""
    ref = copy.deepcopy(model)
    conv, consumer = ref[layer], ref[{0: 4, 4: 8}[layer]]
    removed = conv.weight.abs().sum((1, 2, 3)).argsort()[:n_removed]
    with torch.no_grad():
        consumer.weight[:, removed] = 0
    x, y = loader.dataset.tensors
    with torch.no_grad():
        return (ref(x).argmax(1) == y).sum().item() / len(y)


def test_sensitivity_prunes_each_layer_alone_by_l1(setup):
    model, loader = setup
    before = copy.deepcopy(model.state_dict())
    table = layer_sensitivity(model, loader, (1, 8, 8), ratios=(0.25, 0.5, 0.75))
    assert list(table["layer"].unique()) == ["0", "4"]
    assert table[table["ratio"] == 0]["accuracy"].tolist() == [1.0, 1.0]
    assert table["drop"].nunique() > 3  # pruning changes predictions, so a wrong choice of filters shows
    for row in table[table["ratio"] > 0].itertuples():
        n = model.get_submodule(row.layer).out_channels
        assert row.kept == n - round(row.ratio * n)
        want = accuracy_removing_smallest_l1(model, loader, int(row.layer), n - row.kept)
        assert row.accuracy == pytest.approx(want, abs=1e-9) and row.drop == pytest.approx(1 - want)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_sensitivity_takes_a_selection(setup):
    """selection=plan_largest removes the largest-L1 filters: the same as ranking negated norms."""
    model, loader = setup
    largest = layer_sensitivity(model, loader, (1, 8, 8), ratios=(0.25, 0.5), selection=plan_largest)
    negated = layer_sensitivity(model, loader, (1, 8, 8), ratios=(0.25, 0.5),
                                criterion=lambda m, layers: {k: -v for k, v in l1_norm(m, layers).items()})
    smallest = layer_sensitivity(model, loader, (1, 8, 8), ratios=(0.25, 0.5))
    assert largest["accuracy"].tolist() == negated["accuracy"].tolist()
    assert largest["accuracy"].tolist() != smallest["accuracy"].tolist()
    with pytest.raises(TypeError, match="selection must be a callable"):
        layer_sensitivity(model, loader, (1, 8, 8), selection="largest")


def test_sensitivity_takes_other_criteria_and_layers(setup):
    model, loader = setup
    table = layer_sensitivity(model, loader, (1, 8, 8), ratios=(0.5,), criterion=l2_norm, layers=["4"])
    assert table["layer"].tolist() == ["4", "4"] and table["kept"].tolist() == [6, 3]


def test_sensitivity_recalibrates_each_pruned_copy_on_the_first_calibration_batches():
    torch.manual_seed(0)
    # a BatchNorm after the consumer conv: pruning conv "0" changes what it normalises
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(6, 10))
    x = torch.randn(200, 1, 8, 8)
    recalibrate_bn(model, DataLoader(TensorDataset(x, x[:, 0, 0, 0]), batch_size=50), device="cpu").eval()
    with torch.no_grad():
        y = model(x[:100]).argmax(1)
    loader = DataLoader(TensorDataset(x[:100], y), batch_size=25)
    # three calibration batches; the third is scaled so that using it would change the statistics
    calib_x = torch.cat([x[100:], 10 * x[100:150]])
    calibration = DataLoader(TensorDataset(calib_x, torch.zeros(len(calib_x))), batch_size=50)
    before = copy.deepcopy(model.state_dict())
    ratios = (0.25, 0.5, 0.75)
    stale = layer_sensitivity(model, loader, (1, 8, 8), ratios=ratios, layers=["0"])
    table = layer_sensitivity(model, loader, (1, 8, 8), ratios=ratios, layers=["0"],
                              calibration_loader=calibration, calibration_batches=2)
    assert table[table["ratio"] == 0]["accuracy"].tolist() == [1.0]  # the unpruned row is not recalibrated
    first_two = [(calib_x[:50], None), (calib_x[50:100], None)]
    for row in table[table["ratio"] > 0].itertuples():
        pruned = prune(model, plan_smallest(l1_norm(model, ["0"]), row.ratio), (1, 8, 8))
        recalibrate_bn(pruned, first_two, device="cpu").eval()
        with torch.no_grad():
            want = (pruned(x[:100]).argmax(1) == y).sum().item() / len(y)
        assert row.accuracy == pytest.approx(want, abs=1e-9)
    assert not table["accuracy"].equals(stale["accuracy"])  # recalibration did change the evaluation
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_sensitivity_recalibrates_only_the_batchnorms_from_the_pruned_layer_on():
    """Pruning "4" leaves the layers before it as they were: BatchNorm "1" keeps its trained
    statistics and normalises the calibration images with them; "5" onward are re-estimated."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.Conv2d(6, 6, 3, padding=1),
                          nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(), nn.Linear(96, 10))
    x = torch.randn(150, 1, 8, 8)
    recalibrate_bn(model, [(x[100:], None)], device="cpu").eval()
    with torch.no_grad():
        y = model(x[:100]).argmax(1)
    calibration = [(2 * x[:50] + 0.5, None)]  # other statistics than the ones stored
    table = layer_sensitivity(model, DataLoader(TensorDataset(x[:100], y), batch_size=30), (1, 8, 8),
                              ratios=(0.5,), layers=["4"], calibration_loader=calibration, calibration_batches=1)
    pruned = prune(model, plan_smallest(l1_norm(model, ["4"]), 0.5), (1, 8, 8))
    with torch.no_grad():
        for bn in (pruned[5], pruned[8]):  # by hand: the later BatchNorms average one batch in train mode
            bn.reset_running_stats()
            bn.momentum = None
            bn.train()
        pruned(calibration[0][0])
        want = (pruned.eval()(x[:100]).argmax(1) == y).sum().item() / len(y)
        everything = recalibrate_bn(prune(model, plan_smallest(l1_norm(model, ["4"]), 0.5), (1, 8, 8)), calibration)
        not_wanted = (everything.eval()(x[:100]).argmax(1) == y).sum().item() / len(y)
    assert torch.equal(pruned[1].running_mean, model[1].running_mean)
    assert table["accuracy"].iloc[1] == pytest.approx(want, abs=1e-9)
    assert want != not_wanted  # re-estimating BatchNorm "1" too would have given another accuracy


@pytest.mark.parametrize("kwargs, words", [
    (dict(ratios=(0.5, 1.0)), "ratios"), (dict(ratios=()), "ratios"), (dict(ratios=0.5), "ratios"),
    (dict(layers=[]), "layers"), (dict(layers=["8"]), "layers"), (dict(layers="0"), "layers"),
    (dict(calibration_loader=3), "calibration_loader"), (dict(calibration_batches=0), "calibration_batches"),
    (dict(calibration_batches=2.0), "calibration_batches"), (dict(calibration_batches=True), "calibration_batches"),
])
def test_sensitivity_refuses_bad_arguments(setup, kwargs, words):
    model, loader = setup
    with pytest.raises(ValueError, match=words):
        layer_sensitivity(model, loader, (1, 8, 8), **kwargs)


def test_choose_ratios_takes_the_largest_ratio_before_the_first_failure():
    table = pd.DataFrame({
        "layer": ["a"] * 4 + ["b"] * 4 + ["c"] * 2,
        "ratio": [0.0, 0.2, 0.4, 0.6] * 2 + [0.0, 0.2],
        "drop": [0.0, 0.005, 0.03, 0.0, 0.0, 0.0, 0.01, 0.02, 0.0, 0.2]})
    # a: fails at 0.4, so 0.6 does not count even though its drop is 0; b: 0.01 <= tolerance
    assert choose_ratios(table, tolerance=0.01) == {"a": 0.2, "b": 0.4, "c": 0.0}
    assert choose_ratios(table, tolerance=0.5) == {"a": 0.6, "b": 0.6, "c": 0.2}


def test_choose_ratios_and_plot_refuse_bad_arguments():
    with pytest.raises(TypeError, match="table"):
        choose_ratios({"layer": []})
    with pytest.raises(ValueError, match="tolerance"):
        choose_ratios(pd.DataFrame({"layer": [], "ratio": [], "drop": []}), tolerance=1.5)
    with pytest.raises(TypeError, match="table"):
        plot_sensitivity(pd.DataFrame({"layer": []}))


def test_plot_draws_one_curve_per_layer(setup):
    model, loader = setup
    table = layer_sensitivity(model, loader, (1, 8, 8), ratios=(0.5,))
    fig = plot_sensitivity(table)
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 2 and len(fig.axes[0].lines[0].get_xdata()) == 2
    matplotlib.pyplot.close(fig)
    layers = list(dict.fromkeys(table["layer"]))
    fig = plot_sensitivity(table, {"first": layers[:1], "second": layers[1:]})
    assert [len(ax.lines) for ax in fig.axes] == [1, 1] and [ax.get_title() for ax in fig.axes] == ["first", "second"]
    matplotlib.pyplot.close(fig)
    for bad in ({}, {"x": []}, {"x": ["no such layer"]}, [layers]):
        with pytest.raises(ValueError, match="panels must be a non-empty dict"):
            plot_sensitivity(table, bad)


def test_greedy_ratios_takes_the_cheapest_step_until_the_target_holds():
    table = pd.DataFrame({
        "layer": ["a"] * 3 + ["b"] * 3,
        "ratio": [0.0, 0.25, 0.5] * 2,
        "drop": [0.0, 0.01, 0.02, 0.0, 0.01, 0.05]})
    asked = []

    def removed_at_least(total):
        def target(ratios):
            asked.append(ratios)
            return sum(ratios.values()) >= total
        return target

    # steps in order: b 0.25 (tie with a at 0.01: the later layer), a 0.25, a 0.5 (0.02 < 0.05), b 0.5
    assert greedy_ratios(table, removed_at_least(0.25)) == {"a": 0.0, "b": 0.25}
    assert greedy_ratios(table, removed_at_least(0.75)) == {"a": 0.5, "b": 0.25}
    assert greedy_ratios(table, removed_at_least(0.0)) == {"a": 0.0, "b": 0.0}
    assert asked[-1] == {"a": 0.0, "b": 0.0}
    with pytest.raises(ValueError, match="target"):
        greedy_ratios(table, removed_at_least(1.5))


def test_greedy_ratios_refuses_bad_arguments():
    with pytest.raises(TypeError, match="table"):
        greedy_ratios({"layer": []}, lambda r: True)
    with pytest.raises(TypeError, match="target"):
        greedy_ratios(pd.DataFrame({"layer": ["a"], "ratio": [0.0], "drop": [0.0]}), 0.3)
