"""Execute the course notebooks in fresh kernels.

    python tools/nbrun.py                 # benchmark: wall seconds and peak memory per notebook
    python tools/nbrun.py --save 01       # rebuild notebooks/01_*.ipynb from notebooks/py/01_*.py,
                                          # execute it top to bottom and save it with outputs

Notebooks run from ``notebooks/`` with progress bars off, exactly as under ``pytest --nbval``.
Budgets (2-core CPU, quick profile): <= 90 s and <= 3 GB per notebook.
"""
import argparse
import os
import sys
import threading
import time
from pathlib import Path

import jupytext
import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BUDGET_S, BUDGET_GB = 90, 3.0


def peak_children_rss(stop, result):
    """Poll the resident memory of this process's children (the kernel) until ``stop`` is set."""
    me = psutil.Process()
    while not stop.is_set():
        rss = 0
        for child in me.children(recursive=True):
            try:
                rss += child.memory_info().rss
            except psutil.Error:
                pass
        result[0] = max(result[0], rss)
        time.sleep(0.05)


def execute(nb, timeout=600):
    """Run ``nb`` in a fresh kernel from notebooks/; returns (wall seconds, peak kernel RSS bytes)."""
    os.environ["COURSE_PROGRESS"] = "0"
    stop, peak = threading.Event(), [0]
    watcher = threading.Thread(target=peak_children_rss, args=(stop, peak), daemon=True)
    watcher.start()
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        stop.set()
        watcher.join()
    return time.perf_counter() - start, peak[0]


def select(patterns):
    """Notebook paths whose names start with one of ``patterns`` (all notebooks when empty)."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted((NOTEBOOKS / "py").glob("[0-9][0-9]_*.py"))
    names = sorted({p.stem for p in paths})
    chosen = [n for n in names if not patterns or any(n.startswith(p) for p in patterns)]
    if not chosen:
        sys.exit(f"no notebook matches {patterns}")
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save", action="store_true", help="rebuild from notebooks/py/, execute and save")
    parser.add_argument("notebooks", nargs="*", help="name prefixes, e.g. 00 03_l1")
    args = parser.parse_args()
    total, rows = 0.0, []
    for name in select(args.notebooks):
        ipynb, script = NOTEBOOKS / f"{name}.ipynb", NOTEBOOKS / "py" / f"{name}.py"
        nb = jupytext.read(script) if args.save else nbformat.read(ipynb, as_version=4)
        if args.save:
            nb.metadata["jupytext"] = {"formats": "ipynb,py//py:percent"}
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        seconds, rss = execute(nb)
        if args.save:
            nbformat.write(nb, ipynb)
        total += seconds
        over = "  OVER BUDGET" if seconds > BUDGET_S or rss / 1e9 > BUDGET_GB else ""
        rows.append(f"{name:<40} {seconds:8.1f} s {rss / 1e9:8.2f} GB{over}")
        print(rows[-1], flush=True)
    print(f"{'total':<40} {total:8.1f} s   (budget per notebook: {BUDGET_S} s, {BUDGET_GB} GB)")


if __name__ == "__main__":
    main()
