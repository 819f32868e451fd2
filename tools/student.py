"""Build the student versions of the notebooks: ``python tools/student.py [--out student]``.

Each notebook in ``notebooks/`` is written to the output folder (git-ignored) with every
``# BEGIN SOLUTION`` … ``# END SOLUTION`` block replaced by ``# YOUR CODE HERE`` /
``raise NotImplementedError`` and those cells' outputs cleared, and every model answer to an open
exercise (a markdown block between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``)
replaced by ``*YOUR ANSWER HERE*``; the rest of the notebook, outputs included, is kept
(``course_lib.notebook.student_version``). The code markers are nbgrader's, so the notebooks also
work with nbgrader; nbgrader itself is not needed for this one step (it brings a
grading database, a course-folder layout and server extensions a self-study course does not use).
"""
import argparse
from pathlib import Path

import nbformat

from course_lib.notebook import MARKDOWN, STUB, student_version

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="output folder (default: student/)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        student = student_version(notebook)
        stubs = sum(cell.source.count(STUB[1]) for cell in student.cells if cell.cell_type == "code")
        answers = sum(cell.source.count(MARKDOWN[2][0]) for cell in student.cells if cell.cell_type == "markdown")
        nbformat.write(student, out / path.name)
        print(f"{path.name:36s} {stubs} exercises to write, {answers} model answers hidden")


if __name__ == "__main__":
    main()
