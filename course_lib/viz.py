"""One look for every figure of the course, and figures as PNG bytes.

Every notebook calls :func:`use_style` once in its set-up cell, so all figures share fonts,
colours (seaborn's colour-blind palette) and layout. seaborn draws where it is the better tool
(heatmaps, distributions); matplotlib draws the rest, in the same style.
"""
import io

import matplotlib.figure
import seaborn as sns

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
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise ValueError(f"dpi must be a positive int, got {dpi!r}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()
