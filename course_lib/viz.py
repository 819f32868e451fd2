"""One look for every figure of the course, and figures as PNG bytes.

Every notebook calls :func:`use_style` once in its set-up cell, so all figures share fonts,
colours (seaborn's colour-blind palette) and layout. seaborn draws where it is the better tool
(heatmaps, distributions); matplotlib draws the rest, in the same style.
"""
import io
import math

import matplotlib.axes
import matplotlib.figure
import numpy as np
import seaborn as sns

from . import stats
from .validate import positive_int

PALETTE = "colorblind"


def use_style():
    """Apply the course's figure style to matplotlib (and so to seaborn): white background with
    ticks, colour-blind-safe colours, readable titles, labels and legends, tight saved figures."""
    sns.set_theme(context="notebook", style="ticks", palette=PALETTE, font_scale=0.9,
                  rc={"figure.dpi": 100, "savefig.bbox": "tight", "axes.titleweight": "bold",
                      "legend.frameon": False, "image.cmap": "viridis"})


def png_bytes(figure, dpi=100):
    """The PNG file of a matplotlib ``figure`` (a ``matplotlib.figure.Figure``), as bytes."""
    if not isinstance(figure, matplotlib.figure.Figure):
        raise TypeError(f"figure must be a matplotlib Figure, got {type(figure).__name__}")
    positive_int(dpi, "dpi")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def against_random(ax, draws, methods, xlabel, title=None, draws_label="random plans"):
    """Place methods in the distribution of a random baseline: on the matplotlib axes ``ax``, one grey
    dot per draw in ``draws`` (e.g. the training loss of each of 20 random pruning plans; spread
    vertically by a fixed jitter so that equal values stay visible), and one vertical line per entry of
    ``methods`` (``{name: value}``), labelled with its percentile among the draws
    (:func:`course_lib.stats.percentile_in`); ``draws_label`` names the draws in the legend.
    Returns ``{name: percentile}``."""
    if not isinstance(ax, matplotlib.axes.Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    if not isinstance(methods, dict) or not methods:
        raise TypeError(f"methods must be a non-empty dict {{name: value}}, got {methods!r}")
    if not isinstance(xlabel, str):
        raise TypeError(f"xlabel must be a str, got {type(xlabel).__name__}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    if not isinstance(draws_label, str):
        raise TypeError(f"draws_label must be a str, got {type(draws_label).__name__}")
    where = {name: stats.percentile_in(value, draws) for name, value in methods.items()}  # validates both
    values = np.asarray(draws, dtype=float)
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, values.size)
    ax.scatter(values, jitter, color="grey", alpha=0.7, s=18, label=f"{draws_label} ({values.size} draws)")
    for i, (name, value) in enumerate(methods.items()):
        ax.axvline(value, color=sns.color_palette(PALETTE)[i % 10], lw=2,
                   label=f"{name} (percentile {math.floor(where[name] + 0.5)})")
    ax.set(xlabel=xlabel, yticks=[], ylim=(-1, 1))
    if title is not None:
        ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return where
