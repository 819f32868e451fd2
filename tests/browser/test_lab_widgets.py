"""JupyterLab in a real browser: a notebook holding an explorer (course_lib.widgets) runs, the
widget renders (not an error placeholder), and moving a slider changes the figure's summary.

The server listens on loopback only, with a random token, in a temporary folder.
"""
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

CELL = """import pandas as pd
from course_lib.widgets import compression_explorer

grid = pd.DataFrame([{"quality": q, "bits": b, "accuracy": 0.99 - q / 10 - 0.02 / b, "rate": 4 * (1 + q) * 8 / b}
                     for q in (0.0, 1.0, 2.0) for b in (2, 4, 8)])
compression_explorer(grid, quality=1.0, bits=4)"""
START = "quality 1.0, 4 bits: 16.0x smaller than fp32"
MOVED = "quality 1.0, 8 bits: 8.0x smaller than fp32"  # the bits slider one step to the right


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on loopback serving a folder with ``explorer.ipynb``; yields the URL of
    that notebook (token included)."""
    folder = tmp_path_factory.mktemp("lab")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "explorer.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    # settings and workspaces of its own, so a user's JupyterLab configuration cannot change the test
    own = tmp_path_factory.mktemp("lab-config")
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(own / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(own / "workspaces")}
    log = open(own / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                               f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
                               "--ServerApp.allow_root=True"],  # CI runs as root
                              cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start; its log:\n{(own / 'server.log').read_text()}")
            time.sleep(0.5)
    yield f"{base}/lab/tree/explorer.ipynb?token={token}"
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:  # a kernel still shutting down: stop it the hard way
        server.kill()
        server.wait()
    log.close()


def page_text(browser):
    return browser.execute_script("return document.body.innerText")


def click_when_ready(wait, css, index=0):
    """Click the ``index``-th element matching ``css`` as soon as it takes a click (a page still
    laying itself out can cover or hide it for a moment); returns the element."""
    from selenium.common.exceptions import (ElementClickInterceptedException, ElementNotInteractableException,
                                            StaleElementReferenceException)
    from selenium.webdriver.common.by import By

    def attempt(browser):
        found = browser.find_elements(By.CSS_SELECTOR, css)
        if len(found) <= index:
            return False
        try:
            found[index].click()
        except (ElementClickInterceptedException, ElementNotInteractableException, StaleElementReferenceException):
            return False
        return found[index]
    return wait.until(attempt)


def test_explorer_renders_and_its_slider_changes_the_output(browser, lab, screenshot):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 120, poll_frequency=0.5)
    browser.get(lab)
    editor = click_when_ready(wait, ".jp-Notebook .jp-Cell .cm-content")
    editor.send_keys(Keys.SHIFT, Keys.ENTER)  # run the cell (the kernel starts with the notebook)
    try:
        wait.until(lambda b: START in page_text(b))
    finally:
        screenshot("explorer_rendered")
    text = page_text(browser)
    assert "Error displaying widget" not in text and "model not found" not in text, text
    handles = browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .noUi-handle")
    assert len(handles) == 2, f"expected the two sliders of the explorer, found {len(handles)} handles"
    bits = click_when_ready(wait, ".jp-OutputArea-output .noUi-handle", index=1)  # the bits slider
    bits.send_keys(Keys.ARROW_RIGHT)
    try:
        wait.until(lambda b: MOVED in page_text(b))
    finally:
        screenshot("explorer_slider_moved")
    assert START not in page_text(browser), "the summary of the old setting is still shown"
