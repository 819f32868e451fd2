"""Compact architectures: SqueezeNet's Fire module (Iandola et al. 2016), MobileNet-v1's
depthwise-separable convolution (Howard et al. 2017) and ShuffleNet v1's unit with its channel
shuffle (Zhang et al. 2018).

``squeezenet()`` at its defaults is SqueezeNet v1.0 exactly as ``torchvision.models.squeezenet1_0``
(1,248,424 parameters, same module names, loads its state_dict). ``mobilenet_v1()`` follows Table 1
of the MobileNet paper (conv 32/2, 13 depthwise-separable blocks, average pool, fc). Both take a
width multiplier, ``in_channels``, ``num_classes``, ``input_size`` and a layout ``cfg``, so a small
network of the same kind runs on 28x28 MNIST; below 64 px the first layer keeps the resolution
unless ``stem_stride=2`` is asked for.
"""
from collections import OrderedDict

import pandas as pd
import torch
import torch.nn as nn

from ..cost import pruned_params
from ..measure import count_params, layer_table
from ..validate import int_in
from ._checks import check_input, positive_int

# SqueezeNet v1.0 (paper Table 1): "M" = 3x3/2 max-pool, (s1x1, e1x1, e3x3) = a Fire module.
SQUEEZENET_V10 = ("M", (16, 64, 64), (16, 64, 64), (32, 128, 128), "M",
                  (32, 128, 128), (48, 192, 192), (48, 192, 192), (64, 256, 256), "M", (64, 256, 256))
# The paper's Table 1 "sparsity" columns, which give the fraction of weights KEPT by Deep Compression
# (100 % = dense) for (squeeze, expand1x1, expand3x3) of a Fire module, or for the single conv.
# The paper prints conv10's entry as "20% (3x3)" although conv10 is 1x1.
DEEP_COMPRESSION_DENSITY = {
    "conv1": (1.0,), "fire2": (1.0, 1.0, 0.33), "fire3": (1.0, 1.0, 0.33), "fire4": (1.0, 1.0, 0.33),
    "fire5": (1.0, 1.0, 0.33), "fire6": (1.0, 0.5, 0.33), "fire7": (0.5, 1.0, 0.33),
    "fire8": (1.0, 0.5, 0.3), "fire9": (0.5, 1.0, 0.3), "conv10": (0.2,),
}
# MobileNet v1 (paper Table 1): (output channels, stride) of the 13 depthwise-separable blocks.
# The paper's table prints the last block's stride as 2; the 7x7 map it lists after it means 1.
MOBILENET_V1 = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
SMALL_INPUT = 64  # below this side the first layer keeps the resolution by default (stride 1)


def _positive_number(value, name):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


def _input_size(value, smallest=28):
    return int_in(value, "input_size", smallest)


def _stride(stride):
    if stride not in (1, 2) or isinstance(stride, bool):
        raise ValueError(f"stride must be 1 or 2, got {stride!r}")
    return stride


def _stem_stride(stem_stride, input_size):
    """The first layer's stride: ``stem_stride`` (1 or 2), or by default 2 unless the input is small."""
    if stem_stride is None:
        return 2 if input_size >= SMALL_INPUT else 1
    return _stride(stem_stride)


def _scaled(channels, width):
    return max(1, round(channels * width))


class Fire(nn.Module):
    """SqueezeNet's Fire module: a 1x1 *squeeze* conv to ``squeeze`` channels, then two *expand*
    convs side by side (``expand1x1`` 1x1 filters, ``expand3x3`` 3x3 filters, padding 1), each
    conv followed by ReLU; the two expand outputs are concatenated.
    (N, in_channels, H, W) -> (N, expand1x1 + expand3x3, H, W).
    ``squeeze`` must be smaller than ``expand1x1 + expand3x3``: the squeeze layer exists to feed
    the 3x3 filters few input channels (the paper's strategy 2).
    """

    is_layer = True  # measure.layer_table shows a Fire module as one row, like the paper's table

    def __init__(self, in_channels, squeeze, expand1x1, expand3x3):
        super().__init__()
        for value, name in ((in_channels, "in_channels"), (squeeze, "squeeze"),
                            (expand1x1, "expand1x1"), (expand3x3, "expand3x3")):
            positive_int(value, name)
        if squeeze >= expand1x1 + expand3x3:
            raise ValueError(f"squeeze must be smaller than expand1x1 + expand3x3 = {expand1x1 + expand3x3}, "
                             f"got {squeeze}")
        self.in_channels = in_channels
        self.squeeze = nn.Conv2d(in_channels, squeeze, 1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], dim=1)


class SqueezeNet(nn.Module):
    """SqueezeNet v1.0: (N, in_channels, input_size, input_size) -> logits (N, num_classes).

    conv1 96 7x7 filters (stride ``stem_stride``: by default 2, or 1 when input_size < 64;
    inputs under 64 px are padded by 3 so no border is lost), then ``cfg``
    (default the paper's maxpool1, fire2-4, maxpool4, fire5-8, maxpool8, fire9), dropout, conv10
    1x1 to num_classes, ReLU, avgpool10 over the whole final map. Max-pools are 3x3/2 with ceil
    mode (as in Caffe and torchvision). width: multiplier of every conv's channels except conv10.
    final_relu=False drops the ReLU after conv10: with few classes and a small final map, a class
    whose conv10 output turns negative everywhere gets logit 0 and no gradient, for good.
    ``paper_names`` maps module names to the paper's ("features.3" -> "fire2", ...).
    """

    def __init__(self, num_classes=1000, in_channels=3, input_size=224, width=1.0, dropout=0.5,
                 cfg=SQUEEZENET_V10, final_relu=True, stem_stride=None):
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.input_size = _input_size(input_size)
        _positive_number(width, "width")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if not isinstance(final_relu, bool):
            raise TypeError(f"final_relu must be a bool, got {type(final_relu).__name__}")
        stride = _stem_stride(stem_stride, input_size)
        padding = 0 if input_size >= SMALL_INPUT else 3
        channels = _scaled(96, width)
        layers = [nn.Conv2d(in_channels, channels, 7, stride=stride, padding=padding), nn.ReLU(inplace=True)]
        self.paper_names, number = {"features.0": "conv1"}, 1  # a pool is named after the layer before it
        for item in cfg:
            if item == "M":
                self.paper_names[f"features.{len(layers)}"] = f"maxpool{number}"
                layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
                continue
            if not (isinstance(item, tuple) and len(item) == 3):
                raise ValueError(f"cfg items must be 'M' or (s1x1, e1x1, e3x3), got {item!r}")
            s, e1, e3 = (_scaled(c, width) for c in item)
            number += 1
            self.paper_names[f"features.{len(layers)}"] = f"fire{number}"
            layers.append(Fire(channels, s, e1, e3))
            channels = e1 + e3
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            side = self.features(torch.zeros(1, in_channels, input_size, input_size)).shape[-1]
        conv10 = nn.Conv2d(channels, positive_int(num_classes, "num_classes"), 1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), conv10,
                                        nn.ReLU(inplace=True) if final_relu else nn.Identity(),
                                        nn.AvgPool2d(side, stride=1))
        self.paper_names.update({"classifier.1": f"conv{number + 1}", "classifier.3": f"avgpool{number + 1}"})
        self._init_weights(conv10)

    def _init_weights(self, conv10):
        # torchvision's initialisation: small normal for conv10, He-uniform elsewhere, zero biases.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is conv10:
                    nn.init.normal_(m.weight, 0, 0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        check_input(x, "SqueezeNet", channels=self.in_channels, size=self.input_size)
        return self.classifier(self.features(x)).flatten(1)


def squeezenet(**kwargs):
    """SqueezeNet v1.0; keyword arguments as for :class:`SqueezeNet`. At the defaults its
    state_dict has the names and shapes of ``torchvision.models.squeezenet1_0``'s."""
    return SqueezeNet(**kwargs)


def _filter(m):
    """The paper's "filter size / stride" cell of a conv or pool, e.g. "7x7/2 (x96)"; "" for Fire."""
    if isinstance(m, Fire):
        return ""
    k, stride = (v[0] if isinstance(v, tuple) else v for v in (m.kernel_size, m.stride))
    count = f" (x{m.out_channels})" if isinstance(m, nn.Conv2d) else ""
    return f"{k}x{k}/{stride}{count}"


def squeezenet_table(model):
    """The SqueezeNet paper's Table 1 for ``model`` (a :class:`SqueezeNet`), one row per layer:
    layer (the paper's name), output size (H x W x C), filter size / stride, depth (conv layers
    in the row), s1x1, e1x1, e3x3 (filters of a Fire module, 0 elsewhere) and params (counted)."""
    if not isinstance(model, SqueezeNet):
        raise TypeError(f"model must be a SqueezeNet, got {type(model).__name__}")
    table = layer_table(model, (model.in_channels, model.input_size, model.input_size))
    rows = []
    for name, (c, h, w), params in zip(table["layer"], table["output"], table["params"]):
        m = model.get_submodule(name)
        fire = isinstance(m, Fire)
        rows.append({"layer": model.paper_names[name], "output size": f"{h}x{w}x{c}",
                     "filter size / stride": _filter(m),
                     "depth": 2 if fire else int(isinstance(m, nn.Conv2d)),
                     "s1x1": m.squeeze.out_channels if fire else 0,
                     "e1x1": m.expand1x1.out_channels if fire else 0,
                     "e3x3": m.expand3x3.out_channels if fire else 0, "params": params})
    return pd.DataFrame(rows)


def pruned_squeezenet_params(model, density=DEEP_COMPRESSION_DENSITY):
    """Parameters per layer after Deep Compression's pruning of ``model`` (a :class:`SqueezeNet`).

    ``density`` maps the paper's layer names to the fraction of weights kept, per conv in the
    order (squeeze, expand1x1, expand3x3) for a Fire module or (conv,) for a conv layer. Each conv
    keeps ceil(density x its weights) weights and all its biases (:func:`course_lib.cost.pruned_params`).
    Returns a DataFrame: layer, params (dense), params after pruning.
    """
    if not isinstance(model, SqueezeNet):
        raise TypeError(f"model must be a SqueezeNet, got {type(model).__name__}")
    rows = []
    for name, paper_name in model.paper_names.items():
        m = model.get_submodule(name)
        convs = [m.squeeze, m.expand1x1, m.expand3x3] if isinstance(m, Fire) else [m]
        if not isinstance(convs[0], nn.Conv2d):
            continue  # pools have no parameters
        densities = density.get(paper_name)
        if not isinstance(densities, tuple) or len(densities) != len(convs):
            raise ValueError(f"density[{paper_name!r}] must be a tuple of {len(convs)} fractions in (0, 1], "
                             f"got {densities!r}")
        kept = sum(pruned_params(c.weight.numel(), d, c.bias.numel()) for d, c in zip(densities, convs))
        rows.append({"layer": paper_name, "params": count_params(m), "params after pruning": kept})
    return pd.DataFrame(rows)


def separable_conv(in_channels, out_channels, kernel_size=3, stride=1):
    """A bare depthwise-separable convolution (no bias, no BatchNorm, no ReLU), for counting and
    timing against ``nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2)``:
    ``depthwise`` (kernel_size x kernel_size, one filter per channel, "same" padding) then
    ``pointwise`` (1x1). (N, in_channels, H, W) -> (N, out_channels, ceil(H/stride), ceil(W/stride)).
    kernel_size must be odd, so that "same" padding is symmetric.
    """
    positive_int(in_channels, "in_channels")
    positive_int(out_channels, "out_channels")
    if positive_int(kernel_size, "kernel_size") % 2 == 0:
        raise ValueError(f"kernel_size must be odd (a 'same'-padded kernel has a centre), got {kernel_size}")
    return nn.Sequential(OrderedDict(
        depthwise=nn.Conv2d(in_channels, in_channels, kernel_size, stride=_stride(stride),
                            padding=kernel_size // 2, groups=in_channels, bias=False),
        pointwise=nn.Conv2d(in_channels, out_channels, 1, bias=False)))


class ConvBN(nn.Module):
    """A full 3x3 convolution (no bias, padding 1) + BatchNorm + ReLU.
    (N, in_channels, H, W) -> (N, out_channels, ceil(H/stride), ceil(W/stride))."""

    is_layer = True

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(positive_int(in_channels, "in_channels"), positive_int(out_channels, "out_channels"),
                              3, stride=_stride(stride), padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class DepthwiseSeparable(nn.Module):
    """MobileNet's block: a 3x3 *depthwise* conv (one filter per input channel, ``groups=in_channels``)
    + BN + ReLU, then a 1x1 *pointwise* conv mixing channels + BN + ReLU; convs without bias.
    (N, in_channels, H, W) -> (N, out_channels, ceil(H/stride), ceil(W/stride)).
    """

    is_layer = True

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        convs = separable_conv(in_channels, out_channels, 3, stride)
        self.depthwise, self.pointwise = convs.depthwise, convs.pointwise
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.relu(self.bn1(self.depthwise(x)))
        return self.relu(self.bn2(self.pointwise(x)))


class MobileNetV1(nn.Module):
    """MobileNet v1: (N, in_channels, input_size, input_size) -> logits (N, num_classes).

    conv 3x3 to 32 alpha channels (stride ``stem_stride``: by default 2, or 1 when input_size < 64),
    the blocks of ``cfg``
    ((output channels, stride) each; default the paper's 13), average pool over the final map,
    fully connected layer. alpha: width multiplier of every layer's channels (paper: 1, 0.75,
    0.5, 0.25); input_size: the resolution (paper: 224, 192, 160, 128); separable=False replaces
    every depthwise-separable block by a full 3x3 conv (:class:`ConvBN`), the "Conv MobileNet" of
    the paper's Table 4.
    """

    def __init__(self, num_classes=1000, in_channels=3, input_size=224, alpha=1.0, separable=True,
                 cfg=MOBILENET_V1, stem_stride=None):
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.input_size = _input_size(input_size)
        _positive_number(alpha, "alpha")
        if not isinstance(separable, bool):
            raise TypeError(f"separable must be a bool, got {type(separable).__name__}")
        stem_stride = _stem_stride(stem_stride, input_size)
        channels, side = _scaled(32, alpha), -(-input_size // stem_stride)
        layers = [ConvBN(in_channels, channels, stem_stride)]
        block = DepthwiseSeparable if separable else ConvBN
        for item in cfg:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise ValueError(f"cfg items must be (out_channels, stride), got {item!r}")
            out, stride = item
            layers.append(block(channels, _scaled(out, alpha), stride))
            channels, side = _scaled(out, alpha), -(-side // stride)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AvgPool2d(side, stride=1)
        self.classifier = nn.Linear(channels, positive_int(num_classes, "num_classes"))

    def forward(self, x):
        check_input(x, "MobileNetV1", channels=self.in_channels, size=self.input_size)
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def mobilenet_v1(**kwargs):
    """MobileNet v1; keyword arguments as for :class:`MobileNetV1`."""
    return MobileNetV1(**kwargs)


def channel_shuffle(x, groups):
    """ShuffleNet's channel shuffle: (N, C, H, W) -> (N, C, H, W) with the channels reordered so
    that every group of the next grouped convolution reads channels of every group of the last one.

    View the C channels as a (groups, C // groups) matrix, transpose it, flatten it: channel
    ``i * (C // groups) + j`` (the j-th of group i) moves to position ``j * groups + i``. A copy of
    the data, no arithmetic; ``groups=1`` changes nothing.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {tuple(x.shape)}")
    n, c, h, w = x.shape
    if c % positive_int(groups, "groups"):
        raise ValueError(f"groups must divide the {c} channels of x, got {groups}")
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleUnit(nn.Module):
    """ShuffleNet v1's unit (Zhang et al. 2018, Fig. 2b and 2c); convs without bias.

    branch: grouped 1x1 conv to ``bottleneck`` channels + BN + ReLU, channel shuffle, 3x3
    depthwise conv (stride ``stride``) + BN, grouped 1x1 conv + BN (no ReLU after the depthwise conv).
    stride 1: (N, C, H, W) -> (N, C, H, W), out_channels = in_channels: ReLU(x + branch(x)).
    stride 2: (N, C_in, H, W) -> (N, C_out, ceil(H/2), ceil(W/2)), out_channels > in_channels:
    ReLU(concat(3x3/2 average pool of x, branch(x))), the branch giving C_out - C_in channels.
    ``bottleneck`` defaults to out_channels // 4, as in the paper; ``groups`` must divide
    in_channels, bottleneck and the branch's output channels.
    """

    is_layer = True

    def __init__(self, in_channels, out_channels, groups=3, stride=1, bottleneck=None):
        super().__init__()
        positive_int(in_channels, "in_channels")
        positive_int(out_channels, "out_channels")
        positive_int(groups, "groups")
        self.stride = _stride(stride)
        bottleneck = positive_int(out_channels // 4 if bottleneck is None else bottleneck, "bottleneck")
        if stride == 1 and out_channels != in_channels:
            raise ValueError(f"out_channels must equal in_channels = {in_channels} at stride 1 "
                             f"(the unit adds its input), got {out_channels}")
        if stride == 2 and out_channels <= in_channels:
            raise ValueError(f"out_channels must exceed in_channels = {in_channels} at stride 2 "
                             f"(the unit concatenates its pooled input), got {out_channels}")
        branch_out = out_channels - in_channels if stride == 2 else out_channels
        for name, channels in (("in_channels", in_channels), ("bottleneck", bottleneck),
                               ("out_channels - in_channels" if stride == 2 else "out_channels", branch_out)):
            if channels % groups:
                raise ValueError(f"groups must divide {name} = {channels}, got {groups}")
        self.in_channels, self.groups = in_channels, groups
        self.group_conv1 = nn.Conv2d(in_channels, bottleneck, 1, groups=groups, bias=False)
        self.bn1 = nn.BatchNorm2d(bottleneck)
        self.depthwise = nn.Conv2d(bottleneck, bottleneck, 3, stride=stride, padding=1, groups=bottleneck,
                                   bias=False)
        self.bn2 = nn.BatchNorm2d(bottleneck)
        self.group_conv2 = nn.Conv2d(bottleneck, branch_out, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(branch_out)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1) if stride == 2 else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        check_input(x, "ShuffleUnit", channels=self.in_channels, min_size=1)
        out = self.relu(self.bn1(self.group_conv1(x)))
        out = self.bn2(self.depthwise(channel_shuffle(out, self.groups)))
        out = self.bn3(self.group_conv2(out))
        if self.pool is None:
            return self.relu(x + out)
        return self.relu(torch.cat([self.pool(x), out], dim=1))
