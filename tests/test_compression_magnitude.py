import copy

import pytest
import torch
import torch.nn.utils.prune as torch_prune
from torch.utils.data import DataLoader, TensorDataset

from course_lib import train
from course_lib.compression import magnitude as M
from course_lib.models.lenet import LeNet5Caffe


def loader():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 1, 28, 28, generator=g)
    return DataLoader(TensorDataset(x, torch.randint(10, (64,), generator=g)), batch_size=16)


def test_threshold_is_quality_times_std():
    torch.manual_seed(0)
    model = LeNet5Caffe()
    masks = M.magnitude_masks(model, 1.0)
    for name, m in M.prunable_layers(model).items():
        w = m.weight.detach()
        assert torch.equal(masks[name], w.abs() > w.std())


def test_pruned_weights_stay_zero_through_retraining():
    torch.manual_seed(0)
    model = LeNet5Caffe()
    # momentum and weight decay would revive a pruned weight whose gradient were not masked
    run = M.iterative_prune_(model, [0.5, {"classifier.1": 1.0}], loader(), epochs=2, lr=0.1, weight_decay=1e-3)
    masks = run.kept
    assert run.model is model and run.history["step"].tolist() == [1, 1, 2, 2]  # two epochs per step
    assert "train_loss" in run.history.columns
    dens = M.density(masks)
    assert dens["classifier.1"] < 0.5 and 0.4 < dens["features.0"] < 0.8
    for name, m in M.prunable_layers(model).items():
        assert not m.weight[~masks[name]].any()
        assert m.weight[masks[name]].all()  # survivors were trained, not zeroed


def test_gradients_of_pruned_weights_are_masked_and_hooks_removed():
    torch.manual_seed(0)
    model = LeNet5Caffe()
    masks = M.magnitude_masks(model, 0.8)
    M.apply_masks_(model, masks)
    x, y = next(iter(loader()))
    with M.masked_gradients(model, masks):
        torch.nn.functional.cross_entropy(model(x), y).backward()
    for name, m in M.prunable_layers(model).items():
        assert not m.weight.grad[~masks[name]].any()
        assert m.weight.grad[masks[name]].abs().sum() > 0
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()  # outside the block: full gradients
    assert model.classifier[1].weight.grad[~masks["classifier.1"]].abs().sum() > 0


def test_masks_only_shrink():
    torch.manual_seed(0)
    model = LeNet5Caffe()
    first = M.magnitude_masks(model, 0.5)
    second = M.magnitude_masks(model, 0.1, first)
    assert all(torch.equal(first[n] & second[n], second[n]) for n in first)


def test_fraction_masks_remove_that_share_of_the_survivors():
    torch.manual_seed(0)
    model = LeNet5Caffe()
    first = M.fraction_masks(model, {"features.0": 0.5, "classifier.1": 0.9})
    w = model.classifier[1].weight.detach().abs()
    assert int(first["classifier.1"].sum()) == round(0.1 * w.numel())
    assert w[first["classifier.1"]].min() > w[~first["classifier.1"]].max()  # the smallest went
    assert first["features.2"].all()  # a layer not named keeps everything
    second = M.fraction_masks(model, {"features.0": 0.5}, first)
    assert int(second["features.0"].sum()) == 125 and torch.equal(first["features.0"] & second["features.0"],
                                                                 second["features.0"])


def test_fraction_masks_rank_by_any_per_connection_scores_as_torch_prune_does():
    torch.manual_seed(0)
    model = LeNet5Caffe()
    w = model.classifier[1].weight.detach()
    same = M.fraction_masks(model, {"classifier.1": 0.7}, scores={"classifier.1": w.abs()})
    assert torch.equal(same["classifier.1"], M.fraction_masks(model, {"classifier.1": 0.7})["classifier.1"])
    scores = torch.rand(w.shape, generator=torch.Generator().manual_seed(1))
    ours = M.fraction_masks(model, {"classifier.1": 0.7}, scores={"classifier.1": scores})["classifier.1"]
    layer = copy.deepcopy(model.classifier[1])
    torch_prune.l1_unstructured(layer, "weight", amount=round(0.7 * w.numel()), importance_scores=scores)
    assert torch.equal(ours, layer.weight_mask.bool())
    with pytest.raises(ValueError, match="scores must be None or a dict"):
        M.fraction_masks(model, {"classifier.1": 0.7}, scores={"classifier.1": torch.ones(3)})
    with pytest.raises(ValueError, match="scores must be None or a dict"):
        M.fraction_masks(model, {"classifier.1": 0.7}, scores=[scores])


def test_even_steps_reach_the_ratios():
    schedule = M.even_steps({"a": 0.96, "b": 0.0}, 2)
    assert len(schedule) == 2 and schedule[0] == schedule[1]
    assert schedule[0]["a"] == pytest.approx(0.8) and schedule[0]["b"] == 0
    torch.manual_seed(0)
    model = LeNet5Caffe()
    masks = None
    for step in M.even_steps({"classifier.1": 0.96}, 2):
        masks = M.fraction_masks(model, step, masks)
    assert M.density(masks)["classifier.1"] == pytest.approx(0.04, abs=1e-5)


def test_weight_sensitivity_prunes_one_layer_at_a_time_and_leaves_the_model():
    torch.manual_seed(0)
    model = LeNet5Caffe().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    table = M.weight_sensitivity(model, loader(), ratios=(0.9, 0.5))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert list(table["layer"].unique()) == list(M.prunable_layers(model))
    assert len(table) == 4 * 3 and list(table[table["layer"] == "features.0"]["ratio"]) == [0.0, 0.5, 0.9]
    row = table[(table["layer"] == "classifier.1") & (table["ratio"] == 0.9)].iloc[0]
    net = M.apply_masks_(copy.deepcopy(model), M.fraction_masks(model, {"classifier.1": 0.9}))
    assert row["accuracy"] == train.evaluate(net, loader())["accuracy"]
    assert row["drop"] == pytest.approx(table["accuracy"].iloc[0] - row["accuracy"]) and row["kept"] == 40000


def test_bad_arguments_name_the_argument():
    model = LeNet5Caffe()
    with pytest.raises(ValueError, match="quality"):
        M.magnitude_masks(model, -1)
    with pytest.raises(TypeError, match="model"):
        M.prunable_layers("lenet")
    with pytest.raises(ValueError, match="masks"):
        M.apply_masks_(model, {"features.0": torch.ones(3, dtype=torch.bool)})
    with pytest.raises(ValueError, match="masks"):
        with M.masked_gradients(model, {"nope": torch.ones(3, dtype=torch.bool)}):
            pass
    with pytest.raises(TypeError, match="masks"):
        M.density({})
    with pytest.raises(ValueError, match="schedule"):
        M.iterative_prune_(model, [], loader())
    with pytest.raises(TypeError, match="masks_fn"):
        M.iterative_prune_(model, [0.5], loader(), masks_fn="fractions")
    with pytest.raises(ValueError, match="ratios"):
        M.fraction_masks(model, {"nope": 0.5})
    with pytest.raises(ValueError, match=r"ratios\['features.0'\]"):
        M.fraction_masks(model, {"features.0": 1.0})
    with pytest.raises(ValueError, match="steps"):
        M.even_steps({"features.0": 0.5}, 0)
    with pytest.raises(ValueError, match="ratios"):
        M.even_steps({}, 2)
    with pytest.raises(ValueError, match="ratio"):
        M.weight_sensitivity(model, loader(), ratios=(0.0,))
