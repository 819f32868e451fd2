"""What a student meets on opening the course: the README's own study command (read from README.md,
``jupyter lab --LabApp.app_settings_dir=lab-settings notebooks/``), run in a copy of the course's
layout, serves a paired notebook as it is stored, the notebook's tab is not marked modified once
its kernel is up, and no prompt about Jupyter news covers the lesson.

The notebooks are copied with the notebook metadata ``tools/nbrun.py --save`` gives them
(``lab_metadata``), and their text twins are written from them, as a fresh clone has them (the pairs
agree: tests/test_notebook_sync.py).
"""
import importlib.util
import json
import shlex
import shutil
import time
import urllib.request
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
OPENED = ["00_overview", "08_deep_compression"]  # the first lesson, and one that stores widget state
TWIN = {"extension": ".py", "format_name": "percent", "notebook_metadata_filter": "-all", "cell_metadata_filter": "-all"}


def study_command():
    """The arguments of the README's study command (the line ``jupyter lab ... # study``) after ``jupyter lab``."""
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("jupyter lab ") and line.rstrip().endswith("# study"):
            return shlex.split(line.split("#")[0])[2:]
    raise AssertionError("README.md has no study command (a line `jupyter lab ...  # study`)")


def lab_metadata(ipynb):
    """``tools/nbrun.py``'s ``lab_metadata``: the notebook metadata ``--save`` writes."""
    spec = importlib.util.spec_from_file_location("nbrun", ROOT / "tools" / "nbrun.py")
    nbrun = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nbrun)
    return nbrun.lab_metadata(ipynb)


@pytest.fixture(scope="module")
def course(tmp_path_factory, jupyter_lab):
    """The course's layout (jupytext.toml, lab-settings/, the OPENED pairs in notebooks/) in a
    temporary folder, served by the README's study command started there; yields (folder, base
    URL, token)."""
    folder = tmp_path_factory.mktemp("course")
    (folder / "notebooks" / "py").mkdir(parents=True)
    shutil.copy(ROOT / "jupytext.toml", folder)
    shutil.copytree(ROOT / "lab-settings", folder / "lab-settings")
    for name in OPENED:
        notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        notebook.metadata.update(lab_metadata(NOTEBOOKS / f"{name}.ipynb"))
        nbformat.write(notebook, folder / "notebooks" / f"{name}.ipynb")
        # the twin written last: jupytext refuses a pair whose .ipynb is the newer
        jupytext.write(notebook, folder / "notebooks" / "py" / f"{name}.py", fmt=TWIN)
    base, token = jupyter_lab(folder, *study_command())
    return folder, base, token


@pytest.mark.parametrize("name", OPENED)
def test_jupytext_serves_the_notebook_as_stored(course, name):
    # what JupyterLab receives is what it would save: the notebook's metadata and every cell's
    # (slide metadata included, though the twin does not carry it and jupytext.toml lies outside
    # the folder served), but "trusted", which the server adds and JupyterLab leaves out on saving
    folder, base, token = course
    with urllib.request.urlopen(f"{base}/api/contents/{name}.ipynb?content=1&type=notebook&token={token}") as answer:
        served = json.load(answer)["content"]
    stored = nbformat.read(folder / "notebooks" / f"{name}.ipynb", as_version=4)
    assert served["metadata"] == stored.metadata
    assert [{k: v for k, v in cell["metadata"].items() if k != "trusted"} for cell in served["cells"]] == \
        [cell.metadata for cell in stored.cells]


@pytest.mark.parametrize("name", OPENED)
def test_a_notebook_opens_unmodified_and_no_news_prompt(browser, course, name, screenshot):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _, base, token = course
    browser.get(f"{base}/lab/tree/{name}.ipynb?reset&token={token}")  # reset: this notebook alone
    status = "return (document.getElementById('jp-main-statusbar') || {}).innerText || ''"
    try:
        # the kernel up and idle: JupyterLab has written its kernelspec and language_info by then
        WebDriverWait(browser, 120, poll_frequency=0.5).until(lambda b: "Idle" in b.execute_script(status))
        time.sleep(3)  # room for a late metadata change, or for the news prompt to come
    finally:
        screenshot(f"{name}_opened")
    tabs = [tab.text for tab in browser.find_elements(By.CSS_SELECTOR, "#jp-main-dock-panel .lm-TabBar-tab")]
    assert f"{name}.ipynb" in tabs, f"the notebook's tab is not open: {tabs}"
    dirty = [tab.text for tab in browser.find_elements(By.CSS_SELECTOR, "#jp-main-dock-panel .lm-TabBar-tab.jp-mod-dirty")]
    assert not dirty, f"marked modified right after opening: {dirty}"
    text = browser.execute_script("return document.body.innerText")
    assert "Jupyter news" not in text, "JupyterLab asks about Jupyter news over the lesson"
