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

from .concepts import concepts_in, fold, key_concepts, question_concepts, word_concepts
from .evidence import Evidence, expected_facts
from .facts import OPEN_DURATION, Duration, dates, durations, emails, has_duration, has_exception, negates
from .schema import Answer, Citation

MAX_CITATIONS = 3
EXTRA_CITATIONS = 2  # more, when close in score and carrying the fact asked for (each retention period)
EXTRA_RATIO = 0.85  # of the third citation's score
# A question sharing no privacy concept with the best sentences must be this close in meaning to
# count as answered (off-topic questions measured at <= 0.37, answerable dev questions >= 0.15 but
# all of those share concepts).
MIN_DENSE_WITHOUT_CONCEPT = 0.42
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
YES_NO_STARTS = {
    "en": ("do ", "does ", "did ", "is ", "are ", "can ", "could ", "will ", "would ", "have ", "has ", "may "),
    "nl": ("verkopen ", "verkoopt ", "delen ", "deelt ", "gebruiken ", "gebruikt ", "is ", "zijn ", "kan ", "kunnen ",
           "mag ", "mogen ", "heeft ", "hebben ", "wordt ", "worden ", "geven ", "geeft ", "bewaren ", "bewaart "),
    "fr": ("est-ce ", "vendez", "partagez", "utilisez", "conservez", "avez", "pouvez", "puis-je", "transmettez", "y a-t-il"),
    "de": ("verkaufen ", "teilen ", "nutzen ", "verwenden ", "speichern ", "ist ", "sind ", "kann ", "können ",
           "haben ", "hat ", "geben ", "gibt "),
}


@lru_cache(maxsize=1)
def phrases() -> dict:
    return json.loads((PROMPTS_DIR / "phrases.json").read_text(encoding="utf-8"))


def phrase(language: str, key: str, **values) -> str:
    table = phrases().get(language) or phrases()["en"]
    return table[key].format(**values)


FIRST_PERSON_STARTS = ("can i ", "may i ", "could i ", "am i ", "puis-je", "est-ce que je", "ai-je", "kan ik ",
                       "mag ik ", "heb ik ", "kann ich ", "darf ich ", "habe ich ")
WH_WORDS = ("quel", "quels", "quelle", "quelles", "comment", "pourquoi", "où", "quand", "combien", "qui", "que ",
            "qu'", "qu’", "lequel", "laquelle")


def is_yes_no_question(question: str, language: str) -> bool:
    q = question.strip().lower()
    if q.startswith(YES_NO_STARTS.get(language, ())):
        return True
    # French inversion ("Vendez-vous ... ?") makes a yes/no question unless a question word leads.
    return language == "fr" and "-vous" in q.split("?")[0][:40] and not q.startswith(WH_WORDS)


def decide_status(question: str, evidence: list[Evidence]) -> str:
    """`not_found` when the best evidence does not touch what the question is about:
    none of its topic concepts, or not the kind of fact it asks for (a period, a date), or
    nothing close in meaning."""
    if not evidence:
        return "not_found"
    top = evidence[:MAX_CITATIONS]
    asked = concepts_in(question)
    topics = key_concepts(asked)
    if topics and not any(topics & ev.concepts for ev in top):
        return "not_found"
    expects = expected_facts(question, asked) - {"email", "list"}
    if "duration" in expects and not any(has_duration(ev.text) for ev in top):
        return "not_found"
    if "date" in expects and not any(dates(ev.text) for ev in top):
        return "not_found"
    if not any(ev.concept > 0 for ev in top) and max(ev.dense for ev in top) < MIN_DENSE_WITHOUT_CONCEPT:
        return "not_found"  # no privacy vocabulary in common and not close in meaning: off-topic
    return "answered"


def cited_evidence(question: str, evidence: list[Evidence]) -> list[Evidence]:
    """The top units, plus up to EXTRA_CITATIONS close runners-up that state the kind of fact the
    question asks for: a retention question deserves every period the policy names."""
    chosen = list(evidence[:MAX_CITATIONS])
    expects = expected_facts(question, question_concepts(question))
    if chosen and expects:
        floor = chosen[-1].score * EXTRA_RATIO
        for ev in evidence[MAX_CITATIONS:MAX_CITATIONS + 8]:
            if len(chosen) >= MAX_CITATIONS + EXTRA_CITATIONS or ev.score < floor:
                break
            if ev.fact > 0:
                chosen.append(ev)
    return chosen


def citations_from(evidence: list[Evidence], source: str, company: str, language: str) -> list[Citation]:
    return [Citation(n=i + 1, text=ev.text, source=source, start=ev.start, end=ev.end, section=ev.section,
                     score=round(ev.score, 4), language=language, company=company)
            for i, ev in enumerate(evidence)]


def yes_or_no(question: str, language: str, citations: list[Citation],
              company_name: str = "") -> tuple[str, Citation] | None:
    """("no", c) when one of the top two citations plainly denies what a yes/no question asks about;
    ("yes", c) when the top citation (with its section title) names every concept of the question;
    None when the evidence is not that clear (the quotes then speak for themselves)."""
    topics = key_concepts(concepts_in(question))
    if not topics or not citations or not is_yes_no_question(question, language):
        return None

    def carries_topic(word: str) -> bool:
        return bool(topics & word_concepts(word))

    # "Can I ...?" asks about the reader's rights; a "not" near the topic there is usually about
    # something else ("if you do not agree, you have no permission to use the site").
    about_reader = question.strip().lower().startswith(FIRST_PERSON_STARTS)
    for c in citations[:2]:
        if not about_reader and negates(c.text, carries_topic):
            return "no", c
    first = citations[0]
    if (concepts_in(question) <= concepts_in(f"{first.section}\n{first.text}")
            and all(fold(name) in fold(first.text) for name in named_in(question, company_name, language))):
        # every concept of the question, not only its topics ("sell" + "data"), and every name it
        # asks about: "Do you use Google Analytics?" is not answered yes by "analytical cookies".
        return "yes", first
    return None


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


def _join(items: list[str], language: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {phrase(language, 'and')} " + items[-1]


def direct_answer(question: str, language: str, company_name: str, citations: list[Citation]) -> tuple[str, str]:
    """(verdict, facts): the parts of an answer that can be stated without a model and are true by
    construction, in the question's language. The verdict is a plain yes/no on clear evidence; the
    facts are the periods, e-mail addresses and dates the question asks for, each with its [n].
    Either may be empty."""
    asked = concepts_in(question)
    expects = expected_facts(question, asked)
    verdict = ""
    found = yes_or_no(question, language, citations, company_name)
    if found:
        kind, cited = found
        key = "no_except" if kind == "no" and has_exception(cited.text) else kind
        verdict = phrase(language, key, refs=f"[{cited.n}]")
    parts = []
    found_durations, seen = [], set()
    for c in citations:
        for d in durations(c.text):
            key = (d.number, d.unit, d.qualifier)
            if key not in seen:
                seen.add(key)
                found_durations.append(f"{_render_duration(d, language)} [{c.n}]")
    if found_durations and ("duration" in expects or "retention" in asked):
        parts.append(phrase(language, "durations", items=_join(found_durations, language)))
    elif "duration" in expects:
        open_refs = "".join(f"[{c.n}]" for c in citations if OPEN_DURATION.search(c.text))
        if open_refs:
            parts.append(phrase(language, "open_duration", refs=open_refs))
    addresses = []
    for c in citations:
        for e in emails(c.text):
            if e not in [a.split(" [")[0] for a in addresses]:
                addresses.append(f"{e} [{c.n}]")
    if addresses and ("email" in expects or "contact" in asked or "request" in asked or "delete" in asked or "access" in asked):
        parts.append(phrase(language, "emails", items=_join(addresses, language)))
    if "date" in expects:
        found_dates = [f"{d} [{c.n}]" for c in citations for d in dates(c.text)[:1]]
        if found_dates:
            parts.append(phrase(language, "dates", items=_join(found_dates[:2], language)))
    return verdict, " ".join(parts)


def build_extractive(question: str, language: str, company: str, company_name: str, source: str,
                     policy_language: str, evidence: list[Evidence]) -> Answer:
    status = decide_status(question, evidence)
    citations = citations_from(cited_evidence(question, evidence), source, company, policy_language) \
        if status == "answered" else []
    if status == "not_found" or not citations:
        answer, lead = phrase(language, "not_found", company=company_name), ""
    else:
        verdict, facts = direct_answer(question, language, company_name, citations)
        found = phrase(language, "found", company=company_name, refs="".join(f"[{c.n}]" for c in citations))
        answer = " ".join(part for part in (verdict, found, facts) if part)
        lead = " ".join(part for part in (verdict, facts) if part)
    return Answer(company=company, question=question, language=language, status=status, answer=answer,
                  citations=citations, backend="extractive", lead=lead)
