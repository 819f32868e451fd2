"""Checks for the exercises of notebook 03 (L1-norm filter pruning)."""
import torch
import torch.nn as nn

from . import exercise, expect, passed
from ..measure import count_params
from ..pruning import prune


@exercise
def check_filter_l1(filter_l1):
    """``filter_l1(weight)``: Li et al.'s s_j = sum |W_j| for every filter of a (out, in, k, k) weight."""
    gen = torch.Generator().manual_seed(3)
    for shape in ((5, 3, 3, 3), (1, 2, 1, 1), (7, 4, 5, 5)):
        weight = torch.randn(shape, generator=gen)
        want = weight.abs().sum(dim=(1, 2, 3))
        got = filter_l1(weight.clone())
        expect(isinstance(got, torch.Tensor) and got.shape == want.shape,
               f"filter_l1 on a weight of shape {shape} must return a tensor of shape ({shape[0]},), "
               f"got {getattr(got, 'shape', got)}")
        expect(torch.allclose(got, want, atol=1e-5),
               f"filter_l1 on shape {shape} is wrong: sum the ABSOLUTE values of each filter's in*k*k weights")
    passed("filter_l1 is Li et al.'s sum of absolute kernel weights")


@exercise
def check_keep_indices(keep_indices):
    """``keep_indices(scores, ratio)``: sorted indices of the filters that survive when the
    round(ratio * n) lowest-scoring ones are removed."""
    gen = torch.Generator().manual_seed(5)
    for n, ratio in ((10, 0.3), (7, 0.5), (16, 0.75), (4, 0.0)):
        scores = torch.rand(n, generator=gen)
        removed = set(scores.argsort()[:round(ratio * n)].tolist())
        want = [i for i in range(n) if i not in removed]
        got = keep_indices(scores.clone(), ratio)
        got = got.tolist() if isinstance(got, torch.Tensor) else list(got)
        expect(len(got) == len(want), f"with n={n}, ratio={ratio} keep {len(want)} filters, got {len(got)}")
        expect(got == want, f"with scores {scores.numpy().round(2).tolist()} and ratio {ratio} keep {want} "
                            f"(sorted, the lowest scores removed), got {got}")
    passed("keep_indices removes the lowest scores and keeps the rest in order")


@exercise
def check_params_removed(params_removed):
    """``params_removed(c_in, n, c_next, k, k_next, m)``: parameters that disappear when m of the n
    filters of conv(c_in -> n, k x k, bias) -> BatchNorm2d(n) -> conv(n -> c_next, k_next x k_next)
    are removed. Checked against the surgery on real modules."""
    for c_in, n, c_next, k, k_next, m in ((3, 8, 5, 3, 3, 2), (1, 6, 16, 5, 5, 5), (4, 10, 2, 1, 3, 1)):
        net = nn.Sequential(nn.Conv2d(c_in, n, k, padding=k // 2), nn.BatchNorm2d(n), nn.ReLU(),
                            nn.Conv2d(n, c_next, k_next, padding=k_next // 2), nn.Flatten(),
                            nn.Linear(c_next * 8 * 8, 2))
        small = prune(net, {"0": list(range(m, n))}, (c_in, 8, 8))
        want = count_params(net) - count_params(small)
        got = params_removed(c_in, n, c_next, k, k_next, m)
        expect(got == want, f"params_removed({c_in}, {n}, {c_next}, {k}, {k_next}, {m}) returned {got}, the "
                            f"surgery removes {want}: count the filters with their biases, BatchNorm's gamma "
                            "and beta, and the next conv's input channels")
    passed("params_removed agrees with the surgery on three layer pairs")
