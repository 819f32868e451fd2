"""The explorers of course_lib.widgets: moving a control redraws with the new values, the text a
front-end without widgets shows is fixed, and bad arguments fail clearly."""
import base64

import ipywidgets
import matplotlib.figure
import pandas as pd
import pytest

from course_lib import viz, widgets
from course_lib.pruning import choose_ratios

SENSITIVITY = pd.DataFrame(
    [{"layer": layer, "ratio": r, "drop": drop * r} for layer, drop in (("a", 0.01), ("b", 0.3))
     for r in (0.0, 0.5, 0.9)])


def fake_cuts(ratios):
    """FLOPs cut = mean ratio, params cut = ratio of layer b: easy to check by hand."""
    return sum(ratios.values()) / len(ratios), ratios["b"]


def grid():
    rows = [{"quality": q, "bits": b, "accuracy": 0.99 - q / 10 - 0.02 / b, "rate": 4 * (1 + q) * 8 / b}
            for q in (0.0, 1.0, 2.0) for b in (2, 4, 8)]
    return pd.DataFrame(rows)


def test_explorer_redraws_when_a_control_moves_and_once_for_set_values():
    seen = []

    def draw(a, b):
        seen.append((a, b))
        return matplotlib.figure.Figure(), f"a={a} b={b}"

    explorer = widgets.Explorer("title", {"a": ipywidgets.IntSlider(1), "b": ipywidgets.IntSlider(2)}, draw)
    assert (explorer.summary, explorer.updates) == ("a=1 b=2", 1)
    explorer.controls["a"].value = 5
    assert (explorer.summary, explorer.updates) == ("a=5 b=2", 2)
    shown = explorer.output.outputs  # what the live widget displays: the figure, then the summary
    assert shown[0]["data"]["text/plain"] == "a=5 b=2" and shown[1]["text"] == "a=5 b=2\n"
    assert base64.b64decode(shown[0]["data"]["image/png"]).startswith(b"\x89PNG")
    explorer.set_values(a=7, b=9)
    assert seen == [(1, 2), (5, 2), (7, 9)]  # both moved, one redraw
    with pytest.raises(ValueError, match="no control named"):
        explorer.set_values(c=1)


def test_explorer_shows_a_png_and_fixed_text_without_a_widget_front_end():
    explorer = widgets.Explorer("My title", {"a": ipywidgets.IntSlider(1)},
                                lambda a: (matplotlib.figure.Figure(figsize=(2, 2)), f"value {a}"))
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"].startswith("My title (interactive")
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    explorer.controls["a"].value = 3
    assert explorer._repr_mimebundle_()["text/plain"] == bundle["text/plain"]  # never the live numbers


def test_explorer_validates_its_arguments():
    figure = matplotlib.figure.Figure()
    with pytest.raises(ValueError, match="title"):
        widgets.Explorer("", {"a": ipywidgets.IntSlider()}, lambda a: (figure, ""))
    with pytest.raises(TypeError, match="controls"):
        widgets.Explorer("t", {"a": ipywidgets.Button()}, lambda a: (figure, ""))
    with pytest.raises(TypeError, match="draw"):
        widgets.Explorer("t", {"a": ipywidgets.IntSlider()}, "not callable")
    with pytest.raises(TypeError, match="draw must return"):
        widgets.Explorer("t", {"a": ipywidgets.IntSlider()}, lambda a: ("no figure", ""))


def test_separable_explorer_counts_the_cost_ratio_and_measures():
    explorer = widgets.separable_explorer(m=16, n=32, d_k=3, d_f=7, repeats=1)
    assert "M=16, N=32, D_K=3, D_F=7: 1/N + 1/D_K² = 0.142 (counted 0.142)" in explorer.summary
    explorer.controls["n"].value = 64
    assert "N=64" in explorer.summary and "1/N + 1/D_K² = 0.127" in explorer.summary
    assert "measured" in explorer.summary and explorer.updates == 2
    for kwargs, name in (({"m": 0}, "m"), ({"n": 1.5}, "n"), ({"d_k": 4}, "d_k"), ({"d_f": 9}, "d_f"),
                         ({"repeats": True}, "repeats")):
        with pytest.raises(ValueError, match=name):
            widgets.separable_explorer(**kwargs)


def test_pruning_explorer_starts_at_the_tolerance_plan_and_follows_the_sliders():
    explorer = widgets.pruning_explorer(SENSITIVITY, fake_cuts, tolerance=0.01)
    assert explorer.values() == choose_ratios(SENSITIVITY, 0.01) == {"a": 0.9, "b": 0.0}
    assert explorer.summary == "FLOPs -45.0 %, parameters -0.0 %; the layers' drops, each measured alone, add up to 0.9 pp"
    explorer.controls["b"].value = 0.5
    assert explorer.summary.startswith("FLOPs -70.0 %, parameters -50.0 %") and "add up to 15.9 pp" in explorer.summary
    updates = explorer.updates
    explorer.preset.value = 0.0  # no tolerance: every drop is too much, nothing is pruned
    assert explorer.values() == {"a": 0.0, "b": 0.0} and explorer.updates == updates + 1
    assert explorer.summary.startswith("FLOPs -0.0 %, parameters -0.0 %")


def test_pruning_explorer_validates_its_arguments():
    with pytest.raises(TypeError, match="table"):
        widgets.pruning_explorer(SENSITIVITY.drop(columns="drop"), fake_cuts)
    with pytest.raises(TypeError, match="cuts"):
        widgets.pruning_explorer(SENSITIVITY, None)
    with pytest.raises(ValueError, match="labels"):
        widgets.pruning_explorer(SENSITIVITY, fake_cuts, labels={"a": "conv1"})


def test_compression_explorer_reads_the_chosen_cell_of_the_grid():
    explorer = widgets.compression_explorer(grid(), quality=1.0, bits=4)
    assert explorer.summary == "quality 1.0, 4 bits: 16.0x smaller than fp32, accuracy 88.5 %"
    explorer.set_values(quality=2.0, bits=2)
    assert explorer.summary == "quality 2.0, 2 bits: 48.0x smaller than fp32, accuracy 78.0 %"
    assert len(explorer.figure.axes) == 2


def test_compression_explorer_validates_its_arguments():
    with pytest.raises(TypeError, match="grid"):
        widgets.compression_explorer(grid().drop(columns="rate"))
    with pytest.raises(ValueError, match="exactly one row"):
        widgets.compression_explorer(pd.concat([grid(), grid().iloc[:1]]))
    with pytest.raises(ValueError, match="exactly one row"):
        widgets.compression_explorer(grid().iloc[1:])
    with pytest.raises(ValueError, match="quality must be one of"):
        widgets.compression_explorer(grid(), quality=0.5)


def test_png_bytes_and_style():
    viz.use_style()
    assert viz.png_bytes(matplotlib.figure.Figure(figsize=(1, 1))).startswith(b"\x89PNG")
    with pytest.raises(TypeError, match="figure"):
        viz.png_bytes("figure")
    with pytest.raises(ValueError, match="dpi"):
        viz.png_bytes(matplotlib.figure.Figure(), dpi=0)
