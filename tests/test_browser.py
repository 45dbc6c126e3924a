"""End to end in a real browser: `streamlit run app.py` on a free port, Debian's headless Chromium
driven by selenium + chromedriver. Picks a company, types a question into the chat box, finds the
answer and a highlighted source on the page, and saves screenshots to tests/artifacts/.

Chromium is installed by scripts/install_browser.sh when missing (make test runs it too); the test
skips, saying why, only when the browser truly cannot be installed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port, running_server, url_answers

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

selenium = pytest.importorskip("selenium", reason="selenium is not installed: pip install -r requirements-dev.txt")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _browser_paths() -> tuple[str | None, str | None]:
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    return chromium, shutil.which("chromedriver")


def ensure_browser() -> tuple[str, str]:
    chromium, driver = _browser_paths()
    if not (chromium and driver):
        script = ROOT / "scripts" / "install_browser.sh"
        try:
            done = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=600)
            why = (done.stderr or done.stdout).strip().splitlines()[-1:] if done.returncode else []
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = [str(exc)]
        chromium, driver = _browser_paths()
        if not (chromium and driver):
            pytest.skip(f"headless Chromium could not be installed ({' '.join(why) or 'apt-get failed'}); "
                        "run scripts/install_browser.sh as root")
    return chromium, driver


@pytest.fixture(scope="session")
def browser_store(tmp_path_factory) -> tuple[Path, Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_app import build_ui_store  # the same small store as the AppTest tests, built once

    policies, store = build_ui_store(tmp_path_factory.getbasetemp() / "ui-store")
    own = tmp_path_factory.mktemp("browser")
    shutil.copytree(policies, own / "policies")
    shutil.copytree(store, own / "store")
    return own / "policies", own / "store"


@pytest.fixture(scope="session")
def server(browser_store, tmp_path_factory):
    policies, store = browser_store
    port = free_port()
    env = {**os.environ, "PLAINPOLICY_STORE": str(store), "PLAINPOLICY_POLICIES": str(policies),
           "PLAINPOLICY_EMBEDDER": "use", "PLAINPOLICY_BACKEND": "extractive",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "ANONYMIZED_TELEMETRY": "False"}
    env.pop("PLAINPOLICY_CHROMA_URL", None)
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    with running_server(cmd, lambda: url_answers(url + "/_stcore/health", b"ok"), "streamlit",
                        tmp_path_factory.mktemp("streamlit") / "streamlit.log", 60, cwd=ROOT, env=env):
        yield url


@pytest.fixture(scope="session")
def driver(tmp_path_factory):
    chromium, chromedriver = ensure_browser()
    os.environ["SE_AVOID_STATS"] = "true"  # selenium manager must not phone home
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1400", "--lang=en-US",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


def screenshot(browser, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    # grow the window to the page so the whole conversation is in the picture
    height = browser.execute_script(
        "const m = document.querySelector('.stMain') || document.body;"
        "return Math.max(m.scrollHeight, document.body.scrollHeight);")
    browser.set_window_size(1280, min(max(int(height) + 120, 900), 4000))
    time.sleep(0.5)
    browser.save_screenshot(str(path))
    return path


def test_chat_in_a_real_browser(server, driver):
    wait = WebDriverWait(driver, 45)
    driver.get(server)
    chat_box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]')))
    assert "PlainPolicy" in driver.title

    # pick the company by its display name
    picker = driver.find_element(By.CSS_SELECTOR, '[data-testid="stSelectbox"] input')
    picker.click()
    picker.send_keys("Sensus")
    picker.send_keys(Keys.ENTER)
    wait.until(lambda d: "Sensus BPM Online" in d.find_element(By.TAG_NAME, "h3").text)
    screenshot(driver, "browser_start.png")

    chat_box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]')))
    chat_box.send_keys("How long do you keep my data?")
    chat_box.send_keys(Keys.ENTER)

    answer = wait.until(EC.visibility_of_element_located(
        (By.CSS_SELECTOR, '[data-testid="stChatMessage"] .pp-answer:not(:empty)')))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".pp-cite"))
    text = driver.find_element(By.TAG_NAME, "body").text
    assert "7 years" in answer.text  # the typed answer states the policy's periods
    assert "year" in text
    quotes = driver.find_elements(By.CSS_SELECTOR, ".pp-quote")
    assert quotes and any("bewaard" in q.text or "bewaren" in q.text for q in quotes)
    assert driver.find_elements(By.CSS_SELECTOR, ".pp-n")  # numbered

    # open the first source in its paragraph: the quoted span is highlighted
    expander = next(e for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stExpander"] summary')
                    if "passage" in e.text)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", expander)
    expander.click()
    mark = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".pp-context mark")))
    assert mark.text.strip()
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    path = screenshot(driver, "browser_chat.png")
    assert path.stat().st_size > 10_000
