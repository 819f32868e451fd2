"""Checks for the exercises of notebook 05 (ThiNet)."""
import torch
import torch.nn as nn

from . import exercise, expect, passed
from ..pruning import greedy_removal, rescale_weights


@exercise
def check_channel_contributions(channel_contributions):
    """``channel_contributions(patch, kernel)``: patch (C, k, k) of the next layer's input and
    kernel (C, k, k), the weights of one of its filters -> (C,), channel c's share of that
    filter's output at that location (before the bias)."""
    gen = torch.Generator().manual_seed(5)
    for c, k in ((3, 3), (1, 5), (6, 1)):
        conv = nn.Conv2d(c, 2, k, bias=True)
        x = torch.randn(1, c, k + 2, k + 2, generator=gen)
        with torch.no_grad():
            out = conv(x) - conv.bias[:, None, None]
        patch, kernel = x[0, :, 1:1 + k, 2:2 + k], conv.weight.detach()[1]
        got = channel_contributions(patch.clone(), kernel.clone())
        expect(isinstance(got, torch.Tensor) and got.shape == (c,),
               f"channel_contributions on a ({c}, {k}, {k}) patch must return a tensor of shape ({c},), "
               f"got {getattr(got, 'shape', got)}")
        expect(torch.allclose(got.sum(), out[0, 1, 1, 2], atol=1e-5),
               "the contributions must add up to the filter's output at that location minus its bias")
        expect(torch.allclose(got, (patch * kernel).sum((1, 2)), atol=1e-5),
               "each entry is one channel's share: multiply the patch by the kernel, sum over the k x k "
               "window only, not over the channels")
    passed("channel_contributions splits a conv output into one term per input channel")


@exercise
def check_greedy_step(greedy_step):
    """``greedy_step(x, removed)``: contributions x (n, C) and the list of channels removed so far
    -> the channel ThiNet removes next (an int)."""
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(40, 6, generator=gen, dtype=torch.float64)
    x[:, 2] *= 0.05  # a weak channel: the first to go, whatever the rest
    order, _ = greedy_removal(x)
    for t in range(5):
        removed = order[:t].tolist()
        got = greedy_step(x.clone(), list(removed))
        expect(isinstance(got, int) or (isinstance(got, torch.Tensor) and got.numel() == 1),
               f"greedy_step must return one channel index, got {got!r}")
        expect(int(got) not in removed, f"greedy_step returned channel {int(got)}, which is already removed")
        expect(int(got) == int(order[t]),
               f"after removing {removed}, the next channel is the one that keeps the squared sum of the "
               f"removed contributions, summed over the samples, smallest: {int(order[t])}, not {int(got)}")
    passed("greedy_step picks ThiNet's next channel five times in a row")


@exercise
def check_least_squares_scale(least_squares_scale):
    """``least_squares_scale(x, kept)``: contributions x (n, C) and kept channel indices ->
    (len(kept),) scale factors minimising the squared error of y = x.sum(1)."""
    gen = torch.Generator().manual_seed(9)
    x = torch.randn(50, 5, generator=gen, dtype=torch.float64)
    x[:, 4] = 0.5 * x[:, 1] + 0.01 * torch.randn(50, generator=gen, dtype=torch.float64)  # 4 is nearly a copy of 1
    x[:, 2] *= 0.01  # and 2 is weak
    kept = [0, 1, 3]
    want, _ = rescale_weights(x, kept)
    got = least_squares_scale(x.clone(), list(kept))
    expect(isinstance(got, torch.Tensor) and got.shape == (3,),
           f"least_squares_scale must return one factor per kept channel, shape (3,), got {getattr(got, 'shape', got)}")
    expect(torch.allclose(got.double(), want.double(), atol=1e-4),
           "the factors must minimise sum_i (y_i - sum_j w_j x_ij)^2 over the kept channels j, with "
           "y = x.sum(1) including the removed channels (channel 1 should take over most of channel 4)")
    expect(abs(float(got[1]) - 1.5) < 0.05, "channel 1 should be scaled by about 1.5: it stands in for channel 4")
    passed("least_squares_scale refits the kept channels to the full output")

