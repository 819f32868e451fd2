"""Interactive explorers (ipywidgets): move a control, see the figure and the numbers change.

Each explorer is an :class:`Explorer`: controls above a figure and a one-line summary, redrawn
whenever a control moves. In JupyterLab it is live. Where no widget front-end runs (a static
notebook viewer, an exported slide deck) it shows the figure of its current setting as a PNG,
and as text only its title, so the text ``pytest --nbval`` compares never depends on timing.

- :func:`separable_explorer` (notebook 02): a standard vs a depthwise-separable convolution,
  counted multiply-adds against measured CPU time;
- :func:`pruning_explorer` (notebook 03): per-layer prune ratios -> FLOPs and parameters removed
  and each layer's accuracy drop from a sensitivity table;
- :func:`compression_explorer` (notebook 08): pruning quality and bits per weight -> file size
  and accuracy from a precomputed grid.
"""
import base64
import html

import ipywidgets as widgets
import matplotlib.figure
import matplotlib.patches
import pandas as pd
import seaborn as sns
import torch.nn as nn

from . import cost, measure
from .models.compact import separable_conv
from .pruning.sensitivity import choose_ratios
from .validate import positive_int
from .viz import png_bytes

WIDE = {"description_width": "initial"}


class Explorer(widgets.VBox):
    """``title`` above ``controls`` ({name: ipywidgets value widget}) above a live figure.

    ``draw(**values)`` gets every control's current value by name and returns
    ``(matplotlib Figure, summary text)``; it runs once now and again whenever a control moves.
    After each run ``figure``, ``summary`` and ``updates`` (how many redraws so far) hold the
    result, so code (and tests) can read what a student sees.
    """

    def __init__(self, title, controls, draw):
        if not isinstance(title, str) or not title:
            raise ValueError(f"title must be a non-empty str, got {title!r}")
        if not isinstance(controls, dict) or not controls or not all(
                isinstance(c, widgets.ValueWidget) for c in controls.values()):
            raise TypeError("controls must be a non-empty dict {name: ipywidgets value widget}")
        if not callable(draw):
            raise TypeError(f"draw must be a callable (**values) -> (Figure, str), got {type(draw).__name__}")
        self.title, self.controls, self._draw, self._holding = title, dict(controls), draw, False
        self.output, self.figure, self.summary, self.updates = widgets.Output(), None, "", 0
        super().__init__([widgets.HTML(f"<b>{html.escape(title)}</b>"),
                          widgets.HBox(list(self.controls.values()), layout={"flex_flow": "row wrap"}),
                          self.output])
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.update()

    def values(self):
        """``{name: current value}`` of every control."""
        return {name: control.value for name, control in self.controls.items()}

    def set_values(self, **values):
        """Move several controls at once and redraw once (unknown names -> ValueError)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"values: no control named {sorted(unknown)}; controls are {list(self.controls)}")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        self.update()

    def update(self, change=None):
        """Redraw for the controls' current values (``change``: the widget event, unused)."""
        if self._holding:
            return
        figure, summary = self._draw(**self.values())
        if not isinstance(figure, matplotlib.figure.Figure) or not isinstance(summary, str):
            raise TypeError("draw must return (matplotlib Figure, str)")
        self.figure, self.summary, self.updates = figure, summary, self.updates + 1
        # set the Output widget's state directly rather than printing into it: nothing goes to the
        # cell's own output stream, whether the update comes from running the cell or from a slider
        png = base64.b64encode(png_bytes(figure)).decode("ascii")
        self.output.outputs = ({"output_type": "display_data", "metadata": {},
                                "data": {"image/png": png, "text/plain": summary}},
                               {"output_type": "stream", "name": "stdout", "text": summary + "\n"})

    def __repr__(self):
        return f"{self.title} (interactive: run this cell in JupyterLab and move the controls)"

    def _repr_mimebundle_(self, **kwargs):
        # the PNG is what a front-end without widgets (a static viewer, a slide deck) shows
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(png_bytes(self.figure)).decode("ascii")
        return bundle


def _figure(columns, width=9.0, height=3.4):
    """A figure not registered with pyplot (so a notebook does not show it twice) and its axes."""
    figure = matplotlib.figure.Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots(1, columns)


def separable_explorer(m=64, n=64, d_k=3, d_f=28, repeats=5):
    """A standard ``d_k`` x ``d_k`` convolution from ``m`` to ``n`` channels on ``d_f`` x ``d_f``
    maps against its depthwise-separable version: multiply-adds counted (the cost ratio
    1/N + 1/D_K^2) beside the median CPU time of ``repeats`` calls on one image, one thread."""
    for value, name in ((m, "m"), (n, "n"), (repeats, "repeats")):
        positive_int(value, name)
    if d_k not in (1, 3, 5, 7):
        raise ValueError(f"d_k must be one of 1, 3, 5, 7, got {d_k!r}")
    if d_f not in (7, 14, 28, 56):
        raise ValueError(f"d_f must be one of 7, 14, 28, 56, got {d_f!r}")
    channels = dict(min=8, max=512, step=8, continuous_update=False, style=WIDE)
    controls = {"m": widgets.IntSlider(m, description="input channels M", **channels),
                "n": widgets.IntSlider(n, description="output channels N", **channels),
                "d_k": widgets.SelectionSlider(options=[1, 3, 5, 7], value=d_k, description="kernel D_K",
                                               continuous_update=False, style=WIDE),
                "d_f": widgets.SelectionSlider(options=[7, 14, 28, 56], value=d_f, description="map side D_F",
                                               continuous_update=False, style=WIDE)}

    def draw(m, n, d_k, d_f):
        layers = {"standard": nn.Conv2d(m, n, d_k, padding=d_k // 2, bias=False),
                  **dict(separable_conv(m, n, d_k).named_children())}
        macs = {"standard": cost.conv_macs(m, n, d_k, d_f), "depthwise": cost.depthwise_macs(m, d_k, d_f),
                "pointwise": cost.pointwise_macs(m, n, d_f)}
        ms = {kind: measure.latency(layer, (m, d_f, d_f), repeats=repeats, warmup=2, threads=1)["median_ms"]
              for kind, layer in layers.items()}
        figure, axes = _figure(2)
        for ax, values, unit in ((axes[0], {k: v / 1e6 for k, v in macs.items()}, "million multiply-adds (counted)"),
                                 (axes[1], ms, "ms per image (measured, 1 thread)")):
            ax.bar(["standard"], [values["standard"]], color="C0", label="standard")
            ax.bar(["separable"], [values["depthwise"]], color="C1", label="depthwise")
            ax.bar(["separable"], [values["pointwise"]], bottom=[values["depthwise"]], color="C2", label="pointwise")
            ax.set_ylabel(unit)
        axes[0].legend()
        axes[0].set_title("what the formula counts")
        axes[1].set_title("what the CPU does")
        ratio = cost.separable_macs(m, n, d_k, d_f) / macs["standard"]
        speedup = ms["standard"] / (ms["depthwise"] + ms["pointwise"])
        summary = (f"M={m}, N={n}, D_K={d_k}, D_F={d_f}: 1/N + 1/D_K² = {float(cost.separable_ratio(n, d_k)):.3f} "
                   f"(counted {ratio:.3f}), so {1 / ratio:.1f}x fewer multiply-adds; measured {speedup:.2f}x as fast")
        return figure, summary

    return Explorer("Standard vs depthwise-separable convolution", controls, draw)


def pruning_explorer(table, cuts, labels=None, tolerance=0.01):
    """Per-layer prune ratios, one slider per layer of a sensitivity ``table``
    (:func:`course_lib.pruning.layer_sensitivity`), plus a tolerance slider that sets them all by
    :func:`course_lib.pruning.choose_ratios`. Shows each layer's ratio and its accuracy drop
    when pruned alone (from ``table``), and the FLOPs and parameters removed, from
    ``cuts({layer: ratio}) -> (FLOPs fraction removed, params fraction removed)``.
    ``labels``: optional ``{layer: short name}`` for the sliders and the figure."""
    start = choose_ratios(table, tolerance)  # also checks table and tolerance
    if not callable(cuts):
        raise TypeError(f"cuts must be a callable {{layer: ratio}} -> (flops cut, params cut), got {type(cuts).__name__}")
    layers = list(dict.fromkeys(table["layer"]))
    labels = {layer: layer for layer in layers} if labels is None else labels
    if not isinstance(labels, dict) or set(labels) != set(layers):
        raise ValueError(f"labels must be a dict with one short name per layer of table: {layers}")
    options = sorted(set(table["ratio"]))
    controls = {layer: widgets.SelectionSlider(options=options, value=start[layer], description=labels[layer],
                                               continuous_update=False, layout={"width": "260px"})
                for layer in layers}

    def draw(**ratios):
        drops = [100 * float(table[(table["layer"] == layer) & (table["ratio"] == r)]["drop"].iloc[0])
                 for layer, r in ratios.items()]
        flops_cut, params_cut = cuts(ratios)
        figure, axes = _figure(2, height=3.6)
        names = [labels[layer] for layer in ratios]
        axes[0].barh(names, [100 * r for r in ratios.values()], color="C0")
        axes[0].set(xlim=(0, 100), xlabel="filters removed (%)", title="the plan")
        axes[1].barh(names, drops, color="C3")
        axes[1].set(xlabel="accuracy drop when pruned alone (pp)", title="what the sensitivity table says")
        for ax in axes:
            ax.invert_yaxis()
        summary = (f"FLOPs -{100 * flops_cut:.1f} %, parameters -{100 * params_cut:.1f} %; "
                   f"the layers' drops, each measured alone, add up to {sum(drops):.1f} pp")
        return figure, summary

    explorer = Explorer("Per-layer prune ratios", controls, draw)
    preset = widgets.FloatSlider(100 * tolerance, min=0, max=20, step=0.5, continuous_update=False,
                                 description="set all by tolerance (pp)", style=WIDE)
    preset.observe(lambda change: explorer.set_values(**choose_ratios(table, change["new"] / 100)), names="value")
    explorer.preset = preset
    explorer.children = (explorer.children[0], preset, *explorer.children[1:])
    return explorer


def compression_explorer(grid, quality=None, bits=None):
    """Pruning quality and bits per weight -> file size and accuracy, read from ``grid``: a
    DataFrame with one row per (quality, bits) and columns ``quality``, ``bits``, ``accuracy``
    (fraction) and ``rate`` (dense fp32 bytes / file bytes). Two heatmaps, the chosen cell framed."""
    if not isinstance(grid, pd.DataFrame) or not {"quality", "bits", "accuracy", "rate"} <= set(grid.columns):
        raise TypeError("grid must be a DataFrame with columns quality, bits, accuracy, rate")
    if grid.duplicated(["quality", "bits"]).any() or len(grid) != grid["quality"].nunique() * grid["bits"].nunique():
        raise ValueError("grid must hold exactly one row for every (quality, bits) pair")
    qualities, bit_options = sorted(grid["quality"].unique()), sorted(grid["bits"].unique())
    quality = qualities[len(qualities) // 2] if quality is None else quality
    bits = bit_options[len(bit_options) // 2] if bits is None else bits
    if quality not in qualities or bits not in bit_options:
        raise ValueError(f"quality must be one of {qualities} and bits one of {bit_options}, got {quality!r}, {bits!r}")
    controls = {"quality": widgets.SelectionSlider(options=qualities, value=quality, description="pruning quality",
                                                   continuous_update=False, style=WIDE),
                "bits": widgets.SelectionSlider(options=bit_options, value=bits, description="bits per weight",
                                                continuous_update=False, style=WIDE)}
    maps = {"accuracy": grid.pivot(index="quality", columns="bits", values="accuracy") * 100,
            "rate": grid.pivot(index="quality", columns="bits", values="rate")}

    def draw(quality, bits):
        figure, axes = _figure(2, width=10, height=3.6)
        for ax, (column, values), fmt, title in zip(axes, maps.items(), (".1f", ".0f"),
                                                    ("accuracy (%)", "compression rate (x, vs fp32)")):
            sns.heatmap(values, annot=True, fmt=fmt, cmap="viridis", cbar=False, ax=ax, annot_kws={"size": 8})
            ax.add_patch(matplotlib.patches.Rectangle((bit_options.index(bits), qualities.index(quality)), 1, 1,
                                                      fill=False, edgecolor="red", lw=2.5))
            ax.set(title=title, xlabel="bits per weight", ylabel="pruning quality (x std)")
        row = grid[(grid["quality"] == quality) & (grid["bits"] == bits)].iloc[0]
        summary = (f"quality {quality}, {bits} bits: {row['rate']:.1f}x smaller than fp32, "
                   f"accuracy {100 * row['accuracy']:.1f} %")
        return figure, summary

    return Explorer("Pruning quality and bits per weight", controls, draw)
