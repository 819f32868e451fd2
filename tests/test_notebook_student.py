"""Student versions: solution blocks become stubs and model answers placeholders, nothing else
changes (executing them: tests/test_student_versions.py)."""
from pathlib import Path

import nbformat
import pytest

from course_lib.notebook import BEGIN, END, MARKDOWN, is_model_answer, strip_solutions, student_version

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_strip_solutions_keeps_the_indentation_and_the_rest():
    source = "def f(x):\n    # BEGIN SOLUTION\n    y = x + 1\n    return y\n    # END SOLUTION\n\n\ncheck(f)"
    assert strip_solutions(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError\n\n\ncheck(f)", 1)
    assert strip_solutions("# BEGIN SOLUTION\na = 1\n# END SOLUTION\nb = 2\n# BEGIN SOLUTION\nc = 3\n# END SOLUTION") == (
        "# YOUR CODE HERE\nraise NotImplementedError\nb = 2\n# YOUR CODE HERE\nraise NotImplementedError", 2)
    assert strip_solutions("x = 1") == ("x = 1", 0)


def test_strip_solutions_replaces_a_model_answer_in_markdown():
    source = "**Exercise 4 (open).** Why?\n\n<!-- BEGIN SOLUTION -->\n**Model answer.** Because.\n<!-- END SOLUTION -->"
    assert strip_solutions(source, MARKDOWN) == ("**Exercise 4 (open).** Why?\n\n*YOUR ANSWER HERE*", 1)
    assert strip_solutions(source) == (source, 0)  # code markers leave markdown alone
    with pytest.raises(ValueError, match="markers must be"):
        strip_solutions(source, ("a", "b", ("c",)))
    with pytest.raises(ValueError, match="without"):
        strip_solutions("<!-- BEGIN SOLUTION -->\nno end", MARKDOWN)


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
    kept = []
    for cell in notebook.cells:  # inline model answers go, and an answer-only cell after another
        only = cell.cell_type == "markdown" and strip_solutions(cell.source, MARKDOWN)[0].strip() == MARKDOWN[2][0]
        if not is_model_answer(cell) and not (only and kept and kept[-1][1]):
            kept.append((cell, only))
    kept = [cell for cell, _ in kept]
    assert len(student.cells) == len(kept)
    blocks = sum(cell.source.count(BEGIN) for cell in notebook.cells)
    assert blocks >= 3  # every notebook ends with exercises
    assert sum(cell.source.count("raise NotImplementedError") for cell in student.cells) == blocks
    for before, after in zip(kept, student.cells):
        begin, end = (BEGIN, END) if before.cell_type == "code" else MARKDOWN[:2]
        if begin in before.source:
            assert end not in after.source and after.get("outputs", []) == [] and after.get("execution_count") is None
            solution = before.source.split(begin, 1)[1].split(end, 1)[0].strip().splitlines()[0]
            assert solution not in after.source
        else:
            assert after == before
    assert notebook == nbformat.read(path, as_version=4)  # the instructor version is untouched


def test_a_cell_computing_a_model_answer_is_left_out_of_the_student_version():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n# MODEL ANSWER to exercise 6\nprint(x)"),
        nbformat.v4.new_code_cell("# MODEL ANSWER\nprint(2 * x)"),
        nbformat.v4.new_markdown_cell("# MODEL ANSWER is only a code cell's marker")])
    assert [is_model_answer(cell) for cell in notebook.cells] == [False, True, True, False]
    assert [cell.source for cell in student_version(notebook).cells] == ["x = 1", "# MODEL ANSWER is only a code cell's marker"]


def test_an_answer_split_around_its_inline_cells_leaves_one_place_to_write():
    begin, end, (stub,) = MARKDOWN
    cell = nbformat.v4.new_markdown_cell
    notebook = nbformat.v4.new_notebook(cells=[
        cell("**Exercise 4 (open).** Why?"),
        cell(f"{begin}\n**Exercise 4.** Because.\n{end}"),
        nbformat.v4.new_code_cell("# MODEL ANSWER to exercise 4\nprint(1)"),
        cell(f"{begin}\nAs printed.\n\n**Exercise 5.** Since.\n{end}"),
        cell("## Next"),
        cell(f"{begin}\nAnother answer.\n{end}")])
    assert [c.source for c in student_version(notebook).cells] == [
        "**Exercise 4 (open).** Why?", stub, "## Next", stub]
