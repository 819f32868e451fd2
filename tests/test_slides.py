"""Slides: the rule that cuts a notebook into slides, decks that load nothing from the network, and
the stored notebooks carrying the rule's metadata. (Decks in a real browser: tests/browser/.)"""
import copy
import re
from pathlib import Path

import nbformat
import pytest
from nbconvert import SlidesExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib import slides
from course_lib.slides import build_deck, reveal_assets, slide_metadata_

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PNG = "iVBORw0KGgo="  # a PNG's first bytes: enough to follow it into the deck
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
# a load from the network: a script, a style sheet, a CSS import or a module import from http(s)
REMOTE = re.compile(r"""(<script[^>]*\ssrc|<link[^>]*\shref)=["']?https?://|@import\s+(url\()?["']?https?://"""
                    r"""|import\s[^;]*from\s+["']https?://""", re.IGNORECASE)


def tiny_notebook():
    """A title, a code cell with its output, a section with LaTeX, a widget saved with its state and
    a PNG fallback, a subsection and a deeper heading."""
    code = new_code_cell("print(6 * 7)  # ## not a heading: a code cell", execution_count=1,
                         outputs=[new_output("stream", name="stdout", text="42\n")])
    view = {"model_id": "m1", "version_major": 2, "version_minor": 0}
    widget = new_code_cell("explorer()", execution_count=2, outputs=[new_output(
        "execute_result", execution_count=2,
        data={WIDGET_VIEW: view, "image/png": PNG, "text/plain": "An explorer (interactive)"})])
    return new_notebook(cells=[
        new_markdown_cell("# 99 · A tiny deck\n\nWhat it is about."),
        code,
        new_markdown_cell("## 1. The formula\n\n$$y = W x + b, \\qquad \\|W\\|_1 = \\sum_{ij} |w_{ij}|$$"),
        widget,
        new_markdown_cell("Text that mentions ## in its first line."),
        new_markdown_cell("### A detail", metadata={"tags": ["kept"]}),
        new_markdown_cell("#### Too deep for a slide of its own"),
        new_markdown_cell("##No space: not a heading"),
    ], metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {
        "state": {"m1": {"model_name": "VBoxModel", "state": {}}}, "version_major": 2, "version_minor": 0}}})


def test_the_rule_gives_each_cell_its_slide_type_in_place():
    notebook = tiny_notebook()
    assert slide_metadata_(notebook) is notebook
    assert [cell.metadata.slideshow.slide_type for cell in notebook.cells] == [
        "slide", "-", "slide", "-", "-", "subslide", "-", "-"]
    assert notebook.cells[5].metadata.tags == ["kept"]
    stale = copy.deepcopy(notebook)
    stale.cells[1].metadata.slideshow.slide_type = "slide"
    assert slide_metadata_(stale) == notebook  # stale metadata is overwritten, the rule wins


@pytest.mark.parametrize("bad", [{"cells": []}, [new_markdown_cell("# 00 · Title")], None, new_markdown_cell("## A")])
def test_slide_metadata_refuses_what_is_not_a_notebook(bad):
    with pytest.raises(TypeError, match="notebook must be an nbformat notebook"):
        slide_metadata_(bad)


def test_reveal_assets_are_the_installed_reveal_js_and_say_what_to_install_when_missing(monkeypatch):
    assert "reveal.js 5." in (reveal_assets() / "dist" / "reveal.js").read_text()[:200]
    assert (reveal_assets() / "plugin" / "notes" / "notes.js").is_file()
    monkeypatch.setitem(slides.ASSETS, "reveal.js", ("no-such-package", "no_such_package/static"))
    with pytest.raises(ModuleNotFoundError, match="no-such-package is not installed.*pip install -r requirements.txt"):
        reveal_assets()


def test_a_deck_loads_reveal_js_and_mathjax_from_beside_it_and_nothing_from_the_network(tmp_path):
    ipynb = tmp_path / "99_tiny.ipynb"
    nbformat.write(tiny_notebook(), ipynb)  # stored without slide metadata: the deck follows the rule anyway
    deck = build_deck(ipynb, tmp_path / "slides")
    assert deck == tmp_path / "slides" / "99_tiny.slides.html"
    html = deck.read_text()
    for local in ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css", "reveal.js/dist/theme/white.css",
                  "reveal.js/plugin/notes/notes.js", "mathjax/MathJax.js"):
        assert f'"{local}' in html and (deck.parent / local).is_file(), local
    assert REMOTE.findall(html) == [] and not re.search(r"https?://[^\s\"']*reveal", html)
    stock, _ = SlidesExporter().from_notebook_node(tiny_notebook())
    assert REMOTE.findall(stock)  # the check is not blind: it sees the stock template's loads from CDNs
    assert "99 · A tiny deck" in html and "\\sum_{ij}" in html and "42" in html  # formula and output kept
    assert f"data:image/png;base64,{PNG}" in html and WIDGET_VIEW not in html  # the widget's fallback
    # 2 slides, the title and the formula (with its subslide): 2 <section>s holding 3
    assert len(re.findall(r"<section\b", html)) == 2 + 3


def test_the_copies_beside_the_decks_are_made_once_and_again_when_outdated(tmp_path):
    ipynb = tmp_path / "99_tiny.ipynb"
    nbformat.write(tiny_notebook(), ipynb)
    build_deck(ipynb, tmp_path)
    stamp, copied = tmp_path / "reveal.js" / ".copied-from", tmp_path / "reveal.js" / "dist" / "reveal.js"
    assert stamp.read_text().startswith("sphinx-revealjs 3.")
    copied.write_text("kept: the copy is current")
    build_deck(ipynb, tmp_path)
    assert copied.read_text() == "kept: the copy is current"
    stamp.write_text("sphinx-revealjs 0.1\n")  # a copy from another version of the package
    build_deck(ipynb, tmp_path)
    assert copied.read_text() == (reveal_assets() / "dist" / "reveal.js").read_text()


def test_build_deck_refuses_bad_arguments(tmp_path):
    ipynb = tmp_path / "99_tiny.ipynb"
    nbformat.write(tiny_notebook(), ipynb)
    with pytest.raises(TypeError, match="ipynb_path must be a str or a path"):
        build_deck(3, tmp_path)
    with pytest.raises(TypeError, match="out_dir must be a str or a path"):
        build_deck(ipynb, None)
    for missing in (tmp_path / "00_missing.ipynb", tmp_path):
        with pytest.raises(ValueError, match="ipynb_path must be an existing .ipynb file"):
            build_deck(missing, tmp_path)
    with pytest.raises(ValueError, match="out_dir must be a folder"):
        build_deck(ipynb, ipynb)


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_every_stored_notebook_carries_the_rules_slide_metadata(ipynb):
    notebook = nbformat.read(ipynb, as_version=4)
    stored = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in notebook.cells]
    ruled = [cell.metadata.slideshow.slide_type for cell in slide_metadata_(copy.deepcopy(notebook)).cells]
    assert stored == ruled, f"{ipynb.name}: slide metadata differs from the rule: run python tools/slides.py --tag"
