"""The instructor answers notebooks (tools/answers.py) hold the lessons' model answers computed,
built from the lessons as they stand."""
import hashlib
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ANSWERS = sorted((NOTEBOOKS / "answers").glob("[0-9][0-9]_*_answers.ipynb"))


@pytest.mark.parametrize("path", ANSWERS, ids=lambda p: p.name)
def test_answers_were_built_from_the_lesson_as_it_stands_and_executed(path):
    nb = nbformat.read(path, as_version=4)
    lesson = NOTEBOOKS / nb.metadata["answers"]["lesson"]
    assert hashlib.sha256(lesson.read_bytes()).hexdigest() == nb.metadata["answers"]["sha256"], (
        f"{lesson.name} has changed since its answers were built: run python tools/answers.py {path.name[:2]}")
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert len(code) > 1 and all(cell.execution_count is not None for cell in code), "not executed"
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"], "an answer raised"
    assert all(cell.outputs for cell in code[1:]), "every answer shows what it computed"
