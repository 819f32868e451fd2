"""Slides from the notebooks: the slide metadata that RISE (live, in JupyterLab) and nbconvert read,
and reveal.js decks that work offline.

The rule (:func:`slide_metadata_`): the first cell (the title, ``# NN · ...``) starts a slide; a
markdown cell whose first line starts with ``## `` starts a slide, one starting with ``### `` a
subslide (below the slide it belongs to); every other cell continues the slide it is in.
"""
import shutil
from importlib import metadata
from os import PathLike
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import SlidesExporter

from course_lib.files import atomic_write

HEADINGS = {"## ": "slide", "### ": "subslide"}  # a markdown cell's first line -> its slide type
# each folder copied next to the decks: (the pip package that ships it, the folder inside the package)
ASSETS = {
    "reveal.js": ("sphinx-revealjs", "sphinx_revealjs/_static/revealjs"),  # reveal.js 5: dist/, plugin/
    "mathjax": ("jupyter-server-mathjax", "jupyter_server_mathjax/static"),  # MathJax 2.7, fonts included
}
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# nbconvert's reveal template with every remote load replaced: it loads reveal.js through require.js
# and also pulls jQuery and mermaid, all from CDNs. The decks load reveal.js directly and need
# neither jQuery nor mermaid.
TEMPLATE = """{%- extends "index.html.j2" -%}
{%- block html_head_js -%}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
// the copy of MathJax holds the STIX-Web fonts only (MathJax would look for its TeX fonts first);
// its blank test font, "about:blank", is a load a page opened from disk may not make: no load instead
MathJax.Hub.Config({"HTML-CSS": {availableFonts: ["STIX-Web"], preferredFont: "STIX-Web", webFont: "STIX-Web",
                                 imageFont: null, styles: {"@font-face": {src: "local('MathJax_Blank')"}}}});
</script>
{{ super() }}
{%- endblock html_head_js_mathjax -%}
{%- block footer_js -%}
<style>
/* a notebook section is often taller than the screen: it scrolls instead of being cut off */
.reveal .slides section { height: 100%; overflow-y: auto; }
.reveal h1, .reveal h2, .reveal h3 { text-transform: none; }  /* "CNNs", not "CNNS" */
/* the hidden MathML kept for screen readers would fetch TeX fonts that the copy of MathJax lacks */
.MJX_Assistive_MathML * { font-family: inherit !important; }
</style>
<script>
Reveal.initialize({hash: true, center: false, slideNumber: "c/t", plugins: [RevealNotes]});
// MathJax sizes the math of hidden slides wrongly: typeset the slide that is shown again
Reveal.on("slidechanged", event => MathJax.Hub.Queue(["Rerender", MathJax.Hub, event.currentSlide]));
</script>
{%- endblock footer_js -%}
"""


def _slide_type(cell, first=False):
    """The slide type the rule gives ``cell`` (an nbformat cell; ``first``: the notebook's first
    cell): "slide", "subslide" or "-" (continues the slide it is in)."""
    if first:
        return "slide"
    line = cell.source.split("\n", 1)[0]
    heading = [kind for start, kind in HEADINGS.items() if line.startswith(start)]
    return heading[0] if cell.cell_type == "markdown" and heading else "-"


def slide_metadata_(notebook):
    """Set ``metadata["slideshow"]["slide_type"]`` of every cell of ``notebook`` (an nbformat
    notebook) in place by the rule (the module's docstring); other metadata is kept. Returns it."""
    if not (isinstance(notebook, nbformat.NotebookNode) and "cells" in notebook):
        raise TypeError(f"notebook must be an nbformat notebook, got {type(notebook).__name__}")
    for index, cell in enumerate(notebook.cells):
        cell.metadata.setdefault("slideshow", nbformat.NotebookNode())["slide_type"] = _slide_type(cell, index == 0)
    return notebook


def _shipped(name):
    """(Path, version): the folder ``ASSETS[name]`` as its installed pip package ships it, and that
    package's version; ``ModuleNotFoundError`` saying what to install when the package is missing."""
    package, folder = ASSETS[name]
    try:
        distribution = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise ModuleNotFoundError(f"{package} is not installed, and the decks take {name} from it: "
                                  f"pip install -r requirements.txt") from None
    return Path(distribution.locate_file(folder)), distribution.version


def reveal_assets():
    """The Path of the reveal.js files (the folder holding dist/ and plugin/) shipped by the
    installed sphinx-revealjs package."""
    return _shipped("reveal.js")[0]


def _copy_assets(name, out_dir):
    """Copy ``ASSETS[name]`` to ``out_dir/name`` unless it holds a whole copy from the installed
    package version already (a stamp written after the copy says so)."""
    source, version = _shipped(name)
    target, stamp = Path(out_dir) / name, f"{ASSETS[name][0]} {version}\n"
    done = target / ".copied-from"
    if not (done.is_file() and done.read_text() == stamp):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
        done.write_text(stamp)


def _path(value, name):
    """``value`` (a str or path-like) as a Path; else ``TypeError`` naming the argument ``name``."""
    if not isinstance(value, (str, PathLike)):
        raise TypeError(f"{name} must be a str or a path, got {type(value).__name__}")
    return Path(value)


def build_deck(ipynb_path, out_dir):
    """Write ``out_dir/<stem>.slides.html``, the reveal.js deck of the notebook ``ipynb_path`` as
    it is stored (outputs included, nothing executed; a widget shows its static fallback), its
    slides by :func:`slide_metadata_` so a stale stored metadata does not matter. reveal.js and
    MathJax load from copies in ``out_dir/reveal.js/`` and ``out_dir/mathjax/`` (made when absent
    or outdated), so the deck opens offline, from disk. Returns the deck's Path."""
    ipynb_path, out_dir = _path(ipynb_path, "ipynb_path"), _path(out_dir, "out_dir")
    if ipynb_path.suffix != ".ipynb" or not ipynb_path.is_file():
        raise ValueError(f"ipynb_path must be an existing .ipynb file, got {str(ipynb_path)!r}")
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"out_dir must be a folder, got the file {str(out_dir)!r}")
    for name in ASSETS:
        _copy_assets(name, out_dir)
    notebook = slide_metadata_(nbformat.read(ipynb_path, as_version=4))
    # no kernel runs behind a deck, so its widgets show their fallback (a PNG of the saved setting,
    # or text) instead; with their saved state the template would load a widget manager from a CDN
    notebook.metadata.pop("widgets", None)
    exporter = SlidesExporter(extra_loaders=[DictLoader({"deck.html.j2": TEMPLATE})], template_file="deck.html.j2",
                              reveal_url_prefix="reveal.js", reveal_theme="white", mathjax_url=MATHJAX_URL)
    html, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": ipynb_path.stem}})
    deck = out_dir / f"{ipynb_path.stem}.slides.html"
    atomic_write(deck, html.encode("utf-8"))
    return deck
