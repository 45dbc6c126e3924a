"""Answers on the dev questions: exact citations, abstention, cross-lingual retrieval, language."""
import pytest

import rag
from index.language import identify
from rag.facts import durations


def test_every_dev_citation_is_an_exact_span(sample_store, gold):
    for g in gold:
        answer = rag.ask(g["company"], g["question"], settings=sample_store, backend="extractive")
        source = rag.source_text(g["company"], settings=sample_store)
        for c in answer.citations:
            assert source[c.start:c.end] == c.text, (g["id"], c.n)


def test_unanswerable_question_gets_not_found(sample_store):
    answer = rag.ask("zensor", "Does Zensor have an office in France?", settings=sample_store, backend="extractive")
    assert answer.status == "not_found" and not answer.citations
    assert "does not say" in answer.answer


@pytest.mark.parametrize("question", ["What is the recipe for a chocolate cake with strawberries?",
                                      "Who won the football world cup in 2018?",
                                      "Quel temps fera-t-il demain à Bruxelles ?"])
def test_off_topic_questions_are_not_answered(sample_store, question):
    for company in ("sensus", "zensor"):
        assert rag.ask(company, question, settings=sample_store, backend="extractive").status == "not_found"


@pytest.mark.xfail(reason="known gap of the learned answerability (closing note of issue 11): Selligent "
                   "speaks of storing data safely, never of how long, and the model still answers", strict=False)
def test_policy_silent_on_retention_period(sample_store):
    answer = rag.ask("selligent", "How long do you keep my data?", settings=sample_store, backend="extractive")
    assert answer.status == "not_found"


@pytest.mark.parametrize("question,lang", [
    ("How long do you keep my data?", "en"),
    ("Combien de temps conservez-vous mes données ?", "fr"),
    ("Wie lange speichern Sie meine Daten?", "de"),
    ("Hoe lang bewaren jullie mijn gegevens?", "nl"),
])
def test_cross_lingual_retrieval_over_a_dutch_policy(sample_store, question, lang):
    answer = rag.ask("sensus", question, settings=sample_store, backend="extractive")
    assert answer.status == "answered" and answer.language == lang
    assert any(durations(c.text) for c in answer.citations), [c.text for c in answer.citations]
    assert identify(answer.answer)[0] == lang
    assert any(d.number in (1, 5, 7) for c in answer.citations for d in durations(c.text))


def test_every_retention_period_is_stated(sample_store):
    answer = rag.ask("sensus", "How long do you keep my data?", settings=sample_store, backend="extractive")
    for period in ("1 year", "5 years", "7 years"):
        assert period in answer.answer, answer.answer


VERDICT_OPENERS = {"yes": ("Yes", "Ja", "Oui"), "no": ("No", "Nee", "Nein", "Non"),
                   "conditional": ("Only", "Alleen", "Nur", "Seulement")}


def test_verdicts_come_only_with_a_cited_sentence(sample_store, gold):
    """Every answer's verdict is yes/no/conditional/None; the answer opens with it and cites the
    sentence it rests on, and without one it opens with no yes/no word at all."""
    questions = [(g["company"], g["question"]) for g in gold] + [
        ("engcode", "Do you sell my personal information?"), ("engcode", "Verkaufen Sie meine Daten?"),
        ("sensus", "Do you sell my data to other companies?"), ("sensus", "Do you use my data to train AI models?")]
    for company, question in questions:
        answer = rag.ask(company, question, settings=sample_store, backend="extractive")
        assert answer.verdict in (None, "yes", "no", "conditional")
        assert answer.to_json()["verdict"] == answer.verdict
        openers = tuple(w for ws in VERDICT_OPENERS.values() for w in ws)
        if answer.verdict is None:
            assert not answer.answer.startswith(openers), (question, answer.answer)
        else:
            assert answer.status == "answered" and answer.answer.startswith(VERDICT_OPENERS[answer.verdict])
            n = int(answer.answer.split("[", 1)[1].split("]", 1)[0])
            assert n in {c.n for c in answer.citations}


def test_a_yes_about_a_named_service_needs_the_name_in_the_cited_sentence():
    from rag.answer import verdict_citation
    from rag.schema import Citation

    about = Citation(1, "Wij gebruiken analytische cookies om het gebruik te meten.", "p.txt", 0, 10, "", 1.0)
    named = Citation(1, "Wij gebruiken Google Analytics om het gebruik te meten.", "p.txt", 0, 10, "", 1.0)
    assert verdict_citation("yes", "Do you use Google Analytics?", [about], "Engcode", "en") is None
    assert verdict_citation("yes", "Do you use Google Analytics?", [named], "Engcode", "en") is named


def test_facts_are_stated_with_markers(sample_store):
    answer = rag.ask("engcode", "How can I contact you about privacy?", settings=sample_store, backend="extractive")
    assert "info@engcode.be [" in answer.answer
    # Quotes stay in citations: the Dutch sentences are not pasted into the English answer.
    assert all(c.text not in answer.answer for c in answer.citations)


def test_the_lead_is_the_verified_direct_answer_only(sample_store):
    # what a generated answer opens with: the verdict and the facts asked for, never the boilerplate
    retention = rag.ask("sensus", "How long do you keep my data?", settings=sample_store, backend="extractive")
    assert retention.lead and retention.lead in retention.answer
    assert all(p in retention.lead for p in ("1 year", "5 years", "7 years"))
    assert "quoted sentences" not in retention.lead
    silent = rag.ask("zensor", "Does Zensor have an office in France?", settings=sample_store, backend="extractive")
    assert silent.lead == ""
    assert "lead" not in retention.to_json()  # internal: the JSON contract has verdict, not lead


def test_search_returns_passages_of_that_company_only(sample_store):
    passages = rag.search("intersentia", "cookies", settings=sample_store, k=5)
    assert len(passages) == 5 and {p.company for p in passages} == {"intersentia"}
    source = rag.source_text("intersentia", settings=sample_store)
    assert all(source[p.start:p.end] == p.text for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


@pytest.mark.parametrize("gold_file", ["dev.jsonl", "paraphrases.jsonl", "german.jsonl"])
def test_quality_floor_on_gold_questions(sample_store, gold_file):
    """Regression guard: the dev questions and 28 paraphrases of them in other languages and words
    (tests/data/paraphrases.jsonl) and the dev questions asked in German (tests/data/german.jsonl),
    written to probe wording and a language the dev set does not use."""
    from pathlib import Path

    from rag.evaluate import evaluate

    rows = evaluate(Path(__file__).parent / "data" / gold_file, sample_store, backend="extractive")["rows"]
    hits = [r["hit"] for r in rows if r["hit"] is not None]
    assert sum(hits) / len(hits) >= 0.85
    assert sum(r["status"] for r in rows) / len(rows) >= 0.9
    assert all(r["exact"] and r["language"] for r in rows)


def test_an_open_question_without_typed_facts_opens_with_the_best_quote(sample_store):
    """The best-ranked sentence itself, word for word, when it is in the reader's language: not the
    line that only points at the quotes."""
    answer = rag.ask("zensor", "How can I refuse cookies?", settings=sample_store, backend="extractive")
    assert answer.status == "answered" and answer.lead == answer.answer
    first = answer.citations[0]
    assert answer.answer.startswith("The policy of Zensor NV says: “")
    assert f"“{first.text.strip().rstrip('.;:')}” [1]." in answer.answer


@pytest.mark.parametrize("question", ["Comment puis-je refuser les cookies ?",  # a quote in another language
                                      "Do you use cookies?"])  # yes/no: a quote would read as a verdict
def test_no_quote_opens_a_yes_no_or_cross_language_answer(sample_store, question):
    answer = rag.ask("zensor", question, settings=sample_store, backend="extractive")
    assert answer.status == "answered"
    assert not any(mark in answer.answer for mark in ("“", "«", "„"))


def test_a_quote_opens_the_answer_only_when_it_is_a_plain_on_topic_sentence():
    from rag.answer import quoted_line
    from rag.schema import Citation

    def cite(text, language="en"):
        return [Citation(n=1, text=text, source="p.md", start=0, end=len(text), section="", score=1.0,
                         language=language, company="x")]
    sentence = "You can refuse cookies in the settings of your browser."
    assert quoted_line("How can I refuse cookies?", "en", "X", cite(sentence))
    assert quoted_line("How can I refuse cookies?", "en", "X", cite(sentence, "nl")) == ""  # another language
    assert quoted_line("How can I refuse cookies?", "en", "X", cite("## Cookies and your browser settings")) == ""
    assert quoted_line("How can I refuse cookies?", "en", "X", cite(sentence * 8)) == ""  # too long to open with
    assert quoted_line("How long do you keep my data?", "en", "X", cite(sentence)) == ""  # not about retention


def test_warming_up_loads_the_domain_prototypes_before_the_first_question(sample_store):
    from rag import features
    from rag.card import card_items
    from rag.chain import warm_retrieval
    from rag.retrieve import get_retriever

    unit = get_retriever(sample_store).unit_embedder_name
    features._DOMAIN_VECTORS.pop(unit, None)
    warm_retrieval(sample_store)
    assert features._DOMAIN_VECTORS[unit].shape[0] == sum(len(item["question"]) for item in card_items())
