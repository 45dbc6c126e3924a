"""Long pasted texts keep their question (issue 15): rag.pick_question in the four languages, the
notice in the API and the CLI, and the UI's notice before asking, with Cancel."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import rag
from conftest import ROOT
from test_app import ask as ui_ask  # noqa: E402
from test_app import select, start, ui_env, ui_store  # noqa: E402,F401
from rag.long_question import pick_question

PASTE = ("Wij bewaren uw persoonsgegevens niet langer dan noodzakelijk. " * 60)


@pytest.mark.parametrize("question", [
    "How long do you keep my data?",
    "Hoe lang bewaren jullie mijn gegevens",          # no question mark: a question word opens it
    "Combien de temps conservez-vous mes données ?",
    "Verkaufen Sie meine Daten",                       # a yes/no opener
    "Kan ik mijn gegevens laten verwijderen",
])
def test_the_question_after_a_long_paste_is_kept(question):
    for tail in ("", "\n\nThanks, Jan"):
        picked = pick_question(PASTE + "\n\n" + question + tail, 2000)
        assert picked.shortened and picked.found and picked.question == question
        assert picked.original_chars > 2000


def test_the_last_asking_sentence_wins_and_short_text_is_untouched():
    text = "What is this? " + PASTE + " Do you sell my data? Regards."
    assert pick_question(text, 2000).question == "Do you sell my data?"
    short = pick_question("  How long   do you keep\nmy data? ", 2000)
    assert not short.shortened and short.question == "How long do you keep my data?"


def test_text_without_a_question_keeps_its_end_within_the_limit():
    picked = pick_question(PASTE * 3 + " Tell me about retention.", 2000)
    assert picked.shortened and not picked.found and len(picked.question) <= 2000
    assert picked.question.endswith("Tell me about retention.")


def test_a_question_longer_than_the_limit_is_cut_to_its_end():
    question = "Why " + "really " * 500 + "do you keep my data?"
    picked = pick_question(PASTE + question, 2000)
    assert picked.found and len(picked.question) <= 2000 and picked.question.endswith("do you keep my data?")


def test_the_api_answers_the_question_and_says_which(sample_store):
    answer = rag.ask("sensus", PASTE + "\nHow long do you keep my data?", settings=sample_store, backend="extractive")
    assert answer.question == "How long do you keep my data?" and answer.status == "answered"
    assert answer.notice and "How long do you keep my data?" in answer.notice and "2000" in answer.notice
    dutch = rag.ask("sensus", PASTE + "\nHoe lang bewaren jullie mijn gegevens?", settings=sample_store,
                    backend="extractive")
    assert dutch.language == "nl" and "ingekort tot de vraag" in dutch.notice


def test_the_cli_prints_the_notice(sample_store):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".cache"), "PYTHONPATH": str(ROOT), "ANONYMIZED_TELEMETRY": "False"}
    args = [sys.executable, "-m", "rag", "ask", "--store", str(sample_store.store_dir), "--company", "sensus",
            "--backend", "extractive", "--json", PASTE + " Do you sell my data?"]
    result = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["question"] == "Do you sell my data?" and "Do you sell my data?" in out["notice"]


def test_the_ui_can_cancel_a_long_text(ui_env):
    at = start()
    select(at, "company__widget", "Sensus BPM Online")
    ui_ask(at, PASTE + " Verkopen jullie mijn gegevens?")
    assert len(at.warning) == 1 and "Verkopen jullie mijn gegevens" in at.warning[0].value
    assert not at.session_state.chats["sensus"]
    at.button(key="long_text_cancel").click().run()
    assert not at.warning and not at.session_state.chats["sensus"] and not at.exception
