"""recalibrate_bn re-estimates BatchNorm running statistics from data, touching nothing else."""
import copy

import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.pruning import recalibrate_bn


def net():
    torch.manual_seed(0)
    # the Dropout before the conv would change the statistics if it ran during recalibration
    return nn.Sequential(nn.Dropout(0.5), nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3))


def loader(n_batches=3):
    torch.manual_seed(1)
    x = 3 * torch.randn(8 * n_batches, 2, 6, 6) + 1
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=8)


def test_statistics_are_the_average_of_the_batch_statistics_without_dropout():
    model, data = net().train(), loader()
    with torch.no_grad():  # independent reference: the conv's outputs, batch by batch
        outs = [model[1](x) for x, _ in data]
    recalibrate_bn(model, data, device="cpu")
    bn = model[2]
    want_mean = torch.stack([o.mean((0, 2, 3)) for o in outs]).mean(0)
    want_var = torch.stack([o.var((0, 2, 3), unbiased=True) for o in outs]).mean(0)
    assert torch.allclose(bn.running_mean, want_mean, atol=1e-5)
    assert torch.allclose(bn.running_var, want_var, atol=1e-4)
    assert not torch.allclose(want_mean, torch.zeros(4))  # the reset values would not pass


@pytest.mark.parametrize("training", [True, False])
def test_weights_mode_and_momentum_are_kept(training):
    model = net().train(training)
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "batches" not in k}
    assert recalibrate_bn(model, loader(), device="cpu") is model
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    assert model.training == training and model[2].training == training and model[2].momentum == 0.1


def test_refuses_bad_arguments():
    with pytest.raises(TypeError, match="model"):
        recalibrate_bn("model", loader())
    with pytest.raises(ValueError, match="BatchNorm"):
        recalibrate_bn(nn.Linear(2, 2), loader())
    model = recalibrate_bn(net(), loader(), device="cpu")  # statistics that a reset would change
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match="loader"):
        recalibrate_bn(model, [], device="cpu")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
