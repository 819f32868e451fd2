"""HRank (Lin et al. 2020): batched ranks of feature maps, equal to one SVD per map; the scores
are mean ranks read after BatchNorm and ReLU, and scoring leaves the model as it was."""
import copy

import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.pruning import feature_map_ranks, hrank


def rank_r_maps(ranks, h=9, w=7, seed=0):
    """One h x w map per entry of ``ranks``: a sum of r random rank-one maps u v^T."""
    gen = torch.Generator().manual_seed(seed)
    maps = [sum((torch.randn(h, 1, generator=gen) @ torch.randn(1, w, generator=gen) for _ in range(r)),
                torch.zeros(h, w)) for r in ranks]
    return torch.stack(maps)


def test_sums_of_r_rank_one_maps_have_rank_r_in_one_batched_call():
    ranks = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7], [7, 3, 1, 0]])  # up to min(9, 7) = 7
    maps = rank_r_maps(ranks.flatten().tolist()).view(3, 4, 9, 7)
    got = feature_map_ranks(maps)
    assert got.shape == (3, 4) and got.dtype == torch.int64
    assert torch.equal(got, ranks)
    assert torch.equal(feature_map_ranks(maps.double()), ranks)  # taken in float32 either way


def test_tolerance_decides_what_counts():
    # singular values 1, 1e-3, 1e-9: the default tolerance (7 x 1.2e-7) drops only the last one
    u, _ = torch.linalg.qr(torch.randn(7, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    m = (u * torch.tensor([1.0, 1e-3, 1e-9], dtype=torch.float64)) @ u.T
    assert feature_map_ranks(m).item() == 2
    assert feature_map_ranks(m, rtol=1e-2).item() == 1
    assert feature_map_ranks(m, rtol=0.0).item() >= 2


def net_and_loader(n=10, batch_size=4):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 5, 3, padding=1), nn.BatchNorm2d(5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(5, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 2 * 2, 3))
    with torch.no_grad():  # BatchNorm that shifts some channels below zero, so the ReLU matters
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].bias.copy_(torch.tensor([0.0, -3.0, 0.5, -0.5, 1.0]))
    x, y = torch.randn(n, 2, 8, 8), torch.randint(0, 3, (n,))
    return model, DataLoader(TensorDataset(x, y), batch_size=batch_size), x


def test_scores_equal_one_svd_per_map_after_batchnorm_and_relu():
    model, loader, x = net_and_loader()
    model.eval()
    with torch.no_grad():
        maps = {"0": model[:3](x), "4": model[:6](x)}  # after conv0's BatchNorm and ReLU; after conv4's ReLU
    for name, m in maps.items():
        expected = torch.tensor([[torch.linalg.matrix_rank(m[i, j]).item() for j in range(m.shape[1])]
                                 for i in range(len(x))], dtype=torch.float64).mean(0)
        assert torch.allclose(hrank(model, ["0", "4"], loader)[name].double(), expected), name
    assert hrank(model, ["0"], loader)["0"][1] < 8  # channel 1, pushed below zero, is mostly silenced


def test_scoring_leaves_the_model_unchanged_and_batches_limit_the_data():
    model, loader, x = net_and_loader()
    model.train()
    before = copy.deepcopy(model.state_dict())
    first = hrank(model, ["0"], loader, batches=1)["0"]
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    one_batch = DataLoader(TensorDataset(x[:4], torch.zeros(4, dtype=torch.int64)), batch_size=4)
    assert torch.equal(first, hrank(model, ["0"], one_batch)["0"])


@pytest.mark.parametrize("call, error, words", [
    (lambda: feature_map_ranks([[1.0]]), TypeError, "maps must be a floating-point tensor"),
    (lambda: feature_map_ranks(torch.ones(3, 3, dtype=torch.int64)), TypeError, "maps"),
    (lambda: feature_map_ranks(torch.ones(3)), ValueError, "(..., H, W)"),
    (lambda: feature_map_ranks(torch.ones(2, 0, 3)), ValueError, "H, W >= 1"),
    (lambda: feature_map_ranks(torch.ones(3, 3), rtol=-0.1), ValueError, "rtol"),
    (lambda: feature_map_ranks(torch.ones(3, 3), rtol="1e-3"), ValueError, "rtol"),
])
def test_ranks_refuse_bad_input(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        call()


def test_hrank_refuses_bad_layers_and_tolerance():
    model, loader, _ = net_and_loader()
    with pytest.raises(ValueError, match="conv layers only"):
        hrank(model, ["0", "7"], loader)
    with pytest.raises(ValueError, match="not a Conv2d or Linear"):
        hrank(model, ["1"], loader)
    with pytest.raises(ValueError, match="rtol"):
        hrank(model, ["0"], loader, rtol=2.0)
    with pytest.raises(ValueError, match="batches"):
        hrank(model, ["0"], loader, batches=0)
