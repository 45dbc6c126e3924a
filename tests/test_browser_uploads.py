"""Uploads in a real browser (issue 15): two Chromium sessions on one `streamlit run`; a policy
uploaded in one is listed there and absent from the other's company list."""
from __future__ import annotations

import os
import time

import pytest

from test_browser import ROOT, browser_store, ensure_browser, screenshot, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

POLICY = ("Privacyverklaring Bakkerij Jansen\n\nBewaartermijn\n\n"
          "Wij bewaren uw bestelgegevens twee jaar na uw laatste bestelling.\n\n"
          "Contact\n\nMail privacy@jansen.example voor vragen over uw persoonsgegevens.\n")


def new_driver(profile):
    chromium, chromedriver = ensure_browser()
    os.environ["SE_AVOID_STATS"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1400", "--lang=en-US", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    browser.set_page_load_timeout(60)
    return browser


def company_options(driver) -> list[str]:
    """The labels of the sidebar's company list (opened, read, closed)."""
    picker = driver.find_element(By.CSS_SELECTOR, '[data-testid="stSelectbox"] input')
    picker.click()
    options = WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[role="option"]'))
    labels = [o.text for o in options]
    picker.send_keys(Keys.ESCAPE)
    return labels


def test_an_upload_is_absent_from_another_browser_session(server, tmp_path):
    one, two = new_driver(tmp_path / "one"), new_driver(tmp_path / "two")
    try:
        for d in (one, two):
            d.get(server)
            WebDriverWait(d, 45).until(EC.element_to_be_clickable((By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]')))
        before = company_options(two)
        assert before and not any("Jansen" in label for label in before)

        policy = tmp_path / "jansen.txt"
        policy.write_text(POLICY, encoding="utf-8")
        upload_panel = next(e for e in one.find_elements(By.CSS_SELECTOR, '[data-testid="stExpander"] summary')
                            if "policy" in e.text.lower())
        upload_panel.click()
        one.find_element(By.CSS_SELECTOR, 'input[type="file"]').send_keys(str(policy))
        add = WebDriverWait(one, 30).until(lambda d: next(
            (b for b in d.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebar"] button') if b.text.strip() == "Add this policy"),
            None))
        add.click()
        WebDriverWait(one, 120).until(lambda d: "Privacyverklaring Bakkerij Jansen" in
                                      d.find_element(By.TAG_NAME, "h3").text)
        assert any("Jansen" in label for label in company_options(one))
        screenshot(one, "browser_upload_owner.png")

        two.refresh()  # a fresh run of the other session, after the index changed
        WebDriverWait(two, 45).until(EC.element_to_be_clickable((By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]')))
        time.sleep(1)
        after = company_options(two)
        assert after == before, after
        assert "Jansen" not in two.find_element(By.TAG_NAME, "h3").text
        screenshot(two, "browser_upload_other.png")
    finally:
        one.quit()
        two.quit()
