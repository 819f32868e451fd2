"""Paired comparison of two classifiers on the *same* test images.

Two accuracies measured on the same 1,000 images are not independent: most images are right (or
wrong) for both models, and only the *discordant* images, right for one and wrong for the other,
say anything about which model is better. With ``n01`` images that only model B gets right and
``n10`` that only model A gets right, out of ``n``:

* the accuracy difference B − A is ``(n01 − n10) / n``, with the Wald 95 % interval for paired
  proportions, ``diff ± 1.96 · sqrt(n01 + n10 − (n01 − n10)² / n) / n``;
* McNemar's exact test: under "equally accurate", each discordant image is a fair coin, so the
  two-sided p-value is a binomial test of ``n01`` successes in ``n01 + n10`` trials at 1/2.

When B is a *method* trained k times (k seeds), one run is one draw: compare A with all k copies
at once. Per image, d = (fraction of B's copies right) − (A right); the difference is the mean of
d, its interval the same Wald formula on the d's, and the test the exact sign-flip test: under
"equally accurate" each image's d is as likely to be +|d| as −|d|, and the p-value is the chance
that random signs give a sum at least as far from 0 as the observed one. For k = 1 these are
exactly the formulas above (every |d| is 1, so the sign-flip test is McNemar's).
"""
import math

import numpy as np
import torch
from scipy.stats import norm

from . import train
from .validate import fraction, positive_int


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

    ``correct_a``: a 1-D bool (or 0/1) sequence of length N, one entry per image. ``correct_b``:
    the same for B, or a (k, N) stack for k copies of B (e.g. one per training seed).
    Returns a dict: ``n``, ``copies`` (k), ``acc_a``, ``acc_b`` (fractions; B's is the mean over
    its copies), ``diff`` (= acc_b − acc_a), ``ci_low``/``ci_high`` (Wald interval at
    ``confidence``), ``only_a``/``only_b`` (images where A does better than B's copies on
    average / B better; for one copy, the discordant counts) and ``p_value`` (the exact two-sided
    sign-flip test, for one copy McNemar's exact test; 1.0 when no image differs).
    """
    a = _as_bool(correct_a, "correct_a")
    b = torch.as_tensor(correct_b)
    if b.ndim == 2 and len(b) == 0:
        raise ValueError("correct_b must hold at least one copy")
    b = torch.stack([_as_bool(c, "correct_b") for c in b]) if b.ndim == 2 else _as_bool(b, "correct_b")[None]
    if b.shape[1] != len(a):
        raise ValueError(f"correct_a and correct_b must cover the same images, got lengths {len(a)} and {b.shape[1]}")
    if not isinstance(confidence, float) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}")
    n = len(a)
    d = b.double().mean(0) - a.double()  # per image: in {-1, 0, 1} for one copy
    only_a, only_b = int((d < 0).sum()), int((d > 0).sum())
    diff = float(d.sum()) / n
    half = norm.ppf(0.5 + confidence / 2) * math.sqrt(max(float((d ** 2).sum()) - float(d.sum()) ** 2 / n, 0.0)) / n
    p_value = _sign_flip_p_value(torch.round(d * len(b)).long())
    return {"n": n, "copies": len(b), "acc_a": float(a.double().mean()), "acc_b": float(b.double().mean()),
            "diff": diff, "ci_low": diff - half, "ci_high": diff + half, "only_a": only_a, "only_b": only_b,
            "p_value": float(p_value)}


def _sign_flip_p_value(steps):
    """Exact two-sided p-value that the sum of ``steps`` (1-D int tensor, per-image differences in
    units of 1/k) is this far from 0 when each step's sign is a fair coin: the distribution of the
    signed sum is built by convolution, one image at a time. 1.0 when every step is 0."""
    pmf = np.ones(1)  # pmf[i] = P(signed sum = i - offset), offset = (len(pmf) - 1) / 2
    for c in steps[steps != 0].abs().tolist():
        coin = np.zeros(2 * c + 1)
        coin[0] = coin[-1] = 0.5  # -c or +c
        pmf = np.convolve(pmf, coin)
    offset = (len(pmf) - 1) // 2
    observed = abs(int(steps.sum()))
    sums = np.abs(np.arange(len(pmf)) - offset)
    return min(1.0, float(pmf[sums >= observed].sum()))


def within(comparison, max_drop):
    """Is B "within ``max_drop`` of A"? True when the point estimate of the drop (acc_a − acc_b)
    is at most ``max_drop`` (a fraction, e.g. 0.01 for 1 pp) **and** B is not significantly worse
    at the 5 % level (McNemar's exact test)."""
    if not isinstance(comparison, dict) or not {"diff", "p_value"} <= comparison.keys():
        raise TypeError("comparison must be the dict returned by paired_comparison")
    fraction(max_drop, "max_drop")
    significantly_worse = comparison["diff"] < 0 and comparison["p_value"] < 0.05
    return -comparison["diff"] <= max_drop and not significantly_worse


def _images(n):
    """``"1 image"``, ``"2 images"``: a count of test images in words."""
    return f"{n} image" + ("" if n == 1 else "s")


def describe(comparison, name_a="A", name_b="B"):
    """One line: accuracies, the difference in pp with its interval, the images that decide it, p-value."""
    c = comparison
    return (f"{name_b} {100 * c['acc_b']:.1f} % vs {name_a} {100 * c['acc_a']:.1f} %: "
            f"{100 * c['diff']:+.1f} pp (95 % CI {100 * c['ci_low']:+.1f} to {100 * c['ci_high']:+.1f}; "
            + (f"{_images(c['only_b'])} right only for {name_b}, {c['only_a']} only for {name_a}; McNemar"
               if c.get("copies", 1) == 1 else
               f"{_images(c['only_b'])} better for {name_b} on average over its {c['copies']} copies, "
               f"{c['only_a']} better for {name_a}; sign-flip test")
            + f" p = {c['p_value']:.2f})")


def percentile_in(value, sample):
    """Where ``value`` falls in ``sample``, a 1-D sequence of draws of a random baseline (e.g. the
    accuracies of 20 random pruning plans): the percentage of draws below it, ties counted half,
    so 0 = below every draw, 50 = in the middle, 100 = above every draw."""
    draws = np.asarray(sample, dtype=float)
    if draws.ndim != 1 or draws.size == 0 or not np.isfinite(draws).all():
        raise ValueError(f"sample must be a non-empty 1-D sequence of finite numbers, got shape {draws.shape}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"value must be a finite number, got {value!r}")
    return float(100 * ((draws < value).sum() + 0.5 * (draws == value).sum()) / draws.size)


def resolution(n, accuracy, confidence=0.95):
    """Half-width (fraction) of the interval of one accuracy measured on ``n`` images:
    ``z · sqrt(acc (1 − acc) / n)``. What a test split of that size can resolve."""
    positive_int(n, "n")
    if not 0 <= accuracy <= 1:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy!r}")
    return norm.ppf(0.5 + confidence / 2) * math.sqrt(accuracy * (1 - accuracy) / n)
