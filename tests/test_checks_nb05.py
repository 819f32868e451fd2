"""The exercise checks of notebook 05 accept right answers and reject wrong ones with a message."""
import pytest
import torch

from course_lib.checks import nb05
from course_lib.pruning import greedy_removal, rescale_weights


def test_checks_accept_right_answers(capsys):
    nb05.check_channel_contributions(lambda patch, kernel: (patch * kernel).flatten(1).sum(1))
    nb05.check_greedy_step(lambda x, removed: int(greedy_removal(x)[0][len(removed)]))
    nb05.check_greedy_step(naive_step)
    nb05.check_least_squares_scale(lambda x, kept: rescale_weights(x, kept)[0])
    nb05.check_least_squares_scale(normal_equations)
    assert capsys.readouterr().out.count("✓") == 5


def naive_step(x, removed):
    """A right answer written differently: try every channel left."""
    left = [j for j in range(x.shape[1]) if j not in removed]
    return min(left, key=lambda j: float((x[:, removed + [j]].sum(1) ** 2).sum()))


def normal_equations(x, kept):
    xs, y = x[:, kept], x.sum(1)
    return torch.linalg.solve(xs.T @ xs, xs.T @ y)


def test_summing_over_channels_is_rejected():
    with pytest.raises(AssertionError, match="shape"):
        nb05.check_channel_contributions(lambda patch, kernel: (patch * kernel).sum())


def test_contributions_of_the_wrong_window_are_rejected():
    with pytest.raises(AssertionError, match="add up"):
        nb05.check_channel_contributions(lambda patch, kernel: (patch * kernel.flip(-1)).flatten(1).sum(1))


def test_removing_the_largest_contribution_is_rejected():
    with pytest.raises(AssertionError, match="next channel"):
        nb05.check_greedy_step(lambda x, removed: max((j for j in range(x.shape[1]) if j not in removed),
                                                      key=lambda j: float((x[:, j] ** 2).sum())))


def test_a_removed_channel_is_rejected():
    with pytest.raises(AssertionError, match="already removed"):
        nb05.check_greedy_step(lambda x, removed: removed[-1] if removed else 2)


def test_fitting_only_the_kept_channels_is_rejected():
    def kept_target(x, kept):  # y from the kept channels only: every factor is 1
        xs = x[:, kept]
        return torch.linalg.lstsq(xs, xs.sum(1, keepdim=True)).solution[:, 0]

    with pytest.raises(AssertionError, match="including the removed"):
        nb05.check_least_squares_scale(kept_target)
