"""Execute the course notebooks in fresh kernels.

    python tools/nbrun.py                 # benchmark: wall seconds and peak memory per notebook
    python tools/nbrun.py --save 01       # rebuild notebooks/01_*.ipynb from notebooks/py/01_*.py,
                                          # execute it top to bottom and save it with outputs
                                          # and slide metadata (course_lib.slides)
    python tools/nbrun.py --robust 03 08  # every notebook under every perturbation, as nbval tests

Notebooks run from ``notebooks/`` with progress bars off, exactly as under ``pytest --nbval``.
``--robust`` runs ``pytest --nbval`` on each notebook under each perturbation of PERTURBATIONS
(another CPU's floating-point path, other thread counts, a shifted seed) and prints one table:
pass, or the first failing cell and its message, with wall seconds.
Every run starts with a calibration figure: seconds of a fixed reference workload on this
machine, so times from different machines can be compared.
Budgets (idle 2-core CPU whose calibration figure reads <= 0.7 s, quick profile, suite order, empty cache):
<= 120 s for notebooks 00-08, <= 90 s for 09-14, <= 240 s for the capstone (15); <= 3 GB per notebook.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import jupytext
import nbformat
import psutil
from jupyter_client.kernelspec import KernelSpecManager
from jupytext.config import load_jupytext_config
from nbclient import NotebookClient

from course_lib.slides import slide_metadata_

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BUDGET_GB = 3.0
BUDGETS = "120 s for notebooks 00-08, 90 s for 09-14, 240 s for the capstone (15)"  # as budget_s gives them
CALIBRATION_S = 0.7  # the budgets hold on a machine whose calibration figure reads at most this
KERNEL = "python3"  # the kernel the notebooks run in, here and in JupyterLab


def budget_s(name):
    """The wall-time budget in seconds of notebook ``name`` (e.g. "04_taylor..."): 120 s for the
    first half of the course (00-08), 90 s for 09-14, 240 s for the capstone (15)."""
    number = int(name[:2])
    return 120 if number <= 8 else 90 if number <= 14 else 240


PERTURBATIONS = {
    "native": {},
    "AVX2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},  # a CPU without AVX-512
    "no SIMD": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "1 thread": {"COURSE_THREADS": "1"},
    "3 threads": {"COURSE_THREADS": "3"},
    "seed +1": {"COURSE_SEED": "1"},
    "seed +2": {"COURSE_SEED": "2"},
}


def calibrate():
    """Seconds for a fixed workload (20 training steps of a small conv net, batch 128, 2 threads):
    this machine's speed, printed beside notebook times so that times from machines compare."""
    import torch
    import torch.nn as nn

    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(32 * 8 * 8, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x, y = torch.randn(128, 1, 32, 32), torch.randint(0, 10, (128,))
    start = time.perf_counter()
    for _ in range(20):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return time.perf_counter() - start


def nbval(name, env):
    """Run ``pytest --nbval`` on one notebook with ``env`` added: (first failure or "pass",
    seconds, the failing cell's whole report or "")."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval", f"--junitxml={report}",
                        str(NOTEBOOKS / f"{name}.ipynb")], cwd=ROOT, env={**os.environ, **env},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        if not report.exists():
            return "pytest did not run", seconds, ""
        cases = list(ET.parse(report).getroot().iter("testcase"))
        if not cases:
            return "no test ran", seconds, ""
        for case in cases:
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            if problem is not None:
                text = re.sub(r"(\x1b|#x1B)\[[0-9;]*m", "", f"{problem.get('message', '')}\n{problem.text or ''}")
                lines = [line.strip() for line in text.splitlines() if line.strip()]
                # the exception's own line ("AssertionError: ..."), not the traceback's header
                errors = [line for line in lines if re.match(r"\w*(Error|Exception)\b:", line)]
                detail = (errors or lines or [""])[-1]
                return f"{case.get('name')}: {detail[:150]}", seconds, text
    return "pass", seconds, ""


def robust(names, perturbations):
    """The notebook x perturbation table of :func:`nbval` results; returns True when all pass."""
    ok = True
    reports = ROOT / "data" / "robust"  # each failure's whole report, for reading after the table
    for name in names:
        for label in perturbations:
            result, seconds, text = nbval(name, PERTURBATIONS[label])
            ok &= result == "pass"
            if text:
                reports.mkdir(parents=True, exist_ok=True)
                (reports / f"{name} {label}.txt").write_text(text)
                result += f"  (whole report: data/robust/{name} {label}.txt)"
            print(f"{name:<28} {label:<10} {seconds:6.0f} s  {result}", flush=True)
    return ok


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


def execute(nb, timeout=2000, path=NOTEBOOKS):
    """Run ``nb`` in a fresh kernel from ``path`` (default notebooks/); returns (wall seconds, peak
    kernel RSS bytes). ``timeout``: seconds a cell may take, room for a slow or busy machine."""
    os.environ["COURSE_PROGRESS"] = "0"
    stop, peak = threading.Event(), [0]
    watcher = threading.Thread(target=peak_children_rss, args=(stop, peak), daemon=True)
    watcher.start()
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name=KERNEL,
                       resources={"metadata": {"path": str(path)}}).execute()
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


def lab_metadata(ipynb):
    """The notebook metadata ``ipynb`` is saved with, as JupyterLab itself would write it, so that
    a notebook opened fresh is not marked modified: the kernelspec as JupyterLab sets it when the
    kernel starts (name, display name and language of the installed spec: "Python 3 (ipykernel)",
    not "Python 3"), and jupytext's key as jupytext's contents manager completes it from
    jupytext.toml on opening. The cell metadata filter stored there keeps the .ipynb's slide
    metadata when JupyterLab reads the pair even where it does not see jupytext.toml
    (``jupyter lab notebooks/`` serves notebooks/ only). ``language_info`` is the kernel's, set by
    nbclient as JupyterLab sets it."""
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    config = load_jupytext_config(str(ipynb))
    pairing = {"formats": ";".join(config.formats)}
    config.set_default_format_options(pairing, read=True)
    return {"jupytext": pairing, "kernelspec": {"name": KERNEL, "display_name": spec.display_name, "language": spec.language}}


def save_pair(nb, ipynb):
    """Write ``nb`` to ``ipynb`` and touch its twin in ``notebooks/py/``: JupyterLab's jupytext
    refuses to open a pair whose .ipynb is newer than its .py (the two always differ)."""
    nbformat.write(nb, ipynb)
    (ipynb.parent / "py" / f"{ipynb.stem}.py").touch()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save", action="store_true", help="rebuild from notebooks/py/, execute and save")
    parser.add_argument("--robust", action="store_true", help="run every notebook's nbval tests under every perturbation")
    parser.add_argument("--only", nargs="+", choices=list(PERTURBATIONS), default=list(PERTURBATIONS),
                        help="with --robust: these perturbations only")
    parser.add_argument("notebooks", nargs="*", help="name prefixes, e.g. 00 03_l1")
    args = parser.parse_args()
    print(f"calibration: {calibrate():.2f} s for the reference workload (lower = faster machine; the budgets "
          f"assume <= {CALIBRATION_S} s)", flush=True)
    if args.robust:
        sys.exit(0 if robust(select(args.notebooks), args.only) else 1)
    total, rows = 0.0, []
    for name in select(args.notebooks):
        ipynb, script = NOTEBOOKS / f"{name}.ipynb", NOTEBOOKS / "py" / f"{name}.py"
        nb = jupytext.read(script) if args.save else nbformat.read(ipynb, as_version=4)
        if args.save:
            nb.metadata.update(lab_metadata(ipynb))
        seconds, rss = execute(nb)
        if args.save:
            save_pair(slide_metadata_(nb), ipynb)  # RISE reads the slides from the .ipynb
        total += seconds
        over = "  OVER BUDGET" if seconds > budget_s(name) or rss / 1e9 > BUDGET_GB else ""
        rows.append(f"{name:<40} {seconds:8.1f} s {rss / 1e9:8.2f} GB{over}")
        print(rows[-1], flush=True)
    print(f"{'total':<40} {total:8.1f} s   (budget per notebook: {BUDGETS}; {BUDGET_GB} GB)")


if __name__ == "__main__":
    main()
