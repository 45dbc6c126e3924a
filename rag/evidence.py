"""From a question to evidence: every citable unit of the company's policy, ranked by the learned
model (rag/ranker.py over rag/features.py), and the question-level decisions that rest on that
ranking: is the question answered by the policy at all, and, for a yes/no question, the verdict.

Each unit is a verbatim span of the source; the best few become the citations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .features import FEATURES, UnitTable, candidate_features, view_question
from .ranker import answerable_probability, is_answerable, rank_scores
from .retrieve import PolicyRetriever
from .verdict import predict_verdict

_FACT = FEATURES.index("fact_match")


@dataclass
class Evidence:
    start: int
    end: int
    text: str
    section: str
    score: float  # the ranker's score: comparable within one question only
    fact: bool = False  # holds the kind of fact the question asks for (a period, a date, an address)
    unit: int = 0  # row in the company's UnitTable


@dataclass
class Ranking:
    """Everything the answer step needs from the ranking of one question."""

    evidence: list[Evidence]  # best first
    answerable: float  # calibrated probability that the policy answers the question
    status: str  # answered | not_found
    verdict: str | None = None  # yes | no | conditional | None (see rag/verdict.py)
    verdict_probability: float = 0.0
    table: UnitTable | None = None
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))


def rank_evidence(retriever: PolicyRetriever, company: str, question: str, language: str) -> Ranking:
    view = view_question(retriever, question, language)
    table, features = candidate_features(retriever, company, view)
    scores = rank_scores(features)
    if len(scores) == 0:
        return Ranking([], 0.0, "not_found", table=table, scores=scores)
    # A sentence that speaks to an AI assistant (an instruction planted in the policy) states nothing
    # about the company: it is never evidence (never quoted, read for facts or shown to a model), and
    # answerability and the verdict do not see it either (its score goes below every other unit's).
    planted = table.planted
    if planted.any():
        scores = np.where(planted, scores.min() - 10.0, scores)
    order = np.argsort(-scores, kind="stable")
    evidence = [Evidence(table.spans[i][0], table.spans[i][1], table.texts[i], table.sections[i], float(scores[i]),
                         bool(features[i, _FACT]), int(i)) for i in order if not planted[i]]
    probability = answerable_probability(features, scores)
    status = "answered" if is_answerable(probability) else "not_found"
    verdict, verdict_p = (predict_verdict(question, language, table.texts, features, scores)
                          if status == "answered" else (None, 0.0))
    return Ranking(evidence, probability, status, verdict, verdict_p, table, scores)


def ranked_paragraphs(ranking: Ranking, k: int) -> list[tuple[int, int, str, float]]:
    """The k best passages for `search`: each the paragraph (within one chunk) around a top unit,
    scored by its best unit; (start, end, section, score), best first."""
    table = ranking.table
    out, seen = [], set()
    for ev in ranking.evidence:
        i = ev.unit
        key = (int(table.para_of[i]), int(table.chunk_of[i]))
        if key in seen:
            continue
        seen.add(key)
        members = np.where((table.para_of == key[0]) & (table.chunk_of == key[1]))[0]
        out.append((table.spans[members[0]][0], table.spans[members[-1]][1], table.sections[i], ev.score))
        if len(out) >= k:
            break
    return out
