"""Checks for the exercises of notebook 01 (LeNet-5 anatomy)."""
import torch
import torch.nn as nn

from . import exercise, expect, passed
from ..models.lenet import PartialConv2d

SIZES = [(32, 5, 1, 0), (28, 5, 1, 2), (224, 11, 4, 2), (14, 2, 2, 0), (7, 3, 1, 1)]


@exercise
def check_conv_output_size(out_size):
    """``out_size(n, k, stride, padding)`` must match what ``nn.Conv2d`` produces."""
    for n, k, stride, padding in SIZES:
        want = nn.Conv2d(1, 1, k, stride, padding)(torch.zeros(1, 1, n, n)).shape[-1]
        got = out_size(n, k, stride, padding)
        expect(got == want, f"out_size({n}, {k}, stride={stride}, padding={padding}) returned {got}, "
                            f"nn.Conv2d gives {want}: floor((n + 2 padding - k) / stride) + 1")
    passed(f"out_size agrees with nn.Conv2d on {len(SIZES)} cases")


TABLES = [((0, 1), (1, 2), (0, 2)), ((0,), (0, 1, 2, 3)), ((0, 1, 2), (3,), (1, 3), (0, 2, 3))]


@exercise
def check_partial_params(partial_params):
    """``partial_params(table, k)`` must count the parameters of a partially connected k x k conv."""
    for table in TABLES:
        want = sum(p.numel() for p in PartialConv2d(table, kernel_size=5).parameters())
        got = partial_params(table, 5)
        expect(got == want, f"partial_params({table}, 5) returned {got}, expected {want}: each output map "
                            "has k*k weights per connected input map, plus one bias")
    passed("partial_params is right on tables it had not seen")


@exercise
def check_connections(connections):
    """``connections(params_per_map, maps, out_side)`` = trainable parameters x output positions
    for a convolutional layer with shared weights."""
    for per_map, maps, side in ((26, 6, 28), (76, 3, 10), (401, 120, 1)):
        want = per_map * maps * side * side
        got = connections(per_map, maps, side)
        expect(got == want, f"connections({per_map}, {maps}, {side}) returned {got}, expected {want}: every "
                            "output unit uses all the parameters of its map once")
    passed("connections reproduces C1's 122,304 and C5's 48,120 connections, and one made-up layer's")
