"""Typed direct answers (rag/typed.py) and the streaming contract that never takes text back
(rag/generate.py), the latter with LangChain's fake streaming chat model (no model, no patching)."""
from __future__ import annotations

import re

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

import rag
from rag.facts import durations
from rag.generate import stream_answer
from rag.schema import Answer, Citation
from rag.typed import names_in, question_type, typed_facts, vocab_hits

LANGUAGES = ("en", "nl", "fr", "de")
RETENTION = {"en": "How long do you keep my data?", "nl": "Hoe lang bewaart u mijn gegevens?",
             "fr": "Combien de temps conservez-vous mes données ?", "de": "Wie lange speichern Sie meine Daten?"}
BOILERPLATE = ("says about your question", "zegt het privacybeleid", "ce que dit la politique", "sagt die Datenschutz")


def _items(answer: str) -> list[tuple[str, list[int]]]:
    """(fact text, its [n] numbers) of every item of a typed answer."""
    return [(m.group(1).strip(), [int(n) for n in re.findall(r"\d+", m.group(2))])
            for m in re.finditer(r"([^:;,.\]]+?)\s*((?:\[\d+\])+)", answer)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_retention_answer_lists_each_period_with_its_sentence(sample_store, language):
    answer = rag.ask("sensus", RETENTION[language], settings=sample_store, backend="extractive")
    assert answer.status == "answered" and answer.language == language
    assert not any(b in answer.answer for b in BOILERPLATE)
    by_n = {c.n: c for c in answer.citations}
    stated = {(d.number, d.unit) for c in answer.citations for d in durations(c.text)}
    assert {(1, "year"), (7, "year")} <= stated  # the policy's periods are among the quotes
    for number, unit in [(1, "year"), (7, "year")]:
        # each period is stated, and its [n] points at a sentence that holds it
        refs = [n for text, ns in _items(answer.answer) if re.search(rf"\b{number}\b", text) for n in ns]
        assert refs, (number, answer.answer)
        assert any((number, unit) in {(d.number, d.unit) for d in durations(by_n[n].text)} for n in refs)


def test_retention_names_what_a_period_applies_to_in_the_readers_language(sample_store):
    answer = rag.ask("sensus", RETENTION["en"], settings=sample_store, backend="extractive")
    # "debiteuren- en crediteurenadministratie ... zeven jaar (wettelijke bewaarplicht)"
    assert re.search(r"invoices and accounting records: 7 years \(legal obligation\) \[\d\]", answer.answer), answer.answer
    assert re.search(r"at most 1 year after the contract ends \[\d\]", answer.answer), answer.answer
    german = rag.ask("sensus", RETENTION["de"], settings=sample_store, backend="extractive")
    assert "Rechnungen und Buchhaltung: 7 Jahre (gesetzliche Pflicht)" in german.answer, german.answer


def test_every_vocabulary_fact_occurs_in_its_cited_sentence(sample_store):
    questions = [("sensus", "Welke rechten heb ik?"), ("sensus", "On what legal basis do you process my data?"),
                 ("sensus", "Do you transfer my data outside the EU?"), ("engcode", "Quels types de cookies utilisez-vous ?"),
                 ("selligent", "Will you share my data with the authorities?")]
    for company, question in questions:
        answer = rag.ask(company, question, settings=sample_store, backend="extractive")
        facts = typed_facts(question, answer.language, answer.citations, company_name=company)
        assert facts.text and answer.answer.startswith(facts.text.split(" [")[0][:20])
        kind_facts = {"rights": "rights", "legal_basis": "legal_bases", "transfers": "regions", "cookies": "cookie_kinds",
                      "sharing": "recipients"}
        group = kind_facts[facts.kind]
        by_n = {c.n: c for c in answer.citations}
        for _, refs in _items(facts.text):
            for n in refs:  # a cited sentence holds a term of the group (or an address or name it states)
                assert vocab_hits(group, by_n[n].text) or names_in(by_n[n].text, by_n[n].language) or \
                    vocab_hits("safeguards", by_n[n].text), (question, by_n[n].text)


def test_question_types_across_languages():
    assert {question_type(q) for q in RETENTION.values()} == {"periods"}
    assert question_type("Hoe snel krijg ik antwoord op mijn verzoek?") == "periods"  # a period, not rights
    assert question_type("Welche Daten werden bei der Registrierung gespeichert?") != "periods"  # a list
    assert question_type("Bei welcher Behörde kann ich mich beschweren?") == "complaint"
    assert question_type("Vendez-vous mes données ?") == "selling"
    assert question_type("Quelle est la base juridique du traitement ?") == "legal_basis"


def test_names_are_proper_names_not_capitalised_nouns():
    assert names_in("Verantwortlich ist die fortrabbit GmbH, Berlin.", "de") == ["fortrabbit GmbH"]
    assert names_in("Die Speicherdauer hängt vom jeweiligen Cookie ab.", "de") == []
    assert names_in("Hoewel DWH uw gegevens bewaart, klaagt u bij de Autoriteit Persoonsgegevens.", "nl") == \
        ["DWH", "Autoriteit Persoonsgegevens"]
    assert names_in("Wij gebruiken Google Analytics en reCAPTCHA.", "nl") == ["Google Analytics", "reCAPTCHA"]
    assert "URL" not in names_in("We collect the URL of the page.", "en")


def test_which_question_of_no_other_type_names_organisations_not_places():
    text = "Wij delen gegevens met Acme Hosting B.V. en bewaren ze in Liechtenstein of IJsland."
    assert "Liechtenstein of IJsland" in names_in(text, "nl")
    assert names_in(text, "nl", organisations_only=True) == ["Acme Hosting B.V"]


def test_european_servers_are_europe_not_the_eu():
    # "op Europese servers" says Europe; the EU/EEA would state more than the policy does
    europe = [_citation("Deze administratie wordt alleen op Europese servers opgeslagen.")]
    text = typed_facts("Where is my data stored?", "en", europe, kind="transfers").text
    assert "Europe [1]" in text and "EU" not in text
    eu = [_citation("Uw gegevens worden alleen binnen de EU verwerkt.")]
    assert "the EU/EEA [1]" in typed_facts("Where is my data stored?", "en", eu, kind="transfers").text


def test_no_fact_of_the_asked_kind_points_at_the_quotes_without_a_verdict(sample_store):
    answer = rag.ask("sensus", "Verkaufen Sie meine Daten?", settings=sample_store, backend="extractive")
    if answer.verdict is None:
        assert not answer.answer.startswith(("Ja", "Nein"))
        assert "Sätze" in answer.answer and re.search(r"\[\d\]", answer.answer)


# -- streaming never takes text back --------------------------------------------------------------
def _citation(text: str, n: int = 1) -> Citation:
    return Citation(n=n, text=text, source="policies/x.txt", start=0, end=len(text), section="", score=1.0,
                    language="en", company="x")


def _stream(model_text: str, lead: str = "", extractive: str = "EXTRACTIVE ANSWER [1].") -> tuple[list[str], Answer]:
    citations = [_citation("We keep invoices for seven years because the tax law requires it."),
                 _citation("Account data are deleted one year after the contract ends.", 2)]
    fallback = Answer(company="x", question="How long do you keep my data?", language="en", status="answered",
                      answer=lead or extractive, citations=citations, lead=lead)
    model = GenericFakeChatModel(messages=iter([AIMessage(content=model_text)] * 2))
    pieces, final = [], None
    for item in stream_answer(model, fallback.question, "en", citations, fallback, "local", company="x"):
        if isinstance(item, Answer):
            final = item
        else:
            pieces.append(item)
    return pieces, final


def test_a_later_failing_sentence_does_not_take_back_what_was_shown():
    good = "Invoices are kept for seven years because the tax law requires it [1]. "
    bad = "Account data are kept for 99 years [2]."  # a number the passages do not hold
    pieces, final = _stream(good + bad)
    assert "".join(pieces) == final.answer
    assert "99" not in final.answer and not final.notice


def test_a_model_answer_that_fails_shows_the_extractive_answer_without_a_reason():
    pieces, final = _stream("Your data are kept for 99 years [1].")
    assert "".join(pieces) == final.answer == "EXTRACTIVE ANSWER [1]."
    assert final.backend == "extractive-fallback" and not final.notice


def test_the_lead_stays_when_the_model_adds_nothing_usable():
    lead = "The policy names these periods: 7 years [1]; 1 year after the contract ends [2]."
    pieces, final = _stream("Data are kept for 99 years [1].", lead=lead)
    assert pieces[0] == lead and "".join(pieces) == final.answer == lead and not final.notice
