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

from .concepts import concepts_in, key_concepts
from .facts import dates, emails, has_duration
from .retrieve import Passage, PolicyRetriever, lexical_terms

EVIDENCE_PASSAGES = 5
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


_title_cache: dict[str, np.ndarray] = {}
_cache_lock = threading.Lock()


def _embed_titles(retriever: PolicyRetriever, titles: list[str]) -> dict[str, np.ndarray]:
    """Section titles are few and shared by many questions: embed each once per process."""
    with _cache_lock:
        missing = [t for t in titles if t not in _title_cache]
    if missing:
        vectors = retriever.unit_embedder.embed_documents(missing)
        with _cache_lock:
            for t, v in zip(missing, vectors):
                _title_cache[t] = np.asarray(v, dtype=np.float32)
    with _cache_lock:
        return {t: _title_cache[t] for t in titles}


def select_evidence(retriever: PolicyRetriever, company: str, question: str, passages: list[Passage]) -> list[Evidence]:
    """All candidate units of the top passages, best first."""
    if not passages:
        return []
    source = retriever.source_text(company)
    language = retriever.companies()[company].get("language", "en")
    all_q = concepts_in(question)
    q_key = key_concepts(all_q)
    q_other = all_q - q_key
    expects = expected_facts(question, all_q)
    q_terms = {t for t in lexical_terms(question, language) if not t.startswith("§")}
    candidates: list[tuple[int, int, str, str, int]] = []
    seen = set()
    for rank, p in _with_section_neighbours(retriever, company, passages[:EVIDENCE_PASSAGES]):
        for s, e in p.units:
            if (s, e) not in seen:
                seen.add((s, e))
                candidates.append((s, e, source[s:e], p.section, rank))
    q_vec = np.asarray(retriever.unit_embedder.embed_query(question), dtype=np.float32)
    stored = retriever.unit_vectors(company)
    missing = [(s, e, f"{section}\n{text}" if section else text) for s, e, text, section, _ in candidates
               if (s, e) not in stored]
    extra = dict(zip([(s, e) for s, e, _ in missing],
                     retriever.unit_embedder.embed_documents([t for _, _, t in missing]))) if missing else {}
    dense = [float(np.dot(stored.get((s, e), extra.get((s, e))), q_vec)) for s, e, *_ in candidates]
    titles = sorted({c[3] for c in candidates if c[3]})
    title_sim = {t: float(np.dot(v, q_vec)) for t, v in _embed_titles(retriever, titles).items()}
    out = []
    for (s, e, text, section, rank), d in zip(candidates, dense):
        own = concepts_in(text)
        context = concepts_in(section)
        concept = _overlap(q_key, q_other, own, context)
        terms = {t for t in lexical_terms(f"{section} {text}", language) if not t.startswith("§")}
        lexical = len(q_terms & terms) / len(q_terms) if q_terms else 0.0
        fact = 0.0
        if "duration" in expects and has_duration(text):
            fact = 1.0
        elif "date" in expects and dates(text):
            fact = 1.0
        elif "email" in expects and emails(text):
            fact = 1.0
        score = (float(d) + 0.35 * concept + 0.25 * lexical + 0.25 * fact
                 + 0.3 * max(0.0, title_sim.get(section, 0.0)) + 0.08 / (1 + rank))
        out.append(Evidence(s, e, text, section, score, float(d), concept, lexical, rank, frozenset(own | context), fact))
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


def expected_facts(question: str, concepts: set[str]) -> set[str]:
    """What kind of fact a good answer states: a period, a date, an address to write to."""
    out = set()
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
