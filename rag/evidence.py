"""From retrieved passages to evidence: the sentences (or list blocks) that answer the question.

Each candidate is a verbatim span of the source. It is scored by meaning (embedding similarity to
the question), by the privacy concepts it shares with the question (across languages) and by shared
words; the best few become the citations.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from .concepts import concepts_in, key_concepts, question_concepts
from .facts import dates, emails, has_duration
from .retrieve import Passage, PolicyRetriever, lexical_terms

# Weights of the evidence score (dense similarity has weight 1), set on the dev questions'
# aggregate numbers, not per question.
W_CONCEPT, W_LEXICAL, W_FACT, W_TITLE, W_RANK = 0.7, 0.3, 0.25, 0.3, 0.15
W_ADDRESS = 0.45

@dataclass
class Evidence:
    start: int
    end: int
    text: str
    section: str
    score: float
    dense: float
    concept: float
    lexical: float
    passage_rank: int
    concepts: frozenset
    fact: float = 0.0


_cache_lock = threading.Lock()


@dataclass
class UnitTable:
    """Every citable unit of one company's policy with what scoring needs, computed once."""

    spans: list[tuple[int, int]]
    texts: list[str]
    sections: list[str]
    chunk_ids: list[str]
    own: list[frozenset]
    context: list[frozenset]
    terms: list[frozenset]
    vectors: np.ndarray


_tables: dict[tuple, UnitTable] = {}


def unit_table(retriever: PolicyRetriever, company: str) -> UnitTable:
    key = (retriever.manifest["build"], id(retriever), company)
    with _cache_lock:
        if key in _tables:
            return _tables[key]
    source = retriever.source_text(company)
    language = retriever.companies()[company].get("language", "en")
    stored = retriever.unit_vectors(company)
    rows = []
    for p in retriever.passages(company):
        for s, e in p.units:
            rows.append((s, e, source[s:e], p.section, p.chunk_id))
    table = UnitTable(
        spans=[(s, e) for s, e, *_ in rows], texts=[r[2] for r in rows], sections=[r[3] for r in rows],
        chunk_ids=[r[4] for r in rows],
        own=[frozenset(concepts_in(r[2])) for r in rows],
        # Context: the section title, and the sentence before ("op deze manier" refers back to it).
        context=[frozenset(concepts_in(r[3]) | (concepts_in(rows[i - 1][2]) if i and rows[i - 1][3] == r[3] else set()))
                 for i, r in enumerate(rows)],
        terms=[frozenset(t for t in lexical_terms(f"{r[3]} {r[2]}", language) if not t.startswith("§")) for r in rows],
        vectors=np.stack([stored[(s, e)] for s, e, *_ in rows]) if rows else np.zeros((0, 1), dtype=np.float32),
    )
    with _cache_lock:
        _tables[key] = table
    return table


def select_evidence(retriever: PolicyRetriever, company: str, question: str, passages: list[Passage]) -> list[Evidence]:
    """Every citable unit of the company's policy, scored, best first.

    Scoring all units (a few hundred: one matrix product) rather than only those inside the top
    passages lets a sentence win on its own merits; the passage ranking still counts, as a prior."""
    table = unit_table(retriever, company)
    if not table.spans:
        return []
    language = retriever.companies()[company].get("language", "en")
    all_q = question_concepts(question)
    q_key = key_concepts(all_q)
    q_other = all_q - q_key
    expects = expected_facts(question, all_q)
    q_terms = {t for t in lexical_terms(question, language) if not t.startswith("§")}
    q_vec = np.asarray(retriever.unit_embedder.embed_query(question), dtype=np.float32)
    dense = table.vectors @ q_vec
    title_sim = {t: float(np.dot(v, q_vec)) for t, v in retriever.title_vectors(company).items()}
    passage_rank = {}
    for rank, p in _with_section_neighbours(retriever, company, passages):
        passage_rank.setdefault(p.chunk_id, rank)
    out = []
    for i, (s, e) in enumerate(table.spans):
        text, section = table.texts[i], table.sections[i]
        own, context = table.own[i], table.context[i]
        concept = _overlap(q_key, q_other, own, context)
        lexical = len(q_terms & table.terms[i]) / len(q_terms) if q_terms else 0.0
        fact = 0.0
        if "duration" in expects and has_duration(text):
            fact = 1.0
        elif "date" in expects and dates(text):
            fact = 1.0
        elif "email" in expects and emails(text):
            fact = W_ADDRESS / W_FACT  # to "how do I contact you", an address is the answer itself
        elif "list" in expects and is_enumeration(text):
            fact = 1.0
        rank = passage_rank.get(table.chunk_ids[i], len(passages) + 5)
        d = float(dense[i])
        score = (d + W_CONCEPT * concept + W_LEXICAL * lexical + W_FACT * fact
                 + W_TITLE * max(0.0, title_sim.get(section, 0.0)) + W_RANK / (1 + rank))
        out.append(Evidence(s, e, text, section, score, d, concept, lexical, rank, own | context, fact))
    out.sort(key=lambda ev: -ev.score)
    return out


def _overlap(q_key: set, q_other: set, own: set, context: set) -> float:
    """Share of the question's concepts found in the unit (its section title counts half);
    topic concepts weigh twice as much as generic ones ("data", "use")."""
    weight = 2 * len(q_key) + len(q_other)
    if not weight:
        return 0.0
    got = 0.0
    for concepts, w in ((q_key, 2), (q_other, 1)):
        got += w * (len(concepts & own) + 0.5 * len(concepts & (context - own)))
    return got / weight


DURATION_QUESTION = re.compile(
    r"\b(how long|for how long|hoe ?lang|combien de temps|pendant combien|quelle dur[ée]e|wie lange|retention period|"
    r"bewaartermijn|d[ée]lai de conservation|speicherdauer|how many (years|months|days))\b", re.IGNORECASE)
DATE_QUESTION = re.compile(
    r"\b(when|since when|what date|which date|wanneer|sinds wanneer|welke datum|quand|depuis quand|quelle date|"
    r"wann|seit wann|welches datum)\b", re.IGNORECASE)


LIST_QUESTION = re.compile(
    r"^\s*(which|welke|welk|quels?|quelles?|welche[rsn]?|"
    r"(what|wat|was|que|quoi)\s+(kind|kinds|type|types|sort|sorts|soort|soorten|voor|art|arten|genre|categor\w*|"
    r"information|informatie|data|gegevens|daten|personal|persoonlijke|cookies|services|diensten|third|parties))\b",
    re.IGNORECASE)


def is_enumeration(text: str) -> bool:
    """A list of items: several lines, or a sentence of many commas ("het IP-adres, de toestelcode, ...")."""
    body = text.strip()
    return body.count("\n") >= 2 or body.count(",") >= 3 or bool(re.search(r":\s*\S", body) and body.count(",") >= 2)


def expected_facts(question: str, concepts: set[str]) -> set[str]:
    """What kind of fact a good answer states: a period, a date, an address to write to, a list."""
    out = set()
    if LIST_QUESTION.search(question):
        out.add("list")
    if DURATION_QUESTION.search(question):
        out.add("duration")
    if DATE_QUESTION.search(question):
        out.add("date")
    if "contact" in concepts:
        out.add("email")
    return out


def _with_section_neighbours(retriever: PolicyRetriever, company: str, passages: list[Passage]):
    """Each retrieved passage, then the chunks next to it in the same section: a section cut in
    two by the token bound keeps its heading's meaning on both halves."""
    siblings = retriever.neighbours(company)
    out, seen = [], set()
    for rank, p in enumerate(passages):
        for q in [p] + siblings(p):
            if q.chunk_id not in seen:
                seen.add(q.chunk_id)
                out.append((rank, q))
    return out
