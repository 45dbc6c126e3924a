"""Uploads belong to the browser session that made them (issue 15), through AppTest sessions: another
session does not list them, a new session never opens on one, PLAINPOLICY_SHARED_UPLOADS=1 shares
them, a file over PLAINPOLICY_MAX_UPLOAD_MB is refused with a clear message, the display name is
the policy's own title."""
from __future__ import annotations

import rag
from index.settings import get_settings
from test_app import start, ui_env, ui_store  # noqa: F401

POLICY = ("Privacyverklaring Bakkerij Jansen\n\nBewaartermijn\n\n"
          "Wij bewaren uw bestelgegevens twee jaar na uw laatste bestelling.\n\n"
          "Contact\n\nMail privacy@jansen.example voor vragen over uw persoonsgegevens.\n")


def upload(at, name: str, data: bytes) -> None:
    at.file_uploader[0].set_value((name, data, "text/plain")).run()
    at.button(key="upload_button").click().run()
    assert not at.exception


def test_an_upload_is_seen_by_its_session_only(ui_env):
    policies, _ = ui_env
    mine, other = start(), start()
    samples = set(other.session_state.companies)
    upload(mine, "jansen.txt", POLICY.encode())
    added = set(mine.session_state.companies) - samples
    assert len(added) == 1
    company = added.pop()
    assert mine.session_state.company == company
    assert mine.session_state.companies[company]["name"] == "Privacyverklaring Bakkerij Jansen"
    assert (policies / "uploads").is_dir() and not (policies / "jansen.txt").exists()
    other.run()  # the other session reloads its list: the index now holds the upload, it does not list it
    assert company in rag.companies(get_settings())
    assert set(other.session_state.companies) == samples and other.session_state.company != company
    fresh = start()  # a new visitor: the samples, opened on a sample
    assert set(fresh.session_state.companies) == samples
    assert not fresh.session_state.companies[fresh.session_state.company].get("owner")
    # the uploader's own session can ask it
    mine.chat_input(key="chat_box").set_value("Hoe lang bewaren jullie mijn gegevens?").run()
    turn = mine.session_state.chats[company][-1]
    assert turn["answer"] is not None and "twee jaar" in " ".join(c.text for c in turn["answer"].citations)


def test_shared_uploads_are_listed_for_everyone(ui_env, monkeypatch):
    monkeypatch.setenv("PLAINPOLICY_SHARED_UPLOADS", "1")
    mine, other = start(), start()
    upload(mine, "jansen.txt", POLICY.encode())
    other.run()
    assert "jansen" in other.session_state.companies and "jansen" in mine.session_state.companies


def test_an_upload_over_the_size_limit_is_refused_with_a_clear_message(ui_env, monkeypatch):
    policies, _ = ui_env
    monkeypatch.setenv("PLAINPOLICY_MAX_UPLOAD_MB", "0.01")  # 10 KB
    at = start()
    before = set(at.session_state.companies)
    at.file_uploader[0].set_value(("big.txt", (POLICY * 200).encode(), "text/plain")).run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "big" in errors[0] and "0.04 MB" in errors[0] and "0.01 MB" in errors[0], errors
    assert not [b for b in at.button if b.key == "upload_button"]  # nothing to click
    assert set(at.session_state.companies) == before and not (policies / "uploads").exists()


def test_add_policy_refuses_a_file_over_the_limit_before_writing(ui_env, monkeypatch):
    import pytest

    from index import UnreadablePolicy, add_policy

    policies, _ = ui_env
    monkeypatch.setenv("PLAINPOLICY_MAX_UPLOAD_MB", "0.01")
    with pytest.raises(UnreadablePolicy, match="the limit is 0.01 MB"):
        add_policy((POLICY * 200).encode(), "big.txt", get_settings(), owner="ab" * 8)
    assert not (policies / "uploads").exists()
