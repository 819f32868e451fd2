import math

import pytest
import torch
import torch.nn as nn
from scipy.stats import binomtest, percentileofscore
from torch.utils.data import DataLoader, TensorDataset

from course_lib import stats


def table(both, only_a, only_b, neither):
    """Per-image correctness vectors with the given 2x2 counts."""
    a = [1] * both + [1] * only_a + [0] * only_b + [0] * neither
    b = [1] * both + [0] * only_a + [1] * only_b + [0] * neither
    return torch.tensor(a, dtype=torch.bool), torch.tensor(b, dtype=torch.bool)


def test_interval_and_p_value_by_hand():
    c = stats.paired_comparison(*table(950, 12, 5, 33))
    assert (c["n"], c["only_a"], c["only_b"]) == (1000, 12, 5)
    assert c["acc_a"] == pytest.approx(0.962) and c["acc_b"] == pytest.approx(0.955)
    assert c["diff"] == pytest.approx(-0.007)
    half = 1.959964 * math.sqrt(17 - 7 ** 2 / 1000) / 1000
    assert (c["ci_low"], c["ci_high"]) == pytest.approx((-0.007 - half, -0.007 + half), abs=1e-7)
    # two-sided exact binomial: 2 * P(X <= 5), X ~ Bin(17, 1/2)
    assert c["p_value"] == pytest.approx(2 * sum(math.comb(17, k) for k in range(6)) / 2 ** 17)


@pytest.mark.parametrize("counts", [(500, 30, 10, 460), (90, 0, 7, 3), (10, 4, 4, 2), (100, 1, 0, 0)])
def test_p_value_matches_scipy(counts):
    c = stats.paired_comparison(*table(*counts))
    assert c["p_value"] == pytest.approx(binomtest(counts[2], counts[1] + counts[2], 0.5).pvalue)
    assert c["ci_low"] <= c["diff"] <= c["ci_high"]


def test_identical_classifiers():
    a, _ = table(90, 5, 0, 5)
    c = stats.paired_comparison(a, a.clone())
    assert (c["diff"], c["ci_low"], c["ci_high"], c["p_value"]) == (0.0, 0.0, 0.0, 1.0)
    assert stats.within(c, 0.0)


def test_within_needs_small_drop_and_no_significant_loss():
    small_but_significant = stats.paired_comparison(*table(900, 40, 20, 40))  # -2 pp, p < 0.05
    assert small_but_significant["p_value"] < 0.05
    assert not stats.within(small_but_significant, 0.03)
    noisy = stats.paired_comparison(*table(900, 12, 6, 82))  # -0.6 pp, not significant
    assert stats.within(noisy, 0.01) and not stats.within(noisy, 0.005)
    better = stats.paired_comparison(*table(900, 5, 30, 65))
    assert stats.within(better, 0.0)


def test_describe_names_the_models():
    line = stats.describe(stats.paired_comparison(*table(950, 12, 5, 33)), "dense", "pruned")
    assert line.startswith("pruned 95.5 % vs dense 96.2 %: -0.7 pp") and "McNemar p = 0.14" in line
    assert "5 images right only for pruned, 12 only for dense" in line
    one = stats.describe(stats.paired_comparison(*table(950, 12, 1, 37)), "dense", "pruned")
    assert "1 image right only for pruned, 12 only for dense" in one


def test_copies_by_hand():
    a = torch.tensor([1, 1, 0, 0, 1])
    copies = torch.tensor([[1, 0, 1, 0, 1], [1, 1, 1, 0, 0]])  # mean per image: 1, .5, 1, 0, .5
    c = stats.paired_comparison(a, copies)
    # d = 0, -.5, +1, 0, -.5: A better on two images, B's copies on one
    assert (c["n"], c["copies"], c["only_a"], c["only_b"]) == (5, 2, 2, 1)
    assert (c["acc_a"], c["acc_b"], c["diff"]) == pytest.approx((0.6, 0.6, 0.0))
    half = 1.959964 * math.sqrt(0.25 + 1 + 0.25 - 0) / 5
    assert (c["ci_low"], c["ci_high"]) == pytest.approx((-half, half), abs=1e-6)
    assert c["p_value"] == 1.0  # signed steps -1, +2, -1 sum to 0: every sign pattern is as far from 0
    assert "better for B on average over its 2 copies" in stats.describe(c) and "sign-flip test p = 1.00" in stats.describe(c)


def test_sign_flip_p_value_by_hand():
    # d = +1, +.5 (two copies): steps 2 and 1, signed sums +-3 and +-1 equally likely -> P(|sum| >= 3) = 1/2
    c = stats.paired_comparison(torch.tensor([0, 0, 1]), torch.tensor([[1, 1, 1], [1, 0, 1]]))
    assert c["p_value"] == pytest.approx(0.5)
    # four images where both copies beat A, none the other way: 2 * (1/2)^4
    c = stats.paired_comparison(torch.zeros(6), torch.tensor([[1, 1, 1, 1, 0, 0]] * 2))
    assert c["p_value"] == pytest.approx(2 / 16)


def test_one_copy_is_mcnemar_and_repeated_copies_change_nothing():
    a, b = table(950, 12, 5, 33)
    single = stats.paired_comparison(a, b)
    assert stats.paired_comparison(a, b[None]) == single
    repeated = stats.paired_comparison(a, torch.stack([b, b, b]))
    assert repeated == {**single, "copies": 3}


@pytest.mark.parametrize("a, b, match", [
    ([1, 0, 1], [1, 0], "same images"),
    ([1, 2, 0], [1, 0, 0], "only True/False"),
    ([], [], "non-empty 1-D"),
    ([[1, 0]], [[1, 0]], "non-empty 1-D"),
    ([1, 0], [[1, 0], [1, 2]], "only True/False"),
    ([1, 0], [[1, 0, 1], [1, 0, 0]], "same images"),
    ([1, 0], torch.zeros(0, 2), "at least one copy"),
    ([1, 0], [[[1, 0]]], "non-empty 1-D"),
])
def test_bad_correctness_vectors(a, b, match):
    with pytest.raises(ValueError, match=match):
        stats.paired_comparison(a, b)


def test_bad_arguments():
    a, b = table(5, 1, 1, 1)
    with pytest.raises(ValueError, match="confidence"):
        stats.paired_comparison(a, b, confidence=95)
    with pytest.raises(ValueError, match="max_drop"):
        stats.within(stats.paired_comparison(a, b), 1.5)
    with pytest.raises(TypeError, match="comparison"):
        stats.within({"diff": 0.0}, 0.01)
    with pytest.raises(ValueError, match="n must"):
        stats.resolution(0, 0.9)
    with pytest.raises(ValueError, match="accuracy"):
        stats.resolution(1000, 97)


def test_resolution_of_a_thousand_images():
    assert stats.resolution(1000, 0.97) == pytest.approx(1.959964 * math.sqrt(0.97 * 0.03 / 1000))


def test_correct_is_per_image_and_restores_training_flag():
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    loader = DataLoader(TensorDataset(x, torch.tensor([0, 0, 0])), batch_size=2)
    model.train()
    assert stats.correct(model, loader).tolist() == [True, False, True]
    assert model.training
    with pytest.raises(TypeError, match="model"):
        stats.correct("model", loader)
    with pytest.raises(ValueError, match="at least one batch"):
        stats.correct(model, [])


def test_percentile_in_by_hand_and_against_scipy():
    sample = [0.2, 0.4, 0.4, 0.6, 0.8]
    assert stats.percentile_in(0.1, sample) == 0.0
    assert stats.percentile_in(0.9, sample) == 100.0
    assert stats.percentile_in(0.4, sample) == 40.0  # one draw below, two ties counted half
    for value in (0.1, 0.2, 0.4, 0.5, 0.8, 0.9):
        assert stats.percentile_in(value, sample) == pytest.approx(percentileofscore(sample, value, kind="mean"))


@pytest.mark.parametrize("value, sample, error, match", [
    (0.5, [], ValueError, "sample"),
    (0.5, [[0.1, 0.2]], ValueError, "sample"),
    (0.5, [0.1, float("nan")], ValueError, "sample"),
    ("0.5", [0.1], TypeError, "value"),
    (True, [0.1], TypeError, "value"),
    (float("inf"), [0.1], TypeError, "value"),
])
def test_percentile_in_rejects_bad_arguments(value, sample, error, match):
    with pytest.raises(error, match=match):
        stats.percentile_in(value, sample)
