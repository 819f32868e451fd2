"""Build and execute the instructor answers notebooks: ``python tools/answers.py 03 [05 ...]``.

An open exercise's model answer lives in its lesson, in the markdown cell between
``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` (hidden from the student version): words,
and the code that computes the outcome in ```` ```python ```` blocks. For each lesson given, this
writes ``notebooks/answers/NN_topic_answers.ipynb``: one cell runs the lesson itself (its outputs
captured, not repeated), then each answer's text and code become cells, and the notebook is
executed and saved with its outputs, so an instructor reads the outcome computed, not predicted.
Prints the seconds each exercise's code took: an answer within 10 s runs inline in its lesson
instead, in a code cell that begins ``# MODEL ANSWER`` (left out of the student version), and
appears here too.

The answers notebooks are not part of ``pytest --nbval`` or its budget (a lesson and its answers
take minutes). The lesson's SHA-256 is stored in the answers notebook's metadata, and
``tests/test_answers.py`` fails when a lesson has changed since its answers were built.
"""
import argparse
import datetime
import hashlib
import re
import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient.exceptions import CellExecutionError

from course_lib.notebook import is_model_answer
from nbrun import NOTEBOOKS, execute, lab_metadata, select

ANSWERS = NOTEBOOKS / "answers"
BEGIN, END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
EXERCISE = re.compile(r"^\*\*Exercise (\d+)\.\*\*", re.MULTILINE)  # how each model answer starts
QUESTION = re.compile(r"^\*\*Exercise (\d+) \(open\)\.\*\*", re.MULTILINE)  # how each open exercise starts
CODE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def sha256(path):
    """The SHA-256 of the file at ``path``, hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_answers(lesson):
    """``{exercise number: its model answer's markdown}`` from the solution blocks of ``lesson`` (a
    notebook), the code of a model answer computed inline (``is_model_answer``) as a python block."""
    blocks = []
    for cell in lesson.cells:
        if cell.cell_type == "markdown" and BEGIN in cell.source:
            blocks.append(cell.source.split(BEGIN, 1)[1].split(END, 1)[0])
        elif is_model_answer(cell):
            blocks.append(f"```python\n{cell.source}\n```")
    text = "\n".join(blocks)
    starts = [m.start() for m in EXERCISE.finditer(text)] + [len(text)]
    return {int(EXERCISE.match(text, a).group(1)): text[a:b].strip() for a, b in zip(starts, starts[1:])}


def open_questions(lesson):
    """``{exercise number: its text}`` for the open exercises of ``lesson`` (a notebook)."""
    questions = {}
    for cell in lesson.cells:
        if cell.cell_type == "markdown" and BEGIN not in cell.source:
            starts = [m.start() for m in QUESTION.finditer(cell.source)]
            for a, b in zip(starts, starts[1:] + [len(cell.source)]):
                questions[int(QUESTION.match(cell.source, a).group(1))] = cell.source[a:b].strip()
    return questions


def answer_cells(answer):
    """The cells of one model answer: its text as markdown, each ```python block as a code cell."""
    cells, position = [], 0
    for block in CODE.finditer(answer):
        words = answer[position:block.start()].strip()
        if words:
            cells.append(nbformat.v4.new_markdown_cell(words))
        cells.append(nbformat.v4.new_code_cell(block.group(1).strip()))
        position = block.end()
    if answer[position:].strip():
        cells.append(nbformat.v4.new_markdown_cell(answer[position:].strip()))
    return cells


def build(name):
    """The answers notebook of lesson ``name`` (e.g. "03_l1_filter_pruning"), not executed yet."""
    script = NOTEBOOKS / "py" / f"{name}.py"
    lesson = jupytext.read(script)
    answers = model_answers(lesson)
    if not answers:
        raise SystemExit(f"{name}: no model answers ({BEGIN} ... **Exercise N.** ...) to build")
    title = lesson.cells[0].source.splitlines()[0].lstrip("# ")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"# Answers · {title}\n\nThe model answers to the open exercises of `{name}.ipynb`, computed: the "
        f"first cell runs the lesson top to bottom (its outputs are not repeated here), then each answer's "
        f"code runs on the lesson's networks. Built by `python tools/answers.py {name[:2]}` from the lesson "
        f"as it stands; not part of `pytest --nbval`."))
    nb.cells.append(nbformat.v4.new_code_cell(
        "from IPython.utils.capture import capture_output\n\n"
        f"with capture_output():  # the lesson, run in this kernel: its variables are the answers' starting point\n"
        f"    get_ipython().run_line_magic(\"run\", \"-i ../py/{name}.py\")"))
    questions = open_questions(lesson)
    for number, answer in answers.items():
        asked = questions.get(number, f"**Exercise {number}.**")
        cells = [nbformat.v4.new_markdown_cell("---\n" + asked)] + answer_cells(answer)
        for cell in cells:
            cell.metadata["exercise"] = number
        nb.cells += cells
    nb.metadata.update({"kernelspec": lab_metadata(ANSWERS / f"{name}_answers.ipynb")["kernelspec"],
                        "jupytext": {"formats": "ipynb"},  # not paired: jupytext.toml pairs the lessons only
                        "answers": {"lesson": f"py/{name}.py", "sha256": sha256(script)}})
    return nb


def seconds_per_exercise(nb):
    """``{exercise: wall seconds of its code cells}`` from the execution timestamps nbclient records."""
    seconds = {}
    for cell in nb.cells:
        timing = cell.metadata.get("execution", {})
        if cell.cell_type == "code" and "exercise" in cell.metadata and "shell.execute_reply" in timing:
            start, end = (datetime.datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))
            seconds[cell.metadata.exercise] = seconds.get(cell.metadata.exercise, 0.0) + (end - start).total_seconds()
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", help="lesson name prefixes, e.g. 03 05_thinet")
    ANSWERS.mkdir(exist_ok=True)
    failed = []
    for name in select(parser.parse_args().notebooks):
        nb = build(name)
        try:
            seconds, _ = execute(nb, path=ANSWERS)
        except CellExecutionError as error:  # an answer that does not run: say which, go on with the next lesson
            failed.append(name)
            print(f"{name}: FAILED, nothing saved\n{str(error)[-3000:]}", flush=True)
            continue
        nb.metadata.pop("widgets", None)  # the lesson's widget state: the answers show none
        nbformat.write(nb, ANSWERS / f"{name}_answers.ipynb")
        per = ", ".join(f"exercise {k}: {v:.0f} s" for k, v in seconds_per_exercise(nb).items())
        print(f"{name}: {seconds:.0f} s in all ({per})", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
