"""The exercise checks of notebooks 00, 01 and 03 accept right answers and reject wrong ones with
a message that says what is wrong."""
import math

import pytest
import torch.nn as nn

from course_lib.checks import nb00, nb01, nb03


def test_checks_accept_right_answers(capsys):
    nb00.check_conv_params(lambda c_in, c_out, k: c_out * (c_in * k * k + 1))
    nb00.check_conv_macs(lambda c_in, c_out, k, side: c_out * c_in * k * k * side * side)
    nb00.check_fc_share(lambda m: sum(p.numel() for l in m.modules() if isinstance(l, nn.Linear)
                                      for p in l.parameters()) / sum(p.numel() for p in m.parameters()))
    nb01.check_conv_output_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1)
    nb01.check_partial_params(lambda table, k: sum(len(row) * k * k + 1 for row in table))
    nb01.check_connections(lambda per_map, maps, side: per_map * maps * side * side)
    nb03.check_filter_l1(lambda w: w.abs().sum(dim=(1, 2, 3)))
    nb03.check_keep_indices(lambda s, r: sorted(s.argsort()[round(r * len(s)):].tolist()))
    nb03.check_params_removed(lambda c_in, n, c_next, k, k_next, m: m * (c_in * k * k + 3) + c_next * m * k_next ** 2)
    assert capsys.readouterr().out.count("✓") == 9


@pytest.mark.parametrize("check, wrong, words", [
    (nb00.check_conv_params, lambda c_in, c_out, k: c_out * c_in * k * k, "did you count the bias"),
    (nb00.check_conv_macs, lambda c_in, c_out, k, side: 2 * c_out * c_in * k * k * side * side, "MACs"),
    (nb00.check_fc_share, lambda m: 0.5, "nn.Linear"),
    (nb01.check_conv_output_size, lambda n, k, s, p: (n - k) // s + 1, "padding"),
    (nb01.check_conv_output_size, lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1, "floor"),
    (nb01.check_partial_params, lambda table, k: sum(len(row) * k * k for row in table), "plus one bias"),
    (nb01.check_connections, lambda per_map, maps, side: per_map * maps, "every output unit"),
    (nb03.check_filter_l1, lambda w: w.sum(dim=(1, 2, 3)), "ABSOLUTE"),
    (nb03.check_filter_l1, lambda w: w.abs().sum(), "must return a tensor of shape"),
    (nb03.check_keep_indices, lambda s, r: sorted(s.argsort()[:len(s) - round(r * len(s))].tolist()), "lowest scores removed"),
    (nb03.check_keep_indices, lambda s, r: list(range(len(s))), "keep"),
    (nb03.check_params_removed, lambda c_in, n, c_next, k, k_next, m: m * (c_in * k * k + 1), "BatchNorm's gamma"),
])
def test_wrong_answers_are_rejected_with_a_message(check, wrong, words):
    with pytest.raises(AssertionError, match=words):
        check(wrong)

