"""The extractive backend: answer with the policy's own sentences, no model needed.

It decides whether the policy addresses the question at all (`answered` vs `not_found`), picks the
evidence sentences as exact spans, and writes a short answer in the question's language from what
can be taken out without a model: periods, dates, e-mail addresses, a plain "no" when the evidence
is a clear negation. The quotes themselves stay in the policy's language, in `citations`.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from .concepts import concepts_in, fold, key_concepts, question_concepts
from .lexicon import expected_facts, is_yes_no_question
from .evidence import Evidence, Ranking
from .facts import NEGATION, OPEN_DURATION, Duration, has_exception
from .schema import Answer, Citation
from .typed import question_type, topic_line, typed_facts

MAX_CITATIONS = 3
EXTRA_CITATIONS = 2  # more, from the next few, when they hold the kind of fact asked (each retention period)
EXTRA_WINDOW = 8
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def phrases() -> dict:
    """prompts/phrases.json, read once per process (callers only read it)."""
    return json.loads((PROMPTS_DIR / "phrases.json").read_text(encoding="utf-8"))


def phrase(language: str, key: str, **values) -> str:
    table = phrases().get(language) or phrases()["en"]
    return table[key].format(**values)


def cited_evidence(evidence: list[Evidence]) -> list[Evidence]:
    """The top units, plus up to EXTRA_CITATIONS of the next few that hold the kind of fact the
    question asks for: a retention question deserves every period the policy names."""
    chosen = list(evidence[:MAX_CITATIONS])
    for ev in evidence[MAX_CITATIONS:MAX_CITATIONS + EXTRA_WINDOW]:
        if len(chosen) >= MAX_CITATIONS + EXTRA_CITATIONS:
            break
        if ev.fact:
            chosen.append(ev)
    return chosen


def citations_from(evidence: list[Evidence], source: str, company: str, language: str) -> list[Citation]:
    return [Citation(n=i + 1, text=ev.text, source=source, start=ev.start, end=ev.end, section=ev.section,
                     score=round(ev.score, 4), language=language, company=company)
            for i, ev in enumerate(evidence)]


def verdict_citation(verdict: str, question: str, citations: list[Citation], company_name: str,
                     language: str) -> Citation | None:
    """The cited sentence the verdict rests on: for `no` / `conditional` the first that negates or
    limits what is asked, else the first citation; a `yes` about a named service ("Do you use Google
    Analytics?") must name it. None when no citation can carry the verdict: then there is none."""
    if not citations:
        return None
    if verdict == "yes":
        names = named_in(question, company_name, language)
        first = citations[0]
        return first if all(fold(n) in fold(first.text) for n in names) else None
    for c in citations[:MAX_CITATIONS]:
        if NEGATION.search(c.text) or has_exception(c.text):
            return c
    return citations[0]


NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w&-]+(?:\s+[A-Z][\w&-]+)*)")


def named_in(question: str, company_name: str = "", language: str = "en") -> list[str]:
    """Capitalised names in a question (not its first word, not the company): "Google Analytics".
    German capitalises every noun, so there no word counts as a name by its capital alone."""
    if language == "de":
        return []
    company = {fold(w) for w in re.findall(r"\w+", company_name)}
    body = question.strip()
    names = []
    for m in NAME.finditer(body):
        if m.start() == 0:
            continue
        words = [w for w in m.group(1).split() if fold(w) not in company and w not in ("I", "EU", "EEA")]
        if words:
            names.append(" ".join(words))
    return names


def _render_duration(d: Duration, language: str) -> str:
    units = phrases().get(language, phrases()["en"])["units"][d.unit]
    text = f"{d.number} {units[0] if d.number == 1 else units[1]}"
    return phrase(language, d.qualifier, n=text) if d.qualifier else text


render_duration = _render_duration  # public: rag/diff.py states changed periods the same way


def _join(items: list[str], language: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {phrase(language, 'and')} " + items[-1]


def direct_answer(question: str, language: str, company_name: str, citations: list[Citation],
                  verdict: str | None = None) -> tuple[str, str]:
    """(verdict sentence, facts): the parts of an answer that can be stated without a model and are
    true to the cited sentences, in the question's language. The verdict sentence states the learned
    verdict (rag/verdict.py) with the citation it rests on; the facts are those the question's type
    asks for (rag/typed.py: periods and what they apply to, addresses, names, legal bases, rights,
    recipients, ...), each with its [n]. Either may be empty."""
    said = ""
    if verdict:
        cited = verdict_citation(verdict, question, citations, company_name, language)
        if cited is not None:
            said = phrase(language, verdict, refs=f"[{cited.n}]")
    typed = typed_facts(question, language, citations, company_name=company_name)
    facts = typed.text
    if not facts and typed.kind == "periods" and "duration" in expected_facts(question, question_concepts(question)):
        open_refs = "".join(f"[{c.n}]" for c in citations if OPEN_DURATION.search(c.text))
        if open_refs:
            facts = phrase(language, "open_duration", refs=open_refs)
    return said, facts


MAX_QUOTE_CHARS = 320  # a longer sentence is read in the quotes below, not in the answer's opening
_MARKUP = re.compile(r"[#|*_<>\[\]`]|\n|&\w+;")


def quoted_line(question: str, language: str, company_name: str, citations: list[Citation]) -> str:
    """No fact of the asked kind: the best-ranked sentence itself opens the answer, word for word,
    when it is in the reader's language (then its words are the substance, and true by construction).
    Empty for a yes/no question (a quote opening the answer reads as a verdict, and the verdict model
    has abstained: "De verkoop van onze diensten" is no answer to "Do you sell my data?"), when the
    sentence is in another language (it needs a verified translation first, which only a model
    backend makes), too long, or not a plain sentence (a heading, a table row, markup)."""
    best = citations[0]
    text = best.text.strip()
    if (is_yes_no_question(question, language) or not best.language or best.language != language or len(text) > MAX_QUOTE_CHARS
            or _MARKUP.search(text) or not re.search(r"[.!?;:)]$", text)):
        return ""
    keys = key_concepts(question_concepts(question))
    if keys and not keys & concepts_in(text):  # it does not name what is asked about (a retention
        return ""  # question, a sentence about transfers): the quotes below are pointed at instead
    return phrase(language, "quoted", company=company_name, quote=text.rstrip(".;:"), refs=f"[{best.n}]")


def build_extractive(question: str, language: str, company: str, company_name: str, source: str,
                     policy_language: str, ranking: Ranking) -> Answer:
    status = ranking.status
    citations = citations_from(cited_evidence(ranking.evidence), source, company, policy_language) \
        if status == "answered" else []
    verdict = None
    if status == "not_found" or not citations:
        status, answer, lead = "not_found", phrase(language, "not_found", company=company_name), ""
    else:
        said, facts = direct_answer(question, language, company_name, citations, ranking.verdict)
        verdict = ranking.verdict if said else None  # a verdict no citation can carry is not given
        lead = " ".join(part for part in (said, facts) if part) or quoted_line(question, language, company_name, citations)
        # No facts of the asked kind and no quote to open with: say which topic the quotes are about
        answer = lead or topic_line(question_type(question), language, company_name,
                                    "".join(f"[{c.n}]" for c in citations))
    return Answer(company=company, question=question, language=language, status=status, answer=answer,
                  citations=citations, backend="extractive", lead=lead, verdict=verdict)
