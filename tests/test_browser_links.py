"""A deep link in a real browser (the harness of tests/test_browser.py: `streamlit run` + headless
Chromium): `?company=sensus&q=Wie lange speichern Sie meine Daten?&lang=de` must open the chat on
Sensus with a German interface and answer that question; the answer's own link must be that page's
address. Screenshot: tests/artifacts/browser_deeplink_de.png."""
from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from test_browser import browser_store, driver, screenshot, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

QUESTION = "Wie lange speichern Sie meine Daten?"


def test_german_deep_link_answers_in_a_real_browser(server, driver):  # noqa: F811
    wait = WebDriverWait(driver, 60)
    driver.get(f"{server}/?company=sensus&q={quote(QUESTION)}&lang=de")
    answer = wait.until(EC.visibility_of_element_located(
        (By.CSS_SELECTOR, '[data-testid="stChatMessage"] .pp-answer:not(:empty)')))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".pp-cite"))
    body = driver.find_element(By.TAG_NAME, "body").text
    # the question was asked, about Sensus, and answered in German with the policy's periods
    assert QUESTION in body
    assert "Sensus BPM Online" in driver.find_element(By.TAG_NAME, "h3").text
    assert "Erklärung nennt diese Fristen" in answer.text and "7 Jahre" in answer.text
    assert "Jahr" in body  # "1 Jahr", "5 Jahre": the retention periods, in German
    quotes = driver.find_elements(By.CSS_SELECTOR, ".pp-quote")
    assert quotes and any("bewaard" in q.text for q in quotes)
    # the interface is German
    for label in ("Stellen Sie der Datenschutzerklärung", "Wo dies in der Datenschutzerklärung steht",
                  "Sprache", "Unternehmen", "Link zu dieser Antwort kopieren"):
        assert label in body, label
    assert "Where this comes from" not in body and "Language" not in body
    # the answer's own link: this page, this company, this question, this language
    summary = next(e for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stExpander"] summary')
                   if "Link zu dieser Antwort" in e.text)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", summary)
    summary.click()
    code = wait.until(lambda d: next((c for c in d.find_elements(By.CSS_SELECTOR, '[data-testid="stCode"] code')
                                      if "company=" in c.text), None))
    link = urlsplit(code.text.strip())
    assert f"{link.scheme}://{link.netloc}" == server
    assert {k: v[0] for k, v in parse_qs(link.query).items()} == {"company": "sensus", "q": QUESTION, "lang": "de"}
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    path = screenshot(driver, "browser_deeplink_de.png")
    assert path.stat().st_size > 10_000


def test_bad_deep_link_falls_back_without_a_traceback(server, driver):  # noqa: F811
    wait = WebDriverWait(driver, 60)
    driver.get(f"{server}/?company=nope&q=&lang=xx")
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]')))
    wait.until(lambda d: "not indexed here" in d.find_element(By.TAG_NAME, "body").text)
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stChatMessage"]')
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    assert "Traceback" not in driver.find_element(By.TAG_NAME, "body").text
