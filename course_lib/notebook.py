"""Helpers for the notebooks themselves: showing library source, building student versions."""
import copy
import inspect

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"  # nbgrader's markers
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
CODE = (BEGIN, END, STUB)  # (begin, end, stub lines) of a solution in a code cell
# a model answer in a markdown cell: HTML comments, so the instructor version renders without them
MARKDOWN = ("<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->", ("*YOUR ANSWER HERE*",))
# a code cell that computes an open exercise's model answer inline begins with this line (after
# nbval's "# NBVAL_IGNORE_OUTPUT", if any); the student version leaves the whole cell out
ANSWER = "# MODEL ANSWER"


def show_source(obj):
    """Display the source code of a function or class as a Python code block, so a notebook shows
    the library code it is about to run (in a notebook; elsewhere prints it)."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError(f"obj must be a function, method or class, got {type(obj).__name__}")
    from IPython import get_ipython
    from IPython.display import Markdown, display

    source = inspect.getsource(obj)
    if get_ipython() is None:
        print(source)
    else:
        display(Markdown(f"```python\n{source}```"))


def strip_solutions(source, markers=CODE):
    """``source`` (a cell's text) with every solution block, its markers included, replaced by
    the stub lines at the block's indentation. ``markers`` = (begin, end, stub lines): ``CODE``
    (``# BEGIN SOLUTION`` … ``# END SOLUTION`` -> ``STUB``) for a code cell, ``MARKDOWN`` for a
    model answer in a markdown cell. Returns (new source, number of blocks replaced); unmatched or
    nested markers -> ValueError."""
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}")
    if markers not in (CODE, MARKDOWN):
        raise ValueError("markers must be course_lib.notebook.CODE or course_lib.notebook.MARKDOWN")
    begin, end, stub = markers
    out, indent, replaced = [], None, 0
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == begin:
            if indent is not None:
                raise ValueError(f"source line {number}: {begin} inside another solution block")
            indent = line[:len(line) - len(line.lstrip())]
            out += [indent + text for text in stub]
            replaced += 1
        elif marker == end:
            if indent is None:
                raise ValueError(f"source line {number}: {end} without {begin}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"source: {begin} without {end}")
    return "\n".join(out), replaced


def is_model_answer(cell):
    """True for a code cell that computes a model answer inline (its first line, after an optional
    ``# NBVAL_IGNORE_OUTPUT``, begins with :data:`ANSWER`)."""
    lines = [line for line in cell.source.splitlines() if line.strip() != "# NBVAL_IGNORE_OUTPUT"]
    return cell.cell_type == "code" and bool(lines) and lines[0].startswith(ANSWER)


def student_version(notebook):
    """A copy of ``notebook`` (an ``nbformat`` notebook) for students: in every code cell that
    holds a solution block, the blocks become stubs (:func:`strip_solutions`) and the outputs are
    cleared, so no solution shows; in every markdown cell, each model answer becomes
    ``*YOUR ANSWER HERE*``; the cells that compute a model answer (:func:`is_model_answer`) are
    left out, and so is a markdown cell holding nothing but a model answer right after another
    (an answer split around its inline cells leaves the student one place to write); every other
    cell is kept with its outputs."""
    if not hasattr(notebook, "cells"):
        raise TypeError(f"notebook must be an nbformat notebook, got {type(notebook).__name__}")
    student = copy.deepcopy(notebook)
    answer_only = "\n".join(MARKDOWN[2])
    cells = []
    for cell in student.cells:
        if is_model_answer(cell):
            continue
        if cell.cell_type == "code":
            source, replaced = strip_solutions(cell.source)
            if replaced:
                cell.source, cell.outputs, cell.execution_count = source, [], None
        elif cell.cell_type == "markdown":
            source, replaced = strip_solutions(cell.source, MARKDOWN)
            if replaced and source.strip() == answer_only and cells and cells[-1].source.strip() == answer_only:
                continue
            if replaced:
                cell.source = source
        cells.append(cell)
    student.cells = cells
    return student
