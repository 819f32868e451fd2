"""Student versions: solution blocks become stubs, nothing else changes, and a student version
runs with each exercise check saying "not attempted yet"."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib.notebook import BEGIN, END, strip_solutions, student_version

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_strip_solutions_keeps_the_indentation_and_the_rest():
    source = "def f(x):\n    # BEGIN SOLUTION\n    y = x + 1\n    return y\n    # END SOLUTION\n\n\ncheck(f)"
    assert strip_solutions(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError\n\n\ncheck(f)", 1)
    assert strip_solutions("# BEGIN SOLUTION\na = 1\n# END SOLUTION\nb = 2\n# BEGIN SOLUTION\nc = 3\n# END SOLUTION") == (
        "# YOUR CODE HERE\nraise NotImplementedError\nb = 2\n# YOUR CODE HERE\nraise NotImplementedError", 2)
    assert strip_solutions("x = 1") == ("x = 1", 0)


@pytest.mark.parametrize("source, words", [
    (f"{BEGIN}\na = 1", "without"), (f"a = 1\n{END}", "without"), (f"{BEGIN}\n{BEGIN}\n{END}\n{END}", "inside another")])
def test_strip_solutions_refuses_unmatched_markers(source, words):
    with pytest.raises(ValueError, match=words):
        strip_solutions(source)
    with pytest.raises(TypeError, match="source must be a str"):
        strip_solutions(["x = 1"])
    with pytest.raises(TypeError, match="nbformat notebook"):
        student_version({"cells": []})


@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_student_version_hides_every_solution_and_keeps_everything_else(path):
    notebook = nbformat.read(path, as_version=4)
    student = student_version(notebook)
    assert len(student.cells) == len(notebook.cells)
    blocks = sum(cell.source.count(BEGIN) for cell in notebook.cells)
    assert blocks >= 3  # every notebook ends with exercises
    assert sum(cell.source.count("raise NotImplementedError") for cell in student.cells) == blocks
    for before, after in zip(notebook.cells, student.cells):
        if BEGIN in before.source:
            assert END not in after.source and after.outputs == [] and after.execution_count is None
            solution = before.source.split(BEGIN, 1)[1].split(END, 1)[0].strip().splitlines()[0]
            assert solution not in after.source
        else:
            assert after == before
    assert notebook == nbformat.read(path, as_version=4)  # the instructor version is untouched


def test_a_student_version_runs_and_every_check_says_not_attempted(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    notebook = student_version(nbformat.read(NOTEBOOKS / "00_overview.ipynb", as_version=4))
    NotebookClient(notebook, timeout=600, allow_errors=True, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raise NotImplementedError" in cell.source:
            assert [(e.ename, "not attempted yet" in e.evalue) for e in errors] == [("AssertionError", True)], cell.source
        else:
            assert errors == [], (cell.source, errors)
