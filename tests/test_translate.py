"""Verified quote translations (rag/translate.py): each check rejects what it is for and passes a good
translation; citations get translations from a fake chat model (a small class that answers from a
table, like simonw/llm's fake model); the cache; the label in the chat. The real embedders and the
real language identifier are used throughout; the real local model only in the slow test."""
from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from rag.schema import Answer, Citation
from rag.translate import (
    TranslationCache,
    calibration,
    clean_translation,
    similarity,
    translate_citations,
    translation_problems,
)

RETENTION_NL = "Wij bewaren uw factuurgegevens 7 jaar na het einde van de overeenkomst."
RETENTION_EN = "We keep your invoice data for 7 years after the end of the agreement."
SELLING_NL = "Wij verkopen uw persoonsgegevens nooit aan derden."
SELLING_EN = "We never sell your personal data to third parties."
CONTACT_NL = "U kunt uw verzoek sturen naar privacy@voorbeeld.be."
CONTACT_EN = "You can send your request to privacy@voorbeeld.be."


class FakeTranslator(BaseChatModel):
    """A chat model that answers a translation request from a table (sentence -> reply) and records
    the sentences it was asked; an unknown sentence gets an empty reply."""

    replies: dict[str, str]
    asked: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "fake-translator"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None,
                  **kwargs: Any) -> ChatResult:
        sentence = messages[-1].content.rsplit("\n\n", 1)[-1].strip()  # the prompt ends with the sentence
        self.asked.append(sentence)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.replies.get(sentence, "")))])


def cite(n: int, text: str, language: str = "nl") -> Citation:
    return Citation(n=n, text=text, source="policies/x.txt", start=0, end=len(text), section="", score=1.0,
                    language=language, company="x")


# -- each check ------------------------------------------------------------------------------------

def test_good_translations_pass():
    assert translation_problems(RETENTION_NL, RETENTION_EN, "nl", "en") == []
    assert translation_problems(SELLING_NL, SELLING_EN, "nl", "en") == []
    assert translation_problems(CONTACT_NL, CONTACT_EN, "nl", "en") == []
    assert translation_problems(SELLING_EN, "Nous ne vendons jamais vos données personnelles à des tiers.",
                                "en", "fr") == []


def test_a_period_written_as_an_adjective_is_kept():
    problems = translation_problems("Ik hanteer een bewaartermijn van twee jaar na afloop van de coaching.",
                                    "I apply a two-year retention period after the end of the coaching.", "nl", "en")
    assert not [p for p in problems if p.startswith(("dropped", "added"))], problems


@pytest.mark.parametrize("translation", [
    "We keep your invoice data after the end of the agreement.",  # the period dropped
    "We keep your invoice data for 5 years after the end of the agreement.",  # another number
    "We keep your invoice data for 7 months after the end of the agreement.",  # another unit
])
def test_a_changed_or_dropped_number_is_rejected(translation):
    problems = translation_problems(RETENTION_NL, translation, "nl", "en")
    assert any("7" in p or "duration" in p for p in problems), problems


def test_a_dropped_or_changed_address_is_rejected():
    assert translation_problems(CONTACT_NL, "You can send your request to our privacy team.", "nl", "en")
    assert translation_problems(CONTACT_NL, "You can send your request to privacy@example.be.", "nl", "en")


@pytest.mark.parametrize("source,translation", [
    (SELLING_NL, "We sell your personal data to third parties."),  # negation lost
    ("Wij delen uw gegevens met onze partners.", "We do not share your data with our partners."),  # negation added
])
def test_a_flipped_negation_is_rejected(source, translation):
    problems = translation_problems(source, translation, "nl", "en")
    assert any("negation" in p for p in problems), problems


def test_a_negation_that_limits_a_period_must_be_carried_over():
    source = "Wij bewaren uw gegevens niet langer dan 2 jaar."
    assert not [p for p in translation_problems(source, "We do not keep your data longer than 2 years.", "nl", "en")
                if "negation" in p]
    problems = translation_problems(source, "We keep your data longer than 2 years.", "nl", "en")
    assert any("negation" in p for p in problems), problems
    assert not [p for p in translation_problems("Verordening (EU) nr. 2016/679 is van toepassing.",
                                                "Regulation (EU) No. 2016/679 applies.", "nl", "en") if "negation" in p]


def test_the_wrong_language_is_rejected():
    problems = translation_problems(SELLING_NL, SELLING_NL, "nl", "en")  # copied, not translated
    assert any("reads as nl" in p for p in problems), problems
    problems = translation_problems(SELLING_NL, "Nous ne vendons jamais vos données personnelles à des tiers.", "nl", "en")
    assert any("reads as fr" in p for p in problems), problems


def test_an_unrelated_translation_is_rejected_by_the_calibrated_similarity():
    unrelated = "You can reach our customer service by phone on weekdays."
    problems = translation_problems(RETENTION_NL.replace("7 jaar", "lang"), unrelated, "nl", "en")
    assert any("similarity" in p for p in problems), problems
    cal = calibration()
    good = similarity(RETENTION_NL, RETENTION_EN, cal["embedders"])
    assert good >= cal["threshold"] > similarity(RETENTION_NL, unrelated, cal["embedders"])


def test_model_chatter_is_cleaned_off():
    assert clean_translation('Translation: "We never sell your data."\n\nNote: literal.') == "We never sell your data."
    assert clean_translation("« Nous ne vendons pas vos données ».") == "Nous ne vendons pas vos données."
    assert clean_translation("  \n") == ""


# -- citations, cache ------------------------------------------------------------------------------

def test_top_three_foreign_quotes_get_checked_translations_and_are_cached(tmp_path):
    fourth = "Wij gebruiken cookies om de website te verbeteren."
    model = FakeTranslator(replies={RETENTION_NL: RETENTION_EN, SELLING_NL: "We sell your personal data to third parties.",
                                    CONTACT_NL: CONTACT_EN, fourth: "We use cookies to improve the website."})
    citations = [cite(1, RETENTION_NL), cite(2, SELLING_NL), cite(3, "We answer within 30 days.", "en"),
                 cite(4, CONTACT_NL), cite(5, fourth)]
    cache = TranslationCache(tmp_path / "translations")
    out = translate_citations(model, citations, "en", cache)
    assert [c.translation for c in out] == [RETENTION_EN, None, None, None, None]  # 2: negation lost; 3: English
    assert [c.text for c in out] == [c.text for c in citations]  # the quotes themselves never change
    assert model.asked == [RETENTION_NL, SELLING_NL]  # the top 3 only, the English one not at all
    assert len(list((tmp_path / "translations").rglob("*.json"))) == 2
    again = translate_citations(model, citations, "en", cache)
    assert [c.translation for c in again] == [c.translation for c in out]
    assert len(model.asked) == 2 and cache.hits == 2  # a repeated question translates nothing again
    assert json.loads(json.dumps(out[0].to_json()))["translation"] == RETENTION_EN  # in the JSON contract


def test_a_failing_model_leaves_the_quotes_untranslated(tmp_path):
    class Broken(FakeTranslator):
        def _generate(self, *args, **kwargs):
            raise ConnectionError("server down")

    out = translate_citations(Broken(replies={}), [cite(1, RETENTION_NL), cite(2, SELLING_NL)], "en",
                              TranslationCache(tmp_path))
    assert [c.translation for c in out] == [None, None]


def test_cached_translations_are_checked_again(tmp_path):
    """The cache holds what the model said, not the verdict: a wrong cached translation stays hidden."""
    cache = TranslationCache(tmp_path)
    model = FakeTranslator(replies={SELLING_NL: "We sell your personal data to third parties."})
    assert translate_citations(model, [cite(1, SELLING_NL)], "en", cache)[0].translation is None
    assert translate_citations(model, [cite(1, SELLING_NL)], "en", cache)[0].translation is None
    assert len(model.asked) == 1


# -- the chat --------------------------------------------------------------------------------------

def _show_translated_answer():
    import streamlit as st

    from rag.schema import Answer, Citation
    from ui.answer_view import render_answer

    st.session_state.setdefault("ui_lang", st.query_params.get("lang", "en"))
    quote = "Wij bewaren uw factuurgegevens 7 jaar."
    render_answer(Answer(company="x", question="How long?", language="en", status="answered",
                         answer="7 years [1].", backend="local",
                         citations=[Citation(n=1, text=quote, source="x.txt", start=0, end=len(quote), section="",
                                             score=1.0, language="nl", company="x",
                                             translation="We keep your invoice data for 7 years.")]))


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_chat_shows_the_translation_labelled_under_the_quote(lang):
    from streamlit.testing.v1 import AppTest

    from index.settings import PROJECT_DIR
    from ui.common import safe

    label = json.loads((PROJECT_DIR / "prompts" / "ui.json").read_text(encoding="utf-8"))[lang]["machine_translation"]

    at = AppTest.from_function(_show_translated_answer, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    page = "".join(m.value for m in at.markdown)
    label, translation, quote = (safe(s) for s in (label, "We keep your invoice data for 7 years.",
                                                   "Wij bewaren uw factuurgegevens 7 jaar."))
    assert label in page and translation in page
    assert page.index(quote) < page.index(label) < page.index(translation)  # the quote stays, above them


# -- the real local model --------------------------------------------------------------------------

@pytest.mark.slow
def test_the_local_model_translates_a_dutch_policy_sentence_that_passes_the_checks(tmp_path):
    from rag.factcheck import extract_facts
    from rag.llm import BackendUnavailable, load_chat_model

    try:
        model = load_chat_model("local")
    except BackendUnavailable as exc:
        pytest.skip(str(exc))
    sentence = "Na afloop van de coaching hanteer ik een bewaartermijn van twee jaar."
    out = translate_citations(model, [cite(1, sentence)], "en", TranslationCache(tmp_path))
    assert out[0].translation, "the local model's translation did not pass the checks (see the log)"
    assert (24, "month") in extract_facts(out[0].translation, "en").durations  # "two years", "a two-year period"
