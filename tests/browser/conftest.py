"""A headless Chromium driven by Selenium, shared by the browser tests; they skip, saying what to
install, when Chromium or its driver is missing (Debian: apt-get install chromium chromium-driver).
And JupyterLab servers for them to open (``jupyter_lab``)."""
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory):
    """``start(folder, *arguments)``: start ``jupyter lab *arguments`` in ``folder`` on loopback only,
    with a random token and settings and workspaces of its own (so a user's JupyterLab configuration
    cannot change a test), wait until it answers and return ``(base URL, token)``. Every server
    started is stopped at the end of the module."""
    servers = []

    def start(folder, *arguments):
        port, token = free_port(), secrets.token_hex(16)
        own = tmp_path_factory.mktemp("lab-config")
        env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(own / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(own / "workspaces")}
        log = open(own / "server.log", "w")
        server = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                                   f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                                   f"--IdentityProvider.token={token}",
                                   "--ServerApp.allow_root=True", *arguments],  # CI runs as root
                                  cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        servers.append((server, log))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                return base, token
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    pytest.fail(f"JupyterLab did not start; its log:\n{(own / 'server.log').read_text()}")
                time.sleep(0.5)

    yield start
    for server, log in servers:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a kernel still shutting down: stop it the hard way
            server.kill()
            server.wait()
        log.close()
