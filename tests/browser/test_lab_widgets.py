"""JupyterLab in a real browser: a notebook holding an explorer (course_lib.widgets) runs, the
widget renders (not an error placeholder), and moving a slider changes the figure's summary.

The server listens on loopback only, with a random token, in a temporary folder.
"""
import nbformat
import pytest

CELL = """import pandas as pd
from course_lib.widgets import compression_explorer

grid = pd.DataFrame([{"quality": q, "bits": b, "accuracy": 0.99 - q / 10 - 0.02 / b, "rate": 4 * (1 + q) * 8 / b}
                     for q in (0.0, 1.0, 2.0) for b in (2, 4, 8)])
compression_explorer(grid, quality=1.0, bits=4)"""
START = "quality 1.0, 4 bits: 16.0x smaller than fp32"
MOVED = "quality 1.0, 8 bits: 8.0x smaller than fp32"  # the bits slider one step to the right


@pytest.fixture(scope="module")
def lab(tmp_path_factory, jupyter_lab):
    """A JupyterLab server on loopback serving a folder with ``explorer.ipynb``; the URL of
    that notebook (token included)."""
    folder = tmp_path_factory.mktemp("lab")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "explorer.ipynb")
    base, token = jupyter_lab(folder, f"--ServerApp.root_dir={folder}")
    return f"{base}/lab/tree/explorer.ipynb?token={token}"


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
