"""Closed-form cost of convolution layers: parameters and multiply-adds (MACs), for ONE image.

Notation of the MobileNet paper (Howard et al. 2017): ``m`` input channels (M), ``n`` output
channels (N), ``d_k`` kernel side (D_K), ``d_f`` side of the square *output* feature map (D_F).
A multiply-add is one multiply-accumulate; FLOPs = 2 x MACs. ``bias=True`` adds one parameter per
output channel (bias additions are not counted as MACs). Kernels of the depthwise, separable and
Fire layers must be odd: they are padded by (d_k - 1)/2 so the map keeps its side.
"""
import math
from fractions import Fraction

from .validate import int_in, positive_int


def _positive(**values):
    """Raise ValueError naming the first argument that is not a positive int."""
    for name, value in values.items():
        positive_int(value, name)


def _odd_kernel(d_k):
    _positive(d_k=d_k)
    if d_k % 2 == 0:
        raise ValueError(f"d_k must be odd (a 'same'-padded kernel has a centre), got {d_k}")


def _bias(bias):
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    return int(bias)


def conv_params(m, n, d_k, bias=False):
    """Parameters of a standard d_k x d_k convolution: D_K * D_K * M * N (+ N with bias)."""
    _positive(m=m, n=n, d_k=d_k)
    return d_k * d_k * m * n + _bias(bias) * n


def conv_macs(m, n, d_k, d_f):
    """Multiply-adds of a standard convolution: D_K * D_K * M * N * D_F * D_F."""
    _positive(d_f=d_f)
    return conv_params(m, n, d_k) * d_f * d_f


def depthwise_params(m, d_k, bias=False):
    """Parameters of a depthwise convolution (one d_k x d_k filter per channel): D_K * D_K * M (+ M)."""
    _positive(m=m)
    _odd_kernel(d_k)
    return d_k * d_k * m + _bias(bias) * m


def depthwise_macs(m, d_k, d_f):
    """Multiply-adds of a depthwise convolution: D_K * D_K * M * D_F * D_F."""
    _positive(d_f=d_f)
    return depthwise_params(m, d_k) * d_f * d_f


def pointwise_params(m, n, bias=False):
    """Parameters of a pointwise (1x1) convolution: M * N (+ N with bias)."""
    return conv_params(m, n, 1, bias)


def pointwise_macs(m, n, d_f):
    """Multiply-adds of a pointwise convolution: M * N * D_F * D_F."""
    return conv_macs(m, n, 1, d_f)


def separable_params(m, n, d_k, bias=False):
    """Parameters of a depthwise-separable block: D_K * D_K * M + M * N (+ M + N with bias).
    BatchNorm parameters are not included (they fold into the convs at inference)."""
    return depthwise_params(m, d_k, bias) + pointwise_params(m, n, bias)


def separable_macs(m, n, d_k, d_f):
    """Multiply-adds of a depthwise-separable block: D_K * D_K * M * D_F * D_F + M * N * D_F * D_F."""
    return depthwise_macs(m, d_k, d_f) + pointwise_macs(m, n, d_f)


def separable_ratio(n, d_k):
    """Exact cost of a depthwise-separable block relative to a standard conv of the same shape,
    as a Fraction: 1/N + 1/D_K^2 (the same for multiply-adds and, without bias, parameters)."""
    _positive(n=n)
    _odd_kernel(d_k)
    return Fraction(1, n) + Fraction(1, d_k * d_k)


def shuffle_unit_params(m, bottleneck, groups):
    """Weights of the convs of a stride-1 ShuffleNet v1 unit with M input (= output) channels: two
    grouped 1x1 convs (M -> bottleneck -> M, M * bottleneck / groups weights each) and a 3x3
    depthwise conv (9 * bottleneck). BatchNorm parameters are not included. groups must divide
    m and bottleneck."""
    _positive(m=m, bottleneck=bottleneck, groups=groups)
    for name, value in (("m", m), ("bottleneck", bottleneck)):
        if value % groups:
            raise ValueError(f"groups must divide {name} = {value}, got {groups}")
    return 2 * m * bottleneck // groups + depthwise_params(bottleneck, 3)


def shuffle_unit_macs(m, bottleneck, groups, d_f):
    """Multiply-adds of a stride-1 ShuffleNet v1 unit on a D_F x D_F map:
    (2 * M * bottleneck / groups + 9 * bottleneck) * D_F * D_F, the paper's hw(2cm/g + 9m).
    The channel shuffle and the residual add cost no multiply-adds."""
    _positive(d_f=d_f)
    return shuffle_unit_params(m, bottleneck, groups) * d_f * d_f


def _fire_args(m, s1x1, e1x1, e3x3):
    _positive(m=m, s1x1=s1x1, e1x1=e1x1, e3x3=e3x3)
    if s1x1 >= e1x1 + e3x3:
        raise ValueError(f"s1x1 must be smaller than e1x1 + e3x3 = {e1x1 + e3x3} "
                         f"(the squeeze layer must squeeze), got {s1x1}")


def fire_params(m, s1x1, e1x1, e3x3, bias=True):
    """Parameters of a Fire module with ``m`` input channels:
    squeeze M * s1x1 + expand s1x1 * e1x1 + 9 * s1x1 * e3x3 (+ s1x1 + e1x1 + e3x3 with bias,
    the default, as in SqueezeNet). Requires s1x1 < e1x1 + e3x3."""
    _fire_args(m, s1x1, e1x1, e3x3)
    return (pointwise_params(m, s1x1, bias) + pointwise_params(s1x1, e1x1, bias)
            + conv_params(s1x1, e3x3, 3, bias))


def fire_macs(m, s1x1, e1x1, e3x3, d_f):
    """Multiply-adds of a Fire module on a D_F x D_F map:
    (M * s1x1 + s1x1 * e1x1 + 9 * s1x1 * e3x3) * D_F * D_F. Requires s1x1 < e1x1 + e3x3."""
    _positive(d_f=d_f)
    return fire_params(m, s1x1, e1x1, e3x3, bias=False) * d_f * d_f


def pruned_params(weights, density, biases=0):
    """Parameters left after magnitude pruning keeps a fraction ``density`` (in (0, 1]) of ``weights``
    and leaves the ``biases`` dense: ceil(density * weights) + biases.

    ``density`` may be a float or a ``fractions.Fraction``; it is read as the exact decimal it
    prints as, so ceil(0.2 * 512000) is 102400, not 102401.
    """
    _positive(weights=weights)
    int_in(biases, "biases", low=0)
    if not isinstance(density, (int, float, Fraction)) or isinstance(density, bool) or not 0 < density <= 1:
        raise ValueError(f"density must be a number in (0, 1], got {density!r}")
    return math.ceil(Fraction(str(density)) * weights) + biases


def conv_traffic(m, n, d_k, d_f, bytes_per_value=4):
    """Fewest bytes a standard (or pointwise, d_k = 1) stride-1 convolution must move between
    memory and the processor: its input (M * D_F^2 values), weights (D_K^2 * M * N) and output
    (N * D_F^2) once each, ``bytes_per_value`` each (4 for float32).
    Arithmetic intensity = FLOPs / traffic = 2 * conv_macs(...) / conv_traffic(...) FLOPs per byte."""
    _positive(d_f=d_f, bytes_per_value=bytes_per_value)
    return ((m + n) * d_f * d_f + conv_params(m, n, d_k)) * bytes_per_value


def depthwise_traffic(m, d_k, d_f, bytes_per_value=4):
    """Fewest bytes a stride-1 depthwise convolution must move: input and output (M * D_F^2 values
    each) and weights (D_K^2 * M), ``bytes_per_value`` each. Its arithmetic intensity,
    2 * D_K^2 * M * D_F^2 / traffic, is below D_K^2 / bytes_per_value FLOPs per byte whatever M is."""
    _positive(d_f=d_f, bytes_per_value=bytes_per_value)
    return (2 * m * d_f * d_f + depthwise_params(m, d_k)) * bytes_per_value
