"""The closed-form costs of course_lib.cost against counts of real layers: parameters of
nn.Conv2d modules and FlopCounterMode's FLOPs (= 2 x multiply-adds)."""
import random
from fractions import Fraction

import pytest
import torch.nn as nn

from course_lib import cost
from course_lib.measure import count_params, flop_counter
from course_lib.models.compact import Fire, separable_conv

RNG = random.Random(0)
SHAPES = [(RNG.randint(1, 40), RNG.randint(1, 40), RNG.choice((1, 3, 5, 7)), RNG.randint(1, 20))
          for _ in range(12)]  # (M, N, D_K, D_F)


def flops(module, m, d_f):
    return flop_counter(module, (m, d_f, d_f))[0]


@pytest.mark.parametrize("m, n, d_k, d_f", SHAPES)
def test_standard_conv_counts(m, n, d_k, d_f):
    conv = nn.Conv2d(m, n, d_k, padding=d_k // 2, bias=False)
    assert cost.conv_params(m, n, d_k) == count_params(conv)
    assert cost.conv_params(m, n, d_k, bias=True) == count_params(nn.Conv2d(m, n, d_k))
    assert 2 * cost.conv_macs(m, n, d_k, d_f) == flops(conv, m, d_f)


@pytest.mark.parametrize("m, n, d_k, d_f", SHAPES)
def test_depthwise_pointwise_and_separable_counts(m, n, d_k, d_f):
    block = separable_conv(m, n, d_k)
    assert cost.depthwise_params(m, d_k) == count_params(block.depthwise)
    assert cost.pointwise_params(m, n) == count_params(block.pointwise)
    assert cost.separable_params(m, n, d_k) == count_params(block)
    assert 2 * cost.depthwise_macs(m, d_k, d_f) == flops(block.depthwise, m, d_f)
    assert 2 * cost.pointwise_macs(m, n, d_f) == flops(block.pointwise, m, d_f)
    assert 2 * cost.separable_macs(m, n, d_k, d_f) == flops(block, m, d_f)
    with_bias = nn.Sequential(nn.Conv2d(m, m, d_k, groups=m), nn.Conv2d(m, n, 1))
    assert cost.separable_params(m, n, d_k, bias=True) == count_params(with_bias)


@pytest.mark.parametrize("m, n, d_k, d_f", SHAPES)
def test_separable_ratio_is_one_over_n_plus_one_over_dk_squared(m, n, d_k, d_f):
    ratio = cost.separable_ratio(n, d_k)
    assert ratio == Fraction(1, n) + Fraction(1, d_k ** 2)
    counted = Fraction(flops(separable_conv(m, n, d_k), m, d_f),
                       flops(nn.Conv2d(m, n, d_k, padding=d_k // 2, bias=False), m, d_f))
    assert counted == ratio
    assert Fraction(cost.separable_params(m, n, d_k), cost.conv_params(m, n, d_k)) == ratio


@pytest.mark.parametrize("m, s, e1, e3, d_f", [(96, 16, 64, 64, 55), (512, 64, 256, 256, 13), (7, 3, 1, 5, 4)])
def test_fire_counts(m, s, e1, e3, d_f):
    fire = Fire(m, s, e1, e3)
    assert cost.fire_params(m, s, e1, e3) == count_params(fire)
    assert 2 * cost.fire_macs(m, s, e1, e3, d_f) == flops(fire, m, d_f)


def test_fire2_params_are_the_papers():
    assert cost.fire_params(96, 16, 64, 64) == 11_920  # SqueezeNet Table 1


def test_pruned_params_rounds_up_the_exact_decimal():
    assert cost.pruned_params(9216, 0.33, biases=64) == 3042 + 64  # 0.33 x 9216 = 3041.28
    assert cost.pruned_params(512_000, 0.2) == 102_400  # 0.2 is not exact in binary; the count is
    assert cost.pruned_params(9, Fraction(1, 3)) == 3
    assert cost.pruned_params(10, 1.0) == 10


def test_traffic_and_arithmetic_intensity():
    m, n, d_k, d_f = 8, 16, 3, 10
    assert cost.conv_traffic(m, n, d_k, d_f) == 4 * (m * 100 + n * 100 + 9 * m * n)
    assert cost.depthwise_traffic(m, d_k, d_f, bytes_per_value=2) == 2 * (2 * m * 100 + 9 * m)
    for m in (1, 64, 4096):  # a depthwise conv never exceeds D_K^2 / 4 FLOPs per byte in float32
        assert 2 * cost.depthwise_macs(m, 3, 56) / cost.depthwise_traffic(m, 3, 56) < 9 / 4
    assert 2 * cost.conv_macs(256, 256, 3, 56) / cost.conv_traffic(256, 256, 3, 56) > 100


@pytest.mark.parametrize("call, message", [
    (lambda: cost.conv_params(0, 4, 3), "m must be a positive int"),
    (lambda: cost.conv_params(4, -1, 3), "n must be a positive int"),
    (lambda: cost.conv_params(4, 4, 2.0), "d_k must be a positive int"),
    (lambda: cost.conv_macs(4, 4, 3, 0), "d_f must be a positive int"),
    (lambda: cost.depthwise_params(4, 2), "d_k must be odd"),
    (lambda: cost.depthwise_macs(4, 4, 7), "d_k must be odd"),
    (lambda: cost.separable_macs(4, 8, 2, 7), "d_k must be odd"),
    (lambda: cost.separable_ratio(0, 3), "n must be a positive int"),
    (lambda: cost.separable_ratio(8, 4), "d_k must be odd"),
    (lambda: cost.fire_params(96, 128, 64, 64), "s1x1 must be smaller than e1x1 \\+ e3x3"),
    (lambda: cost.fire_macs(96, 16, 0, 64, 5), "e1x1 must be a positive int"),
    (lambda: cost.fire_macs(96, 16, 64, 64, -5), "d_f must be a positive int"),
    (lambda: cost.pruned_params(100, 0), "density must be a number in \\(0, 1\\]"),
    (lambda: cost.pruned_params(100, 1.5), "density must be a number in \\(0, 1\\]"),
    (lambda: cost.pruned_params(100, 0.5, biases=-1), "biases must be a non-negative int"),
    (lambda: cost.conv_traffic(4, 4, 3, 0), "d_f must be a positive int"),
    (lambda: cost.depthwise_traffic(4, 3, 5, bytes_per_value=0), "bytes_per_value must be a positive int"),
    (lambda: cost.shuffle_unit_params(240, 60, 0), "groups must be a positive int"),
    (lambda: cost.shuffle_unit_params(240, 60, 7), "groups must divide m = 240"),
    (lambda: cost.shuffle_unit_params(24, 6, 4), "groups must divide bottleneck = 6"),
    (lambda: cost.shuffle_unit_macs(240, 60, 3, 0), "d_f must be a positive int"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bias_must_be_a_bool():
    with pytest.raises(TypeError, match="bias must be a bool"):
        cost.conv_params(4, 4, 3, bias=1)
