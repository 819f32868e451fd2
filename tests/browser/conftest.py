"""A headless Chromium driven by Selenium, shared by the browser tests; they skip, saying what to
install, when Chromium or its driver is missing (Debian: apt-get install chromium chromium-driver)."""
import shutil

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")  # Debian's name first


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (a Selenium WebDriver, 1280 x 800 window) for the whole session,
    keeping its console log (read it with ``console_errors``)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install -r requirements.txt")
    binary = next(filter(None, map(shutil.which, BROWSERS)), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip("no Chromium or no chromedriver on PATH: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the driver's path is given, so Selenium does not try to download one
    chrome = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    chrome.set_script_timeout(30)
    yield chrome
    chrome.quit()


@pytest.fixture
def console_errors(browser):
    """``console_errors()``: the messages of the SEVERE entries of the browser's console log since
    the last call (the first call: since this test started)."""
    browser.get_log("browser")  # what earlier tests left
    return lambda: [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.fixture
def screenshot(browser, tmp_path):
    """``screenshot(name)``: save the browser's window as ``<the test's tmp folder>/<name>.png``
    (pytest keeps the last three runs' folders) and return its Path."""
    def save(name):
        path = tmp_path / f"{name}.png"
        browser.save_screenshot(str(path))
        return path
    return save
