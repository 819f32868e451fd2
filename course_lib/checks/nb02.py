"""Checks for the exercises of notebook 02 (compact architectures)."""
import functools
import itertools

import numpy as np
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from . import exercise, expect, passed
from ..measure import count_params
from ..models.compact import Fire, mobilenet_v1

ALPHAS, RESOLUTIONS = (1.0, 0.75, 0.5, 0.25), (224, 192, 160, 128)


def check_fire_design(fire, in_channels=64, out_channels=128, budget=5000):
    """Exercise 1: ``fire`` is a Fire module mapping ``in_channels`` to ``out_channels`` maps of the
    same size, at least half of its expand filters 3x3, at most ``budget`` parameters, and the
    largest squeeze layer that fits: one more squeeze channel would break the budget."""
    expect(isinstance(fire, Fire), f"expected a Fire module, got {type(fire).__name__}")
    expect(fire.in_channels == in_channels, f"the module reads {fire.in_channels} channels, not {in_channels}")
    x = torch.randn(2, in_channels, 9, 9, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = fire(x)
    expect(tuple(out.shape) == (2, out_channels, 9, 9),
           f"a (2, {in_channels}, 9, 9) input should give (2, {out_channels}, 9, 9), got {tuple(out.shape)}")
    e1, e3 = fire.expand1x1.out_channels, fire.expand3x3.out_channels
    expect(2 * e3 >= out_channels, f"only {e3} of {out_channels} expand filters are 3x3; keep at least half")
    params = count_params(fire)
    expect(params <= budget, f"the module has {params:,} parameters, more than the budget of {budget:,}")
    bigger = count_params(Fire(in_channels, fire.squeeze.out_channels + 1, e1, e3))
    expect(bigger > budget, f"a squeeze layer of {fire.squeeze.out_channels + 1} channels still fits "
                            f"({bigger:,} parameters): squeeze more channels through")
    passed(f"Fire({in_channels} -> {out_channels}) with {params:,} parameters (budget {budget:,})")


@exercise
def check_pays_off(pays_off):
    """Exercise 2: ``pays_off(n, d_k)`` is True exactly when a depthwise-separable block needs
    fewer multiply-adds than the standard convolution it replaces (counted by FlopCounterMode)."""
    expect(callable(pays_off), "pays_off must be a function of (n, d_k)")
    cases = list(itertools.product((1, 2, 3, 8, 64), (1, 3, 5)))
    for n, d_k in cases:
        standard = nn.Conv2d(4, n, d_k, padding=d_k // 2, bias=False)
        separable = nn.Sequential(nn.Conv2d(4, 4, d_k, padding=d_k // 2, groups=4, bias=False),
                                  nn.Conv2d(4, n, 1, bias=False))
        truth = _flops(separable, (1, 4, 6, 6)) < _flops(standard, (1, 4, 6, 6))
        answer = pays_off(n, d_k)
        # numpy's comparisons return numpy.bool_, which is as good an answer as Python's bool
        expect(isinstance(answer, (bool, np.bool_)),
               f"pays_off({n}, {d_k}) should return True or False, got {answer!r} of type "
               f"{type(answer).__module__}.{type(answer).__qualname__}")
        expect(answer == truth, f"pays_off(n={n}, d_k={d_k}) returned {answer}, but separable "
                                f"{'is' if truth else 'is not'} cheaper there")
    passed(f"pays_off agrees with the counted multiply-adds on {len(cases)} (N, D_K) pairs")


def _flops(model, shape):
    """FLOPs of ``model`` on a meta tensor of ``shape`` (shapes only: nothing is computed)."""
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.empty(shape, device="meta"))
    return counter.get_total_flops()


@functools.cache
def _mobilenet_grid():
    """Multiply-adds of MobileNet-v1 for every (alpha, input_size) of the paper's grids."""
    macs = {}
    for a, r in itertools.product(ALPHAS, RESOLUTIONS):
        with torch.device("meta"):
            model = mobilenet_v1(alpha=a, input_size=r)
        macs[a, r] = _flops(model, (1, 3, r, r)) // 2
    return macs


def check_mobilenet_budget(alpha, input_size, budget=170_000_000):
    """Exercise 3: (alpha, input_size) from the paper's grids gives the MobileNet-v1 with the most
    multiply-adds that still fits ``budget`` (counted by FlopCounterMode: MACs = FLOPs / 2)."""
    expect(alpha in ALPHAS, f"alpha must be one of the paper's {ALPHAS}, got {alpha!r}")
    expect(input_size in RESOLUTIONS, f"input_size must be one of the paper's {RESOLUTIONS}, got {input_size!r}")
    macs = _mobilenet_grid()
    chosen = macs[alpha, input_size]
    expect(chosen <= budget, f"alpha={alpha}, {input_size} px needs {chosen / 1e6:.1f} M mult-adds, over the budget")
    best = max(v for v in macs.values() if v <= budget)
    expect(chosen == best, f"alpha={alpha}, {input_size} px uses {chosen / 1e6:.1f} M mult-adds, but another "
                           f"pair fits the budget with {best / 1e6:.1f} M")
    passed(f"alpha={alpha}, {input_size} px: {chosen / 1e6:.1f} M mult-adds, the most under {budget / 1e6:.0f} M")
