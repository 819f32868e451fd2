"""The exercise checks of notebook 06 accept right answers and reject wrong ones with a message."""
import pytest
import torch

from course_lib.checks import nb06
from course_lib.pruning import feature_map_ranks


def test_checks_accept_right_answers(capsys):
    nb06.check_map_rank(lambda m: int(feature_map_ranks(m)))
    nb06.check_map_rank(lambda m: int(torch.linalg.matrix_rank(m)))
    nb06.check_mean_rank(lambda maps: feature_map_ranks(maps).float().mean(0))
    nb06.check_best_rank_r(svd_truncation)
    assert capsys.readouterr().out.count("✓") == 4


def svd_truncation(m, r):
    u, s, vh = torch.linalg.svd(m)
    return u[:, :r] @ torch.diag(s[:r]) @ vh[:r]


def test_counting_every_singular_value_is_rejected():
    with pytest.raises(AssertionError, match="has rank"):
        nb06.check_map_rank(lambda m: len(torch.linalg.svdvals(m)))


def test_an_absolute_tolerance_that_ignores_the_scale_is_rejected():
    with pytest.raises(AssertionError, match="tolerance"):
        nb06.check_map_rank(lambda m: int((torch.linalg.svdvals(m) > 1e-4).sum()))
    with pytest.raises(AssertionError, match="has rank"):  # so small that float32 rounding counts
        nb06.check_map_rank(lambda m: int((torch.linalg.svdvals(m) > 1e-12).sum()))


def test_averaging_over_filters_instead_of_images_is_rejected():
    with pytest.raises(AssertionError, match="shape"):
        nb06.check_mean_rank(lambda maps: feature_map_ranks(maps).float().mean(1))
    with pytest.raises(AssertionError, match="mean over the N images"):
        nb06.check_mean_rank(lambda maps: feature_map_ranks(maps).float().max(0).values)


def test_keeping_the_smallest_singular_values_is_rejected():
    def smallest(m, r):
        u, s, vh = torch.linalg.svd(m, full_matrices=False)
        return (u[:, -r:] * s[-r:]) @ vh[-r:]
    with pytest.raises(AssertionError, match="best rank"):
        nb06.check_best_rank_r(smallest)


def test_wrong_shapes_are_rejected():
    with pytest.raises(AssertionError, match="shape"):
        nb06.check_best_rank_r(lambda m, r: torch.linalg.svd(m, full_matrices=False)[1][:r])
