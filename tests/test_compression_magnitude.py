import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

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
    masks, history = M.iterative_prune_(model, [0.5, {"classifier.1": 1.0}], loader(), epochs=1, lr=0.1,
                                        weight_decay=1e-3)
    assert len(history) == 2
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
