"""Every notebook's student version, executed top to bottom as a student would run it before
writing any answer: each exercise check fails with its one-line "not attempted yet", a follow-up
that needs the student's own code stops at its stub, and every other cell runs.

Executing all nine student versions takes about as long as the notebooks themselves, so these
tests carry the ``student`` marker, are left out of ``pytest --nbval`` (the suite's time budget)
and run in CI by ``.ci/run`` (``pytest -m student``).
"""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib.notebook import STUB, student_version

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.student
@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_a_student_version_runs_and_every_check_says_not_attempted(path, monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    notebook = student_version(nbformat.read(path, as_version=4))
    NotebookClient(notebook, timeout=600, allow_errors=True, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    stubs = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        errors = [(o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]
        if STUB[1] not in cell.source:
            assert errors == [], f"{path.name}: a cell without a stub failed in the student version:\n{cell.source}\n{errors}"
            continue
        stubs += 1
        checked = [name == "AssertionError" and "not attempted yet" in value for name, value in errors]
        follow_up = [name == "NotImplementedError" for name, _ in errors]
        assert checked == [True] or follow_up == [True], f"{path.name}: a stub cell gave {errors}:\n{cell.source}"
    assert stubs >= 3, f"{path.name}: only {stubs} exercises in the student version"
