"""Paired comparison of two classifiers on the *same* test images.

Two accuracies measured on the same 1,000 images are not independent: most images are right (or
wrong) for both models, and only the *discordant* images, right for one and wrong for the other,
say anything about which model is better. With ``n01`` images that only model B gets right and
``n10`` that only model A gets right, out of ``n``:

* the accuracy difference B − A is ``(n01 − n10) / n``, with the Wald 95 % interval for paired
  proportions, ``diff ± 1.96 · sqrt(n01 + n10 − (n01 − n10)² / n) / n``;
* McNemar's exact test: under "equally accurate", each discordant image is a fair coin, so the
  two-sided p-value is a binomial test of ``n01`` successes in ``n01 + n10`` trials at 1/2.
"""
import math

import torch
from scipy.stats import binomtest, norm

from . import train
from .validate import fraction


def correct(model, loader, device=None):
    """Per-image correctness of ``model`` on ``loader``, in loader order: a bool tensor (N,)
    (the ``correct`` of :func:`course_lib.train.evaluate`)."""
    return train.evaluate(model, loader, device)["correct"]


def _as_bool(values, name):
    t = torch.as_tensor(values)
    if t.ndim != 1 or t.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of per-image correctness, got shape {tuple(t.shape)}")
    if t.dtype != torch.bool:
        if not ((t == 0) | (t == 1)).all():
            raise ValueError(f"{name} must hold only True/False (or 0/1) per image")
        t = t.bool()
    return t


def paired_comparison(correct_a, correct_b, confidence=0.95):
    """Compare classifier B with classifier A on the same images.

    ``correct_a``, ``correct_b``: 1-D bool (or 0/1) sequences of equal length N, one entry per image.
    Returns a dict: ``n``, ``acc_a``, ``acc_b`` (fractions), ``diff`` (= acc_b − acc_a),
    ``ci_low``/``ci_high`` (Wald interval at ``confidence``), ``only_a``/``only_b`` (discordant
    counts: right only for A / only for B) and ``p_value`` (McNemar's exact test, two-sided;
    1.0 when there are no discordant images).
    """
    a, b = _as_bool(correct_a, "correct_a"), _as_bool(correct_b, "correct_b")
    if len(a) != len(b):
        raise ValueError(f"correct_a and correct_b must cover the same images, got lengths {len(a)} and {len(b)}")
    if not isinstance(confidence, float) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}")
    n = len(a)
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    diff = (only_b - only_a) / n
    half = norm.ppf(0.5 + confidence / 2) * math.sqrt(max(only_a + only_b - (only_b - only_a) ** 2 / n, 0.0)) / n
    p_value = binomtest(only_b, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return {"n": n, "acc_a": float(a.float().mean()), "acc_b": float(b.float().mean()), "diff": diff,
            "ci_low": diff - half, "ci_high": diff + half, "only_a": only_a, "only_b": only_b,
            "p_value": float(p_value)}


def within(comparison, max_drop):
    """Is B "within ``max_drop`` of A"? True when the point estimate of the drop (acc_a − acc_b)
    is at most ``max_drop`` (a fraction, e.g. 0.01 for 1 pp) **and** B is not significantly worse
    at the 5 % level (McNemar's exact test)."""
    if not isinstance(comparison, dict) or not {"diff", "p_value"} <= comparison.keys():
        raise TypeError("comparison must be the dict returned by paired_comparison")
    fraction(max_drop, "max_drop")
    significantly_worse = comparison["diff"] < 0 and comparison["p_value"] < 0.05
    return -comparison["diff"] <= max_drop and not significantly_worse


def describe(comparison, name_a="A", name_b="B"):
    """One line: accuracies, the difference in pp with its interval, discordant counts, p-value."""
    c = comparison
    return (f"{name_b} {100 * c['acc_b']:.1f} % vs {name_a} {100 * c['acc_a']:.1f} %: "
            f"{100 * c['diff']:+.1f} pp (95 % CI {100 * c['ci_low']:+.1f} to {100 * c['ci_high']:+.1f}; "
            f"{c['only_b']} images right only for {name_b}, {c['only_a']} only for {name_a}; "
            f"McNemar p = {c['p_value']:.2f})")


def resolution(n, accuracy, confidence=0.95):
    """Half-width (fraction) of the interval of one accuracy measured on ``n`` images:
    ``z · sqrt(acc (1 − acc) / n)``. What a test split of that size can resolve."""
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not 0 <= accuracy <= 1:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy!r}")
    return norm.ppf(0.5 + confidence / 2) * math.sqrt(accuracy * (1 - accuracy) / n)
