import re

import pytest
import torch
import torch.nn as nn

from course_lib.compression.magnitude import bits_per_layer
from course_lib.models.lenet import LeNet5Caffe
from course_lib.notebook import show_source
from course_lib.validate import check_model, check_shape, eval_mode, fraction, int_in, positive_int


def test_checks_return_good_values_and_name_the_argument():
    assert positive_int(3, "epochs") == 3
    assert fraction(0.0, "ratio") == 0.0 and fraction(0.5, "ratio", zero=False) == 0.5
    assert check_shape([1, 28, 28]) == (1, 28, 28)
    net = nn.Linear(2, 2)
    assert check_model(net) is net
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="epochs must be a positive int"):
            positive_int(bad, "epochs")
    for bad in (1, 1.5, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match=r"ratio must be a fraction in \[0, 1\)"):
            fraction(bad, "ratio")
    with pytest.raises(ValueError, match=r"tolerance must be a fraction in \(0, 1\)"):
        fraction(0, "tolerance", zero=False)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        check_model("net")
    with pytest.raises(ValueError, match="input_shape must be a tuple of positive ints"):
        check_shape((1, 0, 28))


@pytest.mark.parametrize("low, high, good, bad, wanted", [
    (None, None, (-5, 0, 7), (True, 2.0, "3", None), "an int"),
    (0, None, (0, 9), (-1, False, 0.0), "a non-negative int"),
    (1, None, (1, 9), (0, -3, True), "a positive int"),
    (2, None, (2, 99), (1, 2.5), "an int >= 2"),
    (None, 4, (-1, 4), (5, 4.0), "an int <= 4"),
    (1, 16, (1, 8, 16), (0, 17, 8.0, True, "8"), r"an int in \[1, 16\]"),
])
def test_int_in_takes_ints_within_the_bounds_and_names_the_argument(low, high, good, bad, wanted):
    for value in good:
        assert int_in(value, "bits", low, high) == value
    for value in bad:
        with pytest.raises(ValueError, match=f"^bits must be {wanted}, got {re.escape(repr(value))}$"):
            int_in(value, "bits", low, high)


def test_eval_mode_restores_every_module_flag_also_on_error():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.BatchNorm1d(2))
    net.train()
    net[2].eval()  # a mixed state must come back as it was, module by module
    with eval_mode(net):
        assert not any(m.training for m in net.modules())
    assert [m.training for m in net.modules()] == [True, True, True, False]
    with pytest.raises(RuntimeError):
        with eval_mode(net):
            net(torch.zeros(1, 3))  # wrong width: the forward pass raises
    assert [m.training for m in net.modules()] == [True, True, True, False]


def test_bits_per_layer_defaults_ints_and_dicts():
    net = LeNet5Caffe()
    assert bits_per_layer(net) == {"features.0": 8, "features.2": 8, "classifier.1": 5, "classifier.3": 5}
    assert set(bits_per_layer(net, 4).values()) == {4}
    per_layer = {"features.0": 6, "features.2": 6, "classifier.1": 3, "classifier.3": 3}
    assert bits_per_layer(net, per_layer) == per_layer
    for bad in (0, 17, 2.5, True):
        with pytest.raises(ValueError, match=r"index_bits must be an int in \[1, 16\]"):
            bits_per_layer(net, bad, "index_bits")
    with pytest.raises(ValueError, match="index_bits as a dict must name exactly the layers"):
        bits_per_layer(net, {"features.0": 4}, "index_bits")
    with pytest.raises(ValueError, match=r"index_bits\['classifier.3'\] must be an int in \[1, 16\]"):
        bits_per_layer(net, per_layer | {"classifier.3": 0}, "index_bits")


def test_show_source_displays_a_code_block_and_refuses_non_code(capsys):
    show_source(positive_int)
    assert "def positive_int" in capsys.readouterr().out
    with pytest.raises(TypeError, match="obj must be a function, method or class"):
        show_source(3)
