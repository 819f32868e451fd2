"""Decks in a real browser: each opens from disk (file://), where nothing can come from the network,
shows its notebook's title, moves to the next slide, and its console logs no error."""
from pathlib import Path

import nbformat
import pytest

from course_lib.slides import build_deck, slide_metadata_

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# three real decks: tables, plots and code; 03's math needs MathJax's calligraphic and AMS fonts
NAMES = ["00_overview", "03_l1_filter_pruning", "08_deep_compression"]


def headings(name):
    """The heading text of each slide and subslide of notebook ``name``, in order."""
    notebook = slide_metadata_(nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4))
    return [cell.source.split("\n", 1)[0].lstrip("#").strip() for cell in notebook.cells
            if cell.metadata.slideshow.slide_type != "-"]


@pytest.fixture(scope="session")
def decks(tmp_path_factory):
    """{name: Path of its deck}, built into one temporary folder."""
    out = tmp_path_factory.mktemp("slides")
    return {name: build_deck(NOTEBOOKS / f"{name}.ipynb", out) for name in NAMES}


def shown(browser):
    """((horizontal, vertical) index of the slide shown, its visible text), once MathJax has typeset."""
    browser.execute_async_script("MathJax.Hub.Queue(arguments[arguments.length - 1])")
    indices = browser.execute_script("return Reveal.getIndices()")
    return (indices["h"], indices["v"]), browser.execute_script("return Reveal.getCurrentSlide()").text


@pytest.mark.parametrize("name", NAMES)
def test_a_deck_opens_from_disk_shows_its_title_and_moves_to_the_next_slide(name, decks, browser, console_errors,
                                                                           screenshot):
    title, second = headings(name)[:2]
    browser.get(decks[name].as_uri())
    browser.execute_async_script("const done = arguments[arguments.length - 1];"
                                 "Reveal.isReady() ? done() : Reveal.on('ready', done)")
    indices, text = shown(browser)
    screenshot(f"{name}-title")
    assert indices == (0, 0)
    assert text.splitlines()[0] == title
    browser.execute_async_script("const done = arguments[arguments.length - 1];"  # moved, and the slide in place
                                 "Reveal.on('slidetransitionend', () => done()); Reveal.next()")
    next_indices, next_text = shown(browser)
    screenshot(f"{name}-next")
    assert next_indices != indices and next_text.splitlines()[0] == second
    errors = console_errors()
    assert errors == [], f"{name}: the browser console logged errors:\n" + "\n".join(errors)
