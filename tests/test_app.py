"""The Streamlit UI (app.py) driven by streamlit.testing.v1.AppTest against a small test store.

The store holds three of the sample policies, embedded with the fast embedder only, and answers
come from the extractive backend: these tests are about the UI, not about answer quality.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TEST_POLICIES = ("sensus", "zensor", "selligent")
TIMEOUT = 120


def build_ui_store(base: Path) -> tuple[Path, Path]:
    """A small store (3 policies, USE embedder) in `base`; reused when it already exists there."""
    policies, store = base / "policies", base / "store"
    if (store / ".ready").exists():
        return policies, store
    shutil.rmtree(base, ignore_errors=True)
    policies.mkdir(parents=True)
    meta = json.loads((ROOT / "policies" / "policies.json").read_text(encoding="utf-8"))
    for name in TEST_POLICIES:
        shutil.copy(ROOT / "policies" / f"{name}.txt", policies / f"{name}.txt")
    (policies / "policies.json").write_text(json.dumps({k: meta[k] for k in TEST_POLICIES}), encoding="utf-8")
    from index import build_index, get_settings

    old = {k: os.environ.get(k) for k in ("PLAINPOLICY_STORE", "PLAINPOLICY_POLICIES", "PLAINPOLICY_EMBEDDER")}
    os.environ.update(PLAINPOLICY_STORE=str(store), PLAINPOLICY_POLICIES=str(policies), PLAINPOLICY_EMBEDDER="use")
    try:
        build_index(get_settings(), progress=False, warn=lambda line: None)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    (store / ".ready").write_text("ok")
    return policies, store


@pytest.fixture(scope="session")
def ui_store(tmp_path_factory) -> tuple[Path, Path]:
    return build_ui_store(tmp_path_factory.getbasetemp() / "ui-store")


@pytest.fixture
def ui_env(ui_store, monkeypatch, tmp_path):
    """Each test gets its own copy of the policy folder and store, so uploads do not leak."""
    policies, store = tmp_path / "policies", tmp_path / "store"
    shutil.copytree(ui_store[0], policies)
    shutil.copytree(ui_store[1], store)
    monkeypatch.setenv("PLAINPOLICY_STORE", str(store))
    monkeypatch.setenv("PLAINPOLICY_POLICIES", str(policies))
    monkeypatch.setenv("PLAINPOLICY_EMBEDDER", "use")
    monkeypatch.setenv("PLAINPOLICY_BACKEND", "extractive")
    monkeypatch.delenv("PLAINPOLICY_CHROMA_URL", raising=False)
    return policies, store


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def page_html(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def select(at: AppTest, key: str, value) -> None:
    """Pick by display label, as a user does."""
    widget = getattr(at, "selectbox" if key == "company__widget" else "radio")(key=key)
    widget.set_value(value).run()
    assert not at.exception


def ask(at: AppTest, question: str) -> None:
    at.chat_input(key="chat_box").set_value(question).run()
    assert not at.exception


def test_ask_shows_answer_with_numbered_highlighted_sources(ui_env):
    at = start()
    select(at, "company__widget", "Sensus BPM Online")
    ask(at, "How long do you keep my data?")
    assert len(at.chat_message) == 2
    text = page_html(at)
    assert "pp-answer" in text and "7 years" in text  # the typed answer states the periods
    assert 'class="pp-n">1<' in text  # numbered quote
    assert "Bewaartermijn" in text  # its section title
    assert len(at.expander) >= 2  # "show in the policy" + the upload panel
    contexts = [m.value for m in at.markdown if m.value.startswith("<div class=\"pp-context")]
    assert contexts and all("<mark>" in c for c in contexts)
    # English question over a Dutch policy: the quote's language is pointed out
    assert any("Dutch" in c.value and "English" in c.value for c in at.caption)
    assert not at.error


def test_example_question_and_interface_language_follows_each_question(ui_env):
    at = start()
    assert at.session_state.ui_lang == "en"
    at.button(key="example_0").click().run()
    assert not at.exception
    assert len(at.chat_message) == 2
    at = start()
    select(at, "company__widget", "Sensus BPM Online")
    ask(at, "Hoe lang bewaren jullie mijn persoonsgegevens?")
    assert at.session_state.ui_lang == "nl"
    assert any("privacybeleid" in c.value for c in at.caption)  # the tagline switched to Dutch
    assert at.radio(key="ui_lang__widget").value == "Nederlands"
    # until the user picks one, the interface follows each question's language (one per screen)
    ask(at, "Wie lange speichern Sie meine Daten?")
    assert at.session_state.ui_lang == "de"
    assert at.radio(key="ui_lang__widget").value == "Deutsch"
    # an explicit choice wins over the question's language afterwards
    select(at, "ui_lang__widget", "Français")
    ask(at, "How long do you keep my data?")
    assert at.session_state.ui_lang == "fr"


def test_switch_company_keeps_one_history_per_company(ui_env):
    at = start()
    select(at, "company__widget", "Sensus BPM Online")
    ask(at, "Who can I contact about my privacy?")
    assert len(at.chat_message) == 2
    select(at, "company__widget", "Zensor NV")
    assert len(at.chat_message) == 0
    assert at.button(key="example_0")  # an empty chat offers examples
    ask(at, "Do you sell my data?")
    assert len(at.chat_message) == 2
    select(at, "company__widget", "Sensus BPM Online")
    assert len(at.chat_message) == 2
    assert "contact" in at.chat_message[0].markdown[0].value


def test_not_found_is_shown_as_such(ui_env, monkeypatch):
    import rag
    from rag.schema import Answer

    def silent(company, question, *args, **kwargs):
        answer = Answer(company=company, question=question, language="en", status="not_found",
                        answer="The privacy policy of Zensor NV does not say anything about this.")
        yield answer.answer
        yield answer

    at = start()
    select(at, "company__widget", "Zensor NV")
    monkeypatch.setattr(rag, "stream_ask", silent)
    ask(at, "Do you have a loyalty programme with airline miles?")
    assert any("does not say anything" in i.value for i in at.info), [i.value for i in at.info]
    assert "class=\"pp-answer\"" not in page_html(at)  # not an (empty) answer: the box says it


def test_bad_upload_says_why_and_changes_nothing(ui_env):
    policies, _ = ui_env
    before = sorted(p.name for p in policies.iterdir())
    at = start()
    companies = set(at.session_state.companies)
    at.file_uploader[0].set_value(("broken.pdf", b"this is not a pdf at all", "application/pdf")).run()
    at.button(key="upload_button").click().run()
    assert not at.exception
    assert any("could not be added" in e.value and "Nothing was changed" in e.value for e in at.error)
    assert sorted(p.name for p in policies.iterdir()) == before
    at.run()
    assert set(at.session_state.companies) == companies


def test_upload_adds_a_selectable_policy_and_quotes_are_escaped(ui_env):
    hostile = (
        "Privacy policy of Acme\n\nRetention\n\n"
        "We keep your personal data for 3 years after your last order <img src=x onerror=alert(1)> "
        "![tracker](http://evil.example/pixel.png) [click](javascript:alert(1)) $x^2$.\n\n"
        "Contact\n\nWrite to privacy@acme.example for questions about your personal data.\n"
    )
    at = start()
    at.file_uploader[0].set_value(("acme.txt", hostile.encode(), "text/plain")).run()
    at.button(key="upload_button").click().run()
    assert not at.exception
    acme = [c for c in at.session_state.companies if c.endswith("-acme")]  # this session's upload
    assert len(acme) == 1 and at.session_state.company == acme[0]  # selected right away
    assert at.session_state.companies[acme[0]]["name"] == "Privacy policy of Acme"  # its own title
    assert any("was added" in s.value and "Privacy policy of Acme" in s.value for s in at.success)
    ask(at, "How long do you keep my data?")
    text = page_html(at)
    assert "3 years" in text
    for raw in ("<img", "](http", "](javascript", "onerror=alert", "$x"):
        assert raw not in text


def test_compare_side_by_side(ui_env):
    at = start()
    select(at, "mode__widget", "Compare companies")
    at.multiselect(key="compare_companies__widget").set_value(["Sensus BPM Online", "Zensor NV"]).run()
    at.text_input(key="compare_question").input("How long do you keep my data?")
    next(b for b in at.button if b.label == "Compare").click().run()
    assert not at.exception
    results = at.session_state.compare["results"]
    assert set(results) == {"sensus", "zensor"}
    assert all(r["answer"] is not None for r in results.values())
    assert len(at.columns) >= 2
    text = page_html(at)
    assert text.count('class="pp-cite"') >= 2


def test_errors_are_one_line_not_tracebacks(ui_env, monkeypatch):
    import rag

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nTraceback (most recent call last): secret internals")
        yield  # pragma: no cover

    at = start()
    monkeypatch.setattr(rag, "stream_ask", broken)
    ask(at, "How long do you keep my data?")
    assert not at.exception
    assert any("Something went wrong" in e.value for e in at.error)
    assert "secret internals" not in page_html(at)


def test_missing_store_explains_what_to_do(ui_env, monkeypatch, tmp_path):
    monkeypatch.setenv("PLAINPOLICY_STORE", str(tmp_path / "nothing-here"))
    at = start()
    assert any("index build" in i.value for i in at.info)
    assert not at.error
