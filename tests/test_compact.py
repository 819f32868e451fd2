"""SqueezeNet and MobileNet-v1 builders against independent counts: torchvision's squeezenet1_0,
FlopCounterMode and the papers' published totals; Fire / separable blocks; ShuffleNet v1's channel
shuffle against numpy and its unit against the paper's cost formula; bad arguments."""
import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn as nn
import torchvision
from torch.nn.utils import prune

from course_lib import cost
from course_lib.checks import nb02
from course_lib.measure import count_params, flop_counter, layer_table
from course_lib.models import compact
from course_lib.models.compact import (DEEP_COMPRESSION_DENSITY, SQUEEZENET_V10, Fire, MobileNetV1, ShuffleUnit,
                                       SqueezeNet, channel_shuffle, mobilenet_v1, pruned_squeezenet_params,
                                       separable_conv, squeezenet, squeezenet_table)

SMALL_SQUEEZE = ("M", (8, 16, 16), "M", (8, 32, 32))
SMALL_MOBILE = ((16, 2), (32, 2))


@pytest.fixture(scope="module")
def pair():
    torch.manual_seed(0)
    return squeezenet(), torchvision.models.squeezenet1_0(weights=None)


def test_squeezenet_equals_torchvision_layer_by_layer(pair):
    ours, theirs = pair
    assert count_params(ours) == count_params(theirs) == 1_248_424
    ours.load_state_dict(theirs.state_dict())  # same names, same shapes
    table = squeezenet_table(ours)
    reference = {name: count_params(m) for name, m in theirs.features.named_children()}
    reference.update({f"classifier.{name}": count_params(m) for name, m in theirs.classifier.named_children()})
    names = {paper: name for name, paper in ours.paper_names.items()}
    for layer, params in zip(table["layer"], table["params"]):
        key = names[layer]
        assert params == reference[key.removeprefix("features.")], layer
    x = torch.randn(2, 3, 224, 224)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)


def test_squeezenet_table_has_the_papers_layout():
    table = squeezenet_table(squeezenet(input_size=227))  # the paper's Caffe input
    assert list(table["layer"]) == ["conv1", "maxpool1", "fire2", "fire3", "fire4", "maxpool4", "fire5", "fire6",
                                    "fire7", "fire8", "maxpool8", "fire9", "conv10", "avgpool10"]
    rows = table.set_index("layer")
    assert rows.loc["conv1", "output size"] == "111x111x96"
    assert rows.loc["conv1", "filter size / stride"] == "7x7/2 (x96)"
    assert rows.loc["fire2", "output size"] == "55x55x128"
    assert rows.loc["avgpool10", "filter size / stride"] == "13x13/1"
    assert tuple(rows.loc["fire9", ["s1x1", "e1x1", "e3x3"]]) == (64, 256, 256)
    assert table["depth"].sum() == 18  # conv1, 8 Fire modules of 2 layers, conv10
    fires = [m for m in squeezenet().modules() if isinstance(m, Fire)]
    for (name, row), fire in zip(rows[rows.index.str.startswith("fire")].iterrows(), fires):
        assert row["params"] == cost.fire_params(fire.in_channels, row["s1x1"], row["e1x1"], row["e3x3"]), name


def test_deep_compression_counts_equal_magnitude_pruned_torchvision(pair):
    ours, theirs = pair
    table = pruned_squeezenet_params(ours).set_index("layer")
    assert table["params"].sum() == 1_248_424
    assert table["params after pruning"].sum() == 421_098  # SqueezeNet Table 1
    names = {paper: name for name, paper in ours.paper_names.items()}
    for layer, densities in DEEP_COMPRESSION_DENSITY.items():
        module = theirs.get_submodule(names[layer])
        convs = [module.squeeze, module.expand1x1, module.expand3x3] if hasattr(module, "squeeze") else [module]
        kept = 0
        for density, conv in zip(densities, convs):
            copy = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size)
            copy.load_state_dict(conv.state_dict())
            n = copy.weight.numel()
            keep = math.ceil(round(density * n, 6))  # the table rounds up; round() drops float noise
            prune.l1_unstructured(copy, "weight", amount=n - keep)
            kept += int((copy.weight != 0).sum()) + copy.bias.numel()
        assert kept == table.loc[layer, "params after pruning"], layer


def test_pruned_squeezenet_params_rejects_bad_density():
    with pytest.raises(ValueError, match="density\\['fire2'\\] must be a tuple of 3"):
        pruned_squeezenet_params(squeezenet(), {**DEEP_COMPRESSION_DENSITY, "fire2": (1.0, 0.5)})
    with pytest.raises(ValueError, match="density must be a number in"):
        pruned_squeezenet_params(squeezenet(), {**DEEP_COMPRESSION_DENSITY, "conv10": (0.0,)})
    with pytest.raises(TypeError, match="model must be a SqueezeNet"):
        pruned_squeezenet_params(mobilenet_v1())


def test_mobilenet_matches_the_papers_table_4():
    for separable, params, mult_adds in ((True, 4.2e6, 569e6), (False, 29.3e6, 4866e6)):
        model = mobilenet_v1(separable=separable)
        total, _ = flop_counter(model, (3, 224, 224))
        assert round(count_params(model) / 1e6, 1) == params / 1e6
        assert abs(total / 2 - mult_adds) / mult_adds < 0.001  # paper rounds to millions
        assert layer_table(model, (3, 224, 224))["MACs"].sum() == total // 2


def test_mobilenet_separable_blocks_cost_what_the_formula_says():
    model = mobilenet_v1(alpha=0.5, input_size=128)
    table = layer_table(model, (3, 128, 128)).set_index("layer")
    block = model.features[2]  # 32 -> 64 channels at stride 2: 64x64 -> 32x32
    assert table.loc["features.2", "MACs"] == cost.separable_macs(32, 64, 3, 32)
    assert count_params(block.depthwise) + count_params(block.pointwise) == cost.separable_params(32, 64, 3)


def test_width_multipliers_scale_channels_and_small_inputs_keep_resolution():
    sq = squeezenet(num_classes=10, in_channels=1, input_size=28, width=0.5, cfg=SMALL_SQUEEZE, final_relu=False)
    assert sq(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert sq.features[0].out_channels == 48 and sq.features[0].stride == (1, 1)
    assert list(sq.paper_names.values()) == ["conv1", "maxpool1", "fire2", "maxpool2", "fire3", "conv4", "avgpool4"]
    assert isinstance(sq.classifier[2], nn.Identity)
    mb = mobilenet_v1(num_classes=10, in_channels=1, input_size=28, alpha=0.5, cfg=SMALL_MOBILE)
    assert mb(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert [layer_table(mb, (1, 28, 28))["output"][i] for i in range(3)] == [(16, 28, 28), (8, 14, 14), (16, 7, 7)]
    assert mobilenet_v1(alpha=0.25).classifier.in_features == 256


def test_stem_stride_downsamples_small_inputs_on_request():
    no_maxpool8 = SQUEEZENET_V10[:9] + SQUEEZENET_V10[10:]
    sq = squeezenet(num_classes=10, in_channels=1, input_size=28, width=0.25, stem_stride=2, cfg=no_maxpool8)
    assert layer_table(sq, (1, 28, 28))["output"][0] == (24, 14, 14)  # padding 3 keeps the border
    assert list(squeezenet_table(sq)["output size"])[-3:] == ["3x3x128", "3x3x10", "1x1x10"]
    mb = mobilenet_v1(num_classes=10, in_channels=1, input_size=28, alpha=0.25, stem_stride=2, cfg=SMALL_MOBILE)
    assert layer_table(mb, (1, 28, 28))["output"][0] == (8, 14, 14)
    assert mb(torch.randn(1, 1, 28, 28)).shape == (1, 10)
    assert squeezenet(stem_stride=1, input_size=64).features[0].stride == (1, 1)


def test_fire_and_separable_shapes():
    fire = Fire(10, 3, 4, 5)
    assert fire(torch.randn(2, 10, 7, 7)).shape == (2, 9, 7, 7)
    block = separable_conv(6, 12, 5, stride=2)
    assert block(torch.randn(1, 6, 9, 9)).shape == (1, 12, 5, 5)
    assert block.depthwise.groups == 6 and block.depthwise.bias is None


@pytest.mark.parametrize("channels, groups", [(12, 3), (12, 4), (240, 3), (8, 2), (7, 7)])
def test_channel_shuffle_is_the_permutation_that_interleaves_groups(channels, groups):
    x = torch.randn(2, channels, 3, 5)
    shuffled = channel_shuffle(x, groups)
    a = x.numpy()  # independent: numpy's reshape and transpose of the channel axis
    expected = a.reshape(2, groups, channels // groups, 3, 5).transpose(0, 2, 1, 3, 4).reshape(2, channels, 3, 5)
    np.testing.assert_array_equal(shuffled.numpy(), expected)
    assert torch.equal(shuffled, nn.ChannelShuffle(groups)(x))  # PyTorch's own operator
    per_group = channels // groups
    order = channel_shuffle(torch.arange(channels).reshape(1, channels, 1, 1), groups).flatten().tolist()
    assert sorted(order) == list(range(channels))  # a permutation: nothing lost, nothing repeated
    assert order == [i * per_group + j for j in range(per_group) for i in range(groups)]
    for start in range(0, channels, groups):  # every run of `groups` channels holds one of each group
        assert sorted(c // per_group for c in order[start:start + groups]) == list(range(groups))
    assert torch.equal(channel_shuffle(shuffled, per_group), x)  # shuffling by C / g undoes it


def test_channel_shuffle_with_one_group_is_the_identity():
    x = torch.randn(3, 5, 4, 4)
    assert torch.equal(channel_shuffle(x, 1), x)
    assert torch.equal(channel_shuffle(x, 5), x)  # one channel per group: nothing to interleave


@pytest.mark.parametrize("channels, groups, bottleneck, side", [
    (240, 3, 60, 28), (24, 1, 6, 7), (48, 4, 12, 5), (96, 8, 24, 14), (60, 3, 30, 9)])
def test_shuffle_unit_macs_are_the_papers_formula_and_flop_counters(channels, groups, bottleneck, side):
    unit = ShuffleUnit(channels, channels, groups, bottleneck=None if bottleneck == channels // 4 else bottleneck)
    c, m, g = channels, bottleneck, groups
    formula = side * side * (2 * c * m // g + 9 * m)  # the paper's hw(2cm/g + 9m)
    assert cost.shuffle_unit_macs(c, m, g, side) == formula
    total, _ = flop_counter(unit, (c, side, side))  # FlopCounterMode: FLOPs = 2 x MACs
    assert total == 2 * formula
    assert layer_table(unit, (c, side, side))["MACs"].sum() == formula  # counted from output shapes
    assert unit(torch.randn(2, c, side, side)).shape == (2, c, side, side)


@pytest.mark.parametrize("channels, groups, bottleneck", [(240, 3, 60), (48, 4, 12), (60, 3, 30)])
def test_shuffle_unit_params_are_counted_independently(channels, groups, bottleneck):
    c, m, g = channels, bottleneck, groups
    unit = ShuffleUnit(c, c, g, bottleneck=m)
    weights = c * m // g + 3 * 3 * m + m * c // g  # grouped 1x1, depthwise 3x3, grouped 1x1
    assert cost.shuffle_unit_params(c, m, g) == weights
    assert count_params(unit) == weights + 2 * (m + m + c)  # + BatchNorm's scale and shift
    assert count_params(ShuffleUnit(c, c, 1, bottleneck=m)) - count_params(unit) == 2 * c * m * (g - 1) // g


def test_shuffle_lets_every_output_channel_see_every_input_group(monkeypatch):
    def input_groups_seen(unit):
        x = torch.randn(2, 12, 6, 6, requires_grad=True)
        unit(x)[:, 1].sum().backward()  # output channel 1: in the first group of the last grouped conv
        return [bool(x.grad[:, 4 * k:4 * (k + 1)].abs().sum() > 0) for k in range(3)]

    torch.manual_seed(0)
    unit = ShuffleUnit(12, 12, groups=3, bottleneck=9).eval()  # 3 bottleneck channels per group, one for each group
    assert input_groups_seen(unit) == [True, True, True]
    monkeypatch.setattr(compact, "channel_shuffle", lambda x, groups: x)  # the same unit without the shuffle
    assert input_groups_seen(unit) == [True, False, False]


def test_shuffle_unit_adds_its_input_at_stride_1():
    unit = ShuffleUnit(12, 12, groups=3).eval()
    nn.init.zeros_(unit.bn3.weight)  # the branch now outputs bn3's shift, zero: only the shortcut is left
    x = torch.randn(2, 12, 6, 6)
    with torch.no_grad():
        assert torch.equal(unit(x), torch.relu(x))


def test_shuffle_unit_at_stride_2_concatenates_the_pooled_input():
    c_in, c_out, groups, side = 24, 240, 3, 28
    unit = ShuffleUnit(c_in, c_out, groups, stride=2).eval()
    x = torch.randn(2, c_in, side, side)
    with torch.no_grad():
        out = unit(x)
    assert out.shape == (2, c_out, 14, 14)
    pooled = nn.functional.avg_pool2d(x, 3, stride=2, padding=1)
    assert torch.equal(out[:, :c_in], torch.relu(pooled))
    m = c_out // 4
    macs = c_in * m // groups * side ** 2 + 9 * m * 14 ** 2 + m * (c_out - c_in) // groups * 14 ** 2
    assert flop_counter(unit, (c_in, side, side))[0] == 2 * macs  # the pool does no multiply-adds
    assert count_params(unit) == c_in * m // groups + 9 * m + m * (c_out - c_in) // groups + 2 * (2 * m + c_out - c_in)
    assert unit(torch.randn(1, c_in, 27, 27)).shape == (1, c_out, 14, 14)  # odd sides round up


@pytest.mark.parametrize("call, message", [
    (lambda: Fire(0, 16, 64, 64), "in_channels must be a positive int"),
    (lambda: Fire(96, 16, -64, 64), "expand1x1 must be a positive int"),
    (lambda: Fire(96, 128, 64, 64), "squeeze must be smaller than expand1x1 \\+ expand3x3"),
    (lambda: separable_conv(8, 8, 4), "kernel_size must be odd"),
    (lambda: separable_conv(0, 8, 3), "in_channels must be a positive int"),
    (lambda: separable_conv(8, 8, 3, stride=3), "stride must be 1 or 2"),
    (lambda: squeezenet(width=0), "width must be a positive number"),
    (lambda: squeezenet(num_classes=0), "num_classes must be a positive int"),
    (lambda: squeezenet(input_size=20), "input_size must be an int >= 28"),
    (lambda: squeezenet(dropout=1.0), "dropout must be in \\[0, 1\\)"),
    (lambda: squeezenet(cfg=("M", (16, 64))), "cfg items must be 'M' or \\(s1x1, e1x1, e3x3\\)"),
    (lambda: mobilenet_v1(alpha=-1), "alpha must be a positive number"),
    (lambda: mobilenet_v1(in_channels=0), "in_channels must be a positive int"),
    (lambda: mobilenet_v1(cfg=((64, 3),)), "stride must be 1 or 2"),
    (lambda: mobilenet_v1(cfg=(64,)), "cfg items must be \\(out_channels, stride\\)"),
    (lambda: squeezenet(stem_stride=3), "stride must be 1 or 2"),
    (lambda: mobilenet_v1(stem_stride=0), "stride must be 1 or 2"),
    (lambda: channel_shuffle(torch.zeros(1, 6, 2, 2), 4), "groups must divide the 6 channels of x"),
    (lambda: channel_shuffle(torch.zeros(1, 6, 2, 2), 0), "groups must be a positive int"),
    (lambda: channel_shuffle(torch.zeros(6, 2, 2), 2), "x must have shape \\(N, C, H, W\\)"),
    (lambda: ShuffleUnit(0, 24), "in_channels must be a positive int"),
    (lambda: ShuffleUnit(24, 24, groups=True), "groups must be a positive int"),
    (lambda: ShuffleUnit(24, 24, bottleneck=0), "bottleneck must be a positive int"),
    (lambda: ShuffleUnit(24, 24, stride=3), "stride must be 1 or 2"),
    (lambda: ShuffleUnit(24, 48), "out_channels must equal in_channels = 24 at stride 1"),
    (lambda: ShuffleUnit(24, 24, stride=2), "out_channels must exceed in_channels = 24 at stride 2"),
    (lambda: ShuffleUnit(240, 240, groups=7), "groups must divide in_channels = 240"),
    (lambda: ShuffleUnit(24, 24, groups=4, bottleneck=6), "groups must divide bottleneck = 6"),
    (lambda: ShuffleUnit(24, 54, groups=4, stride=2, bottleneck=8),
     "groups must divide out_channels - in_channels = 30"),
    (lambda: ShuffleUnit(24, 24)(torch.zeros(1, 12, 4, 4)), "ShuffleUnit expects input of shape \\(N, 24, H, W\\)"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_types_and_inputs():
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        channel_shuffle(np.zeros((1, 6, 2, 2)), 2)
    with pytest.raises(TypeError, match="separable must be a bool"):
        MobileNetV1(separable=1)
    with pytest.raises(TypeError, match="final_relu must be a bool"):
        SqueezeNet(final_relu=None)
    with pytest.raises(TypeError, match="model must be a SqueezeNet"):
        squeezenet_table(mobilenet_v1())
    small = squeezenet(num_classes=10, in_channels=1, input_size=28, cfg=SMALL_SQUEEZE)
    with pytest.raises(ValueError, match="SqueezeNet expects input of shape \\(N, 1, 28, 28\\)"):
        small(torch.zeros(1, 1, 32, 32))


def test_exercise_checks_accept_right_answers_and_reject_wrong_ones(capsys):
    nb02.check_fire_design(Fire(64, 6, 64, 64))
    nb02.check_pays_off(lambda n, d_k: Fraction(1, n) + Fraction(1, d_k ** 2) < 1)
    nb02.check_pays_off(lambda n, d_k: np.float64(1 / n + 1 / d_k ** 2) < 1)  # numpy.bool_ is an answer too
    nb02.check_mobilenet_budget(0.75, 160)
    assert capsys.readouterr().out.count("✓") == 4
    wrong = [
        lambda: nb02.check_fire_design(Fire(64, 5, 64, 64)),  # a larger squeeze still fits
        lambda: nb02.check_fire_design(Fire(64, 7, 64, 64)),  # over the budget
        lambda: nb02.check_fire_design(Fire(64, 6, 96, 32)),  # too few 3x3 filters
        lambda: nb02.check_fire_design(Fire(32, 4, 64, 64)),  # wrong input channels
        lambda: nb02.check_pays_off(lambda n, d_k: n > 1),  # forgets that a 1x1 kernel never pays off
        lambda: nb02.check_pays_off(lambda n, d_k: 1),  # not a bool
        lambda: nb02.check_mobilenet_budget(1.0, 128),  # over the budget
        lambda: nb02.check_mobilenet_budget(0.5, 224),  # fits, but not the most
    ]
    for call in wrong:
        with pytest.raises(AssertionError):
            call()
