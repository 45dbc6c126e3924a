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
SHORT_LINE = 70  # consecutive short lines (list items) are cited together as one block
MAX_BLOCK = 600


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


def _units(passage: Passage, source: str) -> list[tuple[int, int]]:
    """Sentences of a passage, with runs of short list lines merged into one block. When the passage
    opens with a question heading (an FAQ), its first answer sentence is cited together with the
    question: "Nee." means nothing on its own."""
    units: list[list[int]] = []
    if passage.sentences and passage.start < passage.sentences[0][0]:
        heading = source[passage.start:passage.sentences[0][0]].strip()
        if heading.endswith("?") and "\n" not in heading:
            units.append([passage.start, passage.sentences[0][1], False])
            passage = Passage(**{**passage.__dict__, "sentences": passage.sentences[1:]})
    for s, e in passage.sentences:
        short = e - s <= SHORT_LINE and "\n" not in source[s:e].strip()
        if units and short and units[-1][2] and e - units[-1][0] <= MAX_BLOCK and source[units[-1][1]:s].count("\n") <= 2:
            units[-1][1] = e
        else:
            units.append([s, e, short])
    return [(s, e) for s, e, _ in units]


_embedding_cache: dict[tuple, np.ndarray] = {}
_cache_lock = threading.Lock()


def _embed_spans(retriever: PolicyRetriever, company: str, spans: list[tuple[int, int, str]]) -> np.ndarray:
    embedder = next(iter(retriever._embedders.values()))
    name = next(iter(retriever._embedders))
    keys = [(retriever.manifest["build"], company, name, s, e) for s, e, _ in spans]
    with _cache_lock:
        missing = [i for i, k in enumerate(keys) if k not in _embedding_cache]
    if missing:
        vectors = embedder.embed_documents([spans[i][2] for i in missing])
        with _cache_lock:
            for i, v in zip(missing, vectors):
                _embedding_cache[keys[i]] = np.asarray(v, dtype=np.float32)
            if len(_embedding_cache) > 50000:
                _embedding_cache.clear()
    with _cache_lock:
        return np.stack([_embedding_cache[k] for k in keys]) if keys else np.zeros((0, 1))


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
        for s, e in _units(p, source):
            if (s, e) not in seen:
                seen.add((s, e))
                candidates.append((s, e, source[s:e], p.section, rank))
    embedder = next(iter(retriever._embedders.values()))
    q_vec = np.asarray(embedder.embed_query(question), dtype=np.float32)
    vectors = _embed_spans(retriever, company, [(s, e, f"{section}\n{text}" if section else text)
                                                for s, e, text, section, _ in candidates])
    dense = vectors @ q_vec
    titles = sorted({c[3] for c in candidates if c[3]})
    title_vecs = _embed_spans(retriever, company, [(-1, i, t) for i, t in enumerate(titles)]) if titles else None
    title_sim = dict(zip(titles, (title_vecs @ q_vec).tolist())) if titles else {}
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
