"""Every notebook has a reviewable text twin in notebooks/py/ (jupytext percent format), and the
two hold the same cells. Fix a failure with `jupytext --sync notebooks/<name>.ipynb`."""
import json
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SCRIPTS = sorted((NOTEBOOKS / "py").glob("[0-9][0-9]_*.py"))


def cells(path):
    return [(c.cell_type, c.source.strip()) for c in jupytext.read(path).cells]


def test_every_notebook_has_a_twin_and_vice_versa():
    assert [p.stem for p in IPYNBS] == [p.stem for p in SCRIPTS]


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_pair_holds_the_same_cells(ipynb):
    assert cells(ipynb) == cells(NOTEBOOKS / "py" / f"{ipynb.stem}.py"), \
        f"{ipynb.name} and py/{ipynb.stem}.py differ: run jupytext --sync notebooks/{ipynb.name}"


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_notebook_was_run_top_to_bottom_with_outputs(ipynb):
    code = [c for c in json.loads(ipynb.read_text())["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{ipynb.name}: not executed top to bottom in a fresh kernel"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{ipynb.name} stores an error output"


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_no_control_characters_in_cells(ipynb):
    # a LaTeX command written in a non-raw Python string loses its backslash: "\times" becomes a
    # tab and "imes", "\rfloor" a carriage return and "floor", and the formula renders as text
    bad = [(i, repr(ch)) for i, c in enumerate(json.loads(ipynb.read_text())["cells"])
           for ch in "\t\r\x07\x08\x0b\x0c" if ch in "".join(c["source"])]
    assert not bad, f"{ipynb.name}: control characters in cells (index, character): {bad}"
