import pytest
import torch
import torchvision
import torch.nn as nn

from course_lib.measure import count_params, layer_table
from course_lib.models.lenet import C3_TABLE, LeNet5, LeNet5Caffe, LeNet5Classic, LeNet300100, PartialConv2d
from course_lib.models.vgg import VGG, conv_names, vgg16, with_gap_head


@pytest.mark.parametrize("batch_norm, reference", [(False, torchvision.models.vgg16),
                                                    (True, torchvision.models.vgg16_bn)])
def test_vgg16_matches_torchvision(batch_norm, reference):
    ours, theirs = vgg16(batch_norm=batch_norm), reference()
    assert count_params(ours) == count_params(theirs)
    ours.load_state_dict(theirs.state_dict())  # same names, same shapes
    x = torch.randn(1, 3, 224, 224)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)


def test_vgg16_parameter_count_is_the_papers():
    assert count_params(vgg16()) == 138_357_544


def test_vgg_width_and_input_size_scale_the_network():
    small = vgg16(width=0.25, input_size=32, in_channels=1, num_classes=10, hidden=64)
    convs = [m.out_channels for m in small.features if isinstance(m, torch.nn.Conv2d)]
    assert convs == [16, 16, 32, 32, 64, 64, 64, 128, 128, 128, 128, 128, 128]
    assert small(torch.randn(2, 1, 32, 32)).shape == (2, 10)
    assert small.classifier[0].in_features == 128


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=0), "width must be a positive number"),
    (dict(width=-1.0), "width must be a positive number"),
    (dict(input_size=48), "input_size must be a positive multiple of 32"),
    (dict(input_size=0), "input_size must be a positive multiple of 32"),
    (dict(num_classes=0), "num_classes must be a positive int"),
    (dict(in_channels=0), "in_channels must be a positive int"),
    (dict(hidden=-4), "hidden must be a positive int"),
    (dict(dropout=1.0), r"dropout must be in \[0, 1\)"),
])
def test_vgg_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        vgg16(**kwargs)


def test_vgg_rejects_unknown_cfg():
    for bad in ("Z", [64, "M"], [64, "M", "M", "M", "M", 0, "M"], [64, "M", "M", "M", "M", 2.5, "M"], ("M",) * 5):
        with pytest.raises(ValueError, match="cfg must be one of"):
            VGG(bad)


def test_vgg_with_custom_widths_is_the_surgically_pruned_vgg():
    """A VGG built with the widths a plan leaves has the pruned network's shapes, params and FLOPs."""
    from course_lib.pruning import prune
    full = vgg16(width=0.25, input_size=32, num_classes=2, hidden=16)
    convs = [name for name, m in full.named_modules() if isinstance(m, torch.nn.Conv2d)]
    kept = [3, 5, 7, 2, 11, 13, 1, 17, 19, 23, 29, 31, 9]
    pruned = prune(full, {name: torch.arange(k) for name, k in zip(convs, kept)}, (3, 32, 32))
    cfg = [*kept[:2], "M", *kept[2:4], "M", *kept[4:7], "M", *kept[7:10], "M", *kept[10:], "M"]
    built = VGG(cfg, input_size=32, num_classes=2, hidden=16)
    assert [tuple(p.shape) for p in built.parameters()] == [tuple(p.shape) for p in pruned.parameters()]
    assert layer_table(built, (3, 32, 32))["MACs"].tolist() == layer_table(pruned, (3, 32, 32))["MACs"].tolist()


@pytest.mark.parametrize("model, bad", [
    (vgg16(width=0.1, input_size=32), torch.zeros(1, 3, 16, 16)),
    (vgg16(width=0.1, input_size=32), torch.zeros(1, 1, 32, 32)),
    (LeNet5Classic(), torch.zeros(1, 1, 28, 28)),
    (LeNet5(), torch.zeros(1, 3, 28, 28)),
    (LeNet5Caffe(), torch.zeros(1, 28, 28)),
    (LeNet300100(), torch.zeros(1, 1, 32, 32)),
])
def test_models_reject_input_shapes_they_cannot_take(model, bad):
    with pytest.raises(ValueError, match="expects input of shape"):
        model(bad)


def test_classic_lenet5_is_the_papers_table():
    table = layer_table(LeNet5Classic(), (1, 32, 32)).set_index("layer")
    assert table["params"].to_dict() == {"c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48120,
                                         "f6": 10164, "output": 0}
    assert table["connections"].to_dict() == {"c1": 122304, "s2": 5880, "c3": 151600, "s4": 2000,
                                              "c5": 48120, "f6": 10164, "output": 840}
    assert table.loc["c3", "output"] == (16, 10, 10)


def test_c3_output_map_only_sees_its_table_inputs():
    c3 = PartialConv2d(C3_TABLE)
    x = torch.randn(1, 6, 14, 14)
    y = c3(x)
    unused = [i for i in range(6) if i not in C3_TABLE[0]]
    x2 = x.clone()
    x2[:, unused] = torch.randn(1, len(unused), 14, 14)
    y2 = c3(x2)
    assert torch.equal(y[:, 0], y2[:, 0])          # map 0 ignores the other inputs
    assert not torch.allclose(y[:, 15], y2[:, 15])  # map 15 sees all of them


def test_partial_conv_rejects_empty_table():
    with pytest.raises(ValueError, match="table must list"):
        PartialConv2d(((0, 1), ()))


@pytest.mark.parametrize("builder, params", [(LeNet300100, 266_610), (LeNet5Caffe, 431_080), (LeNet5, 61_706)])
def test_lenet_parameter_counts(builder, params):
    assert count_params(builder()) == params


def test_lenet_rejects_bad_num_classes():
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        LeNet5(num_classes=0)


def test_lenet5_widths():
    wide = LeNet5(widths=(12, 32, 240, 168))
    assert count_params(wide) == 12 * 26 + 32 * (12 * 25 + 1) + 240 * (32 * 25 + 1) + 168 * 241 + 10 * 169
    assert wide(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    for bad in ((6, 16, 120), (6, 16, 0, 84), "6161208", (6, 16, 120.0, 84)):
        with pytest.raises(ValueError, match="widths"):
            LeNet5(widths=bad)


def test_conv_names_are_the_papers():
    names = conv_names(vgg16(width=0.125, input_size=32))
    assert list(names.values())[:3] == ["conv1_1", "conv1_2", "conv2_1"] and names["features.28"] == "conv5_3"
    assert len(names) == 13 and len(conv_names(VGG("E", batch_norm=True, width=0.125, input_size=32))) == 16
    with pytest.raises(TypeError, match="model must be a VGG"):
        conv_names(torch.nn.Linear(2, 2))


def test_gap_head_replaces_the_classifier_by_one_linear_layer():
    model = vgg16(width=0.125, input_size=32, in_channels=1, num_classes=10, hidden=64).eval()
    gap = with_gap_head(model).eval()
    assert isinstance(gap.classifier, nn.Sequential) and len(gap.classifier) == 1
    assert gap.classifier[0].in_features == 64 and gap.classifier[0].out_features == 10
    assert torch.equal(gap.features[0].weight, model.features[0].weight) and gap.features[0] is not model.features[0]
    assert gap(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    assert with_gap_head(model, num_classes=3)(torch.zeros(1, 1, 64, 64)).shape == (1, 3)
    # VGG-16 at 224 px: 14,714,688 conv parameters + 512 * 1000 + 1000
    full = with_gap_head(VGG("D"))
    assert sum(p.numel() for p in full.parameters()) == 14_714_688 + 513_000
    with pytest.raises(TypeError, match="VGG"):
        with_gap_head(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="num_classes"):
        with_gap_head(model, num_classes=0)
