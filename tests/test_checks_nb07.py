"""The exercise checks of notebook 07 accept right answers and reject wrong ones with a message."""
import pytest
import torch
import torch.nn as nn

from course_lib.checks import nb07
from course_lib.models.maxout import Maxout


def relu_as_maxout(linear):
    pieces = nn.Linear(linear.in_features, 2)
    pieces.weight.data = torch.cat([linear.weight.data, torch.zeros_like(linear.weight.data)])
    pieces.bias.data = torch.cat([linear.bias.data, torch.zeros(1)])
    return nn.Sequential(pieces, Maxout.equal(2, 2))


def test_checks_accept_right_answers(capsys):
    nb07.check_maxout(lambda x, k: Maxout.equal(x.shape[1], k)(x))
    nb07.check_maxout(lambda x, k: x.unflatten(1, (-1, k)).amax(2))
    nb07.check_win_counts(lambda x, k: Maxout.equal(x.shape[1], k).wins(x))
    nb07.check_relu_as_maxout(relu_as_maxout)
    assert capsys.readouterr().out.count("✓") == 4


def test_strided_units_are_rejected():
    with pytest.raises(AssertionError, match="CONSECUTIVE"):
        nb07.check_maxout(lambda x, k: x.unflatten(1, (k, -1)).amax(1))
    with pytest.raises(AssertionError, match="shape"):
        nb07.check_maxout(lambda x, k: x.unflatten(1, (-1, k)).amax(1))


def test_counting_over_the_whole_layer_is_rejected():
    def layer_winner(x, k):  # the one largest channel per image and position, not per unit
        return torch.bincount(x.argmax(1).flatten(), minlength=x.shape[1])

    with pytest.raises(AssertionError, match="add up"):
        nb07.check_win_counts(layer_winner)

    def strided(x, k):
        slots = x.unflatten(1, (k, -1)).argmax(1)  # units of every (C/k)-th channel
        return torch.stack([(slots[:, c % (x.shape[1] // k)] == c // (x.shape[1] // k)).sum()
                            for c in range(x.shape[1])])

    with pytest.raises(AssertionError, match="own unit"):
        nb07.check_win_counts(strided)


def test_a_relu_module_or_a_wrong_zero_piece_is_rejected():
    with pytest.raises(AssertionError, match="two outputs"):
        nb07.check_relu_as_maxout(lambda linear: nn.Sequential(linear, nn.ReLU()))

    def copied_piece(linear):  # both pieces the linear unit: max(a, a) = a, no nonlinearity
        pieces = nn.Linear(linear.in_features, 2)
        with torch.no_grad():
            pieces.weight.copy_(linear.weight.expand(2, -1))
            pieces.bias.copy_(linear.bias.expand(2))
        return nn.Sequential(pieces, Maxout.equal(2, 2))

    with pytest.raises(AssertionError, match="zero weights"):
        nb07.check_relu_as_maxout(copied_piece)
