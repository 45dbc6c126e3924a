"""The app's issue-14 parts under AppTest: deep links (?company&q&lang), the link under every answer,
request letters with downloads, and the "What changed" view after an upload of a new version."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from test_app import APP, TIMEOUT, ask, page_html, select, ui_env, ui_store  # noqa: E402,F401
from test_versions import ADDED, NEW_PERIOD, edit_policy  # noqa: E402


def start_with(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def link_of(at: AppTest) -> dict:
    codes = [c.value for c in at.code if "company=" in c.value]
    assert codes, "no link under the answer"
    return {k: v[0] for k, v in parse_qs(urlsplit(codes[-1]).query).items()}


def test_deep_link_opens_company_language_and_answers(ui_env):
    at = start_with(company="zensor", q="Hoe lang bewaren jullie mijn gegevens?", lang="nl")
    assert at.session_state.company == "zensor" and at.session_state.ui_lang == "nl"
    assert len(at.chat_message) == 2  # the question and its answer
    assert "pp-answer" in page_html(at) or at.info
    assert any("privacybeleid" in c.value for c in at.caption)  # Dutch interface
    assert link_of(at) == {"company": "zensor", "q": "Hoe lang bewaren jullie mijn gegevens?", "lang": "nl"}
    at.run()  # a rerun does not ask the linked question again
    assert len(at.chat_message) == 2


def test_link_under_an_answer_asks_it_again(ui_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    select(at, "company__widget", "Sensus BPM Online")
    ask(at, "How long do you keep my data? & more")
    params = link_of(at)
    assert params == {"company": "sensus", "q": "How long do you keep my data? & more", "lang": "en"}
    again = start_with(**params)
    assert again.session_state.company == "sensus" and len(again.chat_message) == 2
    assert again.session_state.chats["sensus"][0]["answer"].answer == at.session_state.chats["sensus"][0]["answer"].answer


@pytest.mark.parametrize("params,notice", [
    ({"company": "nope", "q": "Do you sell my data?", "lang": "en"}, "not indexed here"),
    ({"company": "../../etc/passwd", "q": "x"}, "not indexed here"),
    ({"company": "zensor", "q": "   ", "lang": "xx"}, "not available"),
    ({"q": "", "lang": ""}, None),
])
def test_bad_deep_links_fall_back_quietly(ui_env, params, notice):
    at = start_with(**params)
    assert not at.error and not at.exception
    assert len(at.chat_message) == 0  # nothing asked
    assert at.session_state.ui_lang == "en"
    if notice:
        assert any(notice in i.value for i in at.info), [i.value for i in at.info]
    if params.get("company") == "zensor":
        assert at.session_state.company == "zensor"


def test_request_letter_under_a_rights_answer(ui_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    select(at, "company__widget", "Sensus BPM Online")
    ask(at, "How can I have my data deleted?")
    ask_button = [b for b in at.button if b.key and b.key.startswith("letter_open_")]
    assert len(ask_button) == 1 and ask_button[0].label == "Write a request letter"
    ask_button[0].click().run()
    assert not at.exception and not at.error
    downloads = at.get("download_button")
    assert [d.label for d in downloads] == ["Download as .txt", "Download as .md"]
    letter = [m.value for m in at.markdown if "pp-quote" in m.value and "GDPR" in m.value]
    assert letter and "Article 17" in letter[-1]
    # Sensus names no contact address: the letter says so and leaves a placeholder
    assert "address of the data controller" in letter[-1]
    assert any("names no contact address" in c.value for c in at.caption)
    at.selectbox(key=[s.key for s in at.selectbox if s.key and s.key.startswith("letter_right_")][0]).set_value("objection").run()
    letter = [m.value for m in at.markdown if "pp-quote" in m.value and "GDPR" in m.value]
    assert "Article 21" in letter[-1] and not at.exception
    # a question that is not about one's rights gets no letter button
    ask(at, "Do you use cookies?")
    assert not [b for b in at.button if b.key and b.key.startswith("letter_open_")]
    assert len(at.get("download_button")) == 2  # the first answer's letter stays open


def test_upload_of_a_new_version_shows_what_changed(ui_env):
    policies, _ = ui_env
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    # An upload is the uploader's own company (never a change to the shared one): uploading the
    # same file again with new text makes a second version of that company.
    original = (policies / "sensus.txt").read_text(encoding="utf-8")
    at.file_uploader[0].set_value(("sensus.txt", original.encode("utf-8"), "text/plain")).run()
    at.button(key="upload_button").click().run()
    assert not at.exception
    own = at.session_state.company
    assert own != "sensus" and own.endswith("-sensus"), own
    assert not [e for e in at.expander if "What changed" in e.label]  # one version: nothing to compare
    edited = edit_policy(original)
    at.file_uploader[0].set_value(("sensus.txt", edited.encode("utf-8"), "text/plain")).run()
    at.button(key="upload_button").click().run()
    assert not at.exception
    assert at.session_state.company == own
    changed = [e for e in at.expander if "What changed" in e.label]
    assert changed and "2 versions" in changed[0].label
    text = page_html(at)
    assert 'class="pp-old"' in text and 'class="pp-new"' in text
    assert "<del>zeven</del>" in text and "<ins>tien</ins>" in text  # the changed words, marked
    assert NEW_PERIOD.split()[1] in text and ADDED.split()[0] in text
    assert any("went from 7 years to 10 years" in m.value for m in at.markdown)
    select(at, "ui_lang__widget", "Deutsch")
    assert any("Was sich in dieser" in e.label for e in at.expander)
    assert any("vorher 7 Jahre" in m.value and "jetzt 10 Jahre" in m.value for m in at.markdown)


def test_every_interface_language_has_every_label():
    """One language per screen: a label missing in one language would fall back to another there."""
    import json
    from pathlib import Path

    prompts = Path(__file__).resolve().parent.parent / "prompts"
    for name in ("ui.json", "phrases.json"):
        table = json.loads((prompts / name).read_text(encoding="utf-8"))
        languages = [lang for lang in ("en", "nl", "fr", "de") if lang in table]
        assert languages == ["en", "nl", "fr", "de"], (name, languages)
        keys = set().union(*(table[lang] for lang in languages))
        for lang in languages:
            assert keys <= set(table[lang]), (name, lang, sorted(keys - set(table[lang])))
