"""Training data for the learned models: index the training policies, compute every question's
candidate features (rag/features.py) and label the candidates from the gold.

Sets (never newpolicies-dev, which is kept for reporting):
- policyqa: ../shared/eval/policyqa-dev, English, a unit is relevant when it overlaps a gold segment.
- multilingual: ../shared/eval/train-multilingual, nl/fr/de/en, relevant = holds an evidence string.
- extra: scripts/data/extra_*.jsonl, our own multilingual questions (open and yes/no) over the
  policyqa-dev and train-multilingual policies.
- card: the fact card's questions over the same policies, labelled stated / not_stated per item
  (scripts/data/card_labels/).
"""
from __future__ import annotations

import collections
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from index.build import build_index  # noqa: E402
from index.settings import Settings  # noqa: E402
from rag.card import card_items  # noqa: E402
from rag.features import candidate_features, view_question  # noqa: E402
from rag.language import detect_question_language  # noqa: E402
from rag.lexicon import LANGUAGES  # noqa: E402
from rag.retrieve import PolicyRetriever  # noqa: E402

EVAL = PROJECT.parent / "shared" / "eval"
SETS = ("policyqa", "multilingual", "extra", "card")


@dataclass
class Question:
    set: str
    id: str
    company: str  # unique over sets: "<set>/<company>" groups the cross-validation folds
    policy: str  # company id inside its store
    question: str
    language: str
    answerable: bool
    verdict: str | None  # yes/no questions: yes | no | conditional | not_stated
    features: np.ndarray = None
    labels: np.ndarray = None  # 1 for units that answer the question
    spans: list = field(default_factory=list)
    texts: list = field(default_factory=list)
    chunk_of: np.ndarray = None
    para_of: np.ndarray = None
    qvec: np.ndarray = None
    unit_vectors: np.ndarray = None
    gold: dict = field(default_factory=dict)


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _store(name: str, policies: Path, cache: Path) -> PolicyRetriever:
    settings = Settings().with_store(cache / name)
    build_index(settings, policies, progress=False)  # incremental: nothing to do when already built
    return PolicyRetriever(settings)


def _evidence_labels(texts: list[str], evidence: list[str]) -> np.ndarray:
    ev = [norm(e) for e in evidence]
    out = np.zeros(len(texts))
    for i, t in enumerate(texts):
        t = norm(t)
        if any(e in t or (len(t) >= 15 and t in e) for e in ev):
            out[i] = 1
    return out


def _segment_labels(spans, relevant_segments) -> np.ndarray:
    return np.array([1.0 if any(s < e2 and e > s2 for s2, e2 in relevant_segments) else 0.0 for s, e in spans])


def load_sets(cache: Path, sets=SETS, log=print) -> list[Question]:
    out: list[Question] = []
    if "policyqa" in sets:
        root = EVAL / "policyqa-dev"
        retriever = _store("policyqa", root / "policies", cache)
        segs = json.loads((root / "segments.json").read_text())
        qrels = collections.defaultdict(set)
        for line in (root / "qrels.tsv").read_text().splitlines()[1:]:
            q, d, _ = line.split("\t")
            qrels[q].add(d)
        for line in (root / "questions.jsonl").read_text().splitlines():
            g = json.loads(line)
            relevant = [(s, e) for sid, s, e in segs[g["company"]] if sid in qrels[g["id"]]]
            q = _featurise(retriever, Question("policyqa", g["id"], "policyqa/" + g["company"], g["company"],
                                               g["question"], "en", True, None, gold=g))
            q.labels = _segment_labels(q.spans, relevant)
            out.append(q)
        log(f"policyqa: {sum(1 for q in out if q.set == 'policyqa')} questions")
    gold_sets = []
    if "multilingual" in sets:
        root = EVAL / "train-multilingual"
        gold_sets.append(("multilingual", root / "questions.jsonl", _store("multilingual", root / "policies", cache)))
    data = PROJECT / "scripts" / "data"
    if "extra" in sets:
        # our own gold (checked by scripts/data/check_extra.py): open and yes/no questions
        for path, store, policies in ((data / "extra_train.jsonl", "policyqa", "policyqa-dev"),
                                      (data / "extra_yesno_policyqa.jsonl", "policyqa", "policyqa-dev"),
                                      (data / "extra_yesno_multilingual.jsonl", "multilingual", "train-multilingual"),
                                      # questions no privacy policy answers (off topic, or about the
                                      # company but not its privacy): users ask them, and the policy is silent
                                      (data / "extra_offtopic_policyqa.jsonl", "policyqa", "policyqa-dev"),
                                      (data / "extra_offtopic_multilingual.jsonl", "multilingual", "train-multilingual")):
            if path.exists():
                gold_sets.append(("extra", path, _store(store, EVAL / policies / "policies", cache)))
    if "card" in sets:
        out.extend(card_questions(cache, log))
    for name, path, retriever in gold_sets:
        n = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            out.append(_gold_question(name, json.loads(line), retriever, log))
            n += 1
        log(f"{name} ({path.name}): {n} questions")
    return out


def _gold_question(name: str, g: dict, retriever: PolicyRetriever, log=print) -> Question:
    """One question of a gold file (design.md's shape), featurised and labelled by its evidence."""
    verdict = g.get("verdict") if g.get("type") == "yesno" else None
    # the fold group is the policy, whichever file asks about it
    group = f"{retriever.settings.store_dir.name}/{g['company']}"
    q = _featurise(retriever, Question(name, g["id"], group, g["company"], g["question"], g["lang"],
                                       bool(g["answerable"]), verdict, gold=g))
    q.labels = _evidence_labels(q.texts, g.get("evidence", []))
    if q.answerable and not q.labels.any():
        log(f"  {g['id']}: no unit holds its evidence {g['evidence']!r}")
    return q


def card_questions(cache: Path, log=print) -> list[Question]:
    """The fact card's 19 questions (rag/data/card_items.json) asked of the training policies, labelled
    item by item (scripts/data/card_labels/*.jsonl, checked by check_card_labels.py): `stated` with
    its evidence, or `not_stated`, the questions a card asks of every policy and most policies are
    silent on some of. Each (policy, item) is asked in two languages, rotated over the items so
    that every language asks every item somewhere."""
    items = {it["id"]: (k, it) for k, it in enumerate(card_items())}
    out = []
    for path in sorted((PROJECT / "scripts" / "data" / "card_labels").glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        companies = sorted({r["company"] for r in rows})
        policies = "policyqa-dev" if path.stem.startswith("p") else "train-multilingual"
        store = "policyqa" if policies == "policyqa-dev" else "multilingual"
        retriever = _store(store, EVAL / policies / "policies", cache)
        for r in rows:
            k, item = items[r["item"]]
            c = companies.index(r["company"])
            for lang in (LANGUAGES[(k + c) % 4], LANGUAGES[(k + c + 2) % 4]):
                g = {"id": f"card-{r['company']}-{r['item']}-{lang}", "company": r["company"], "lang": lang,
                     "question": item["question"][lang], "answerable": r["status"] == "stated",
                     "evidence": r["evidence"]}
                out.append(_gold_question("card", g, retriever, log))
        log(f"card ({path.name}): {len(rows)} items")
    return out


def _featurise(retriever: PolicyRetriever, q: Question) -> Question:
    # The question's language as the product detects it (the gold language is what it should be).
    language = detect_question_language(q.question, q.language)
    view = view_question(retriever, q.question, language)
    table, X = candidate_features(retriever, q.policy, view)
    q.features, q.spans, q.texts, q.chunk_of = X, list(table.spans), list(table.texts), table.chunk_of
    q.para_of = table.para_of
    q.qvec = view.vectors[retriever.unit_embedder_name]
    q.unit_vectors = table.vectors
    return q


_segments: dict = {}


def segment_ndcg(q: Question, scores: np.ndarray, k: int = 10) -> float:
    """nDCG@10 of a unit ranking over PolicyQA segments, counted as ../shared/eval/policyqa-dev/score.py
    counts `rag search --k 10` passages: each passage for every segment it overlaps, in ranked order."""
    import math

    root = EVAL / "policyqa-dev"
    if not _segments:
        _segments["segs"] = json.loads((root / "segments.json").read_text())
        qrels = collections.defaultdict(set)
        for line in (root / "qrels.tsv").read_text().splitlines()[1:]:
            a, b, _ = line.split("\t")
            qrels[a].add(b)
        _segments["qrels"] = qrels
    segs, relevant = _segments["segs"][q.policy], _segments["qrels"][q.id]
    order, passages, seen = [], [], set()
    for i in np.argsort(-scores):  # paragraphs around the best units, as rag.evidence.ranked_paragraphs
        key = (q.para_of[i], q.chunk_of[i])
        if key not in seen:
            seen.add(key)
            members = np.where((q.para_of == key[0]) & (q.chunk_of == key[1]))[0]
            passages.append((q.spans[members[0]][0], q.spans[members[-1]][1]))
        if len(passages) >= k:
            break
    for s, e in passages:
        for sid, a, b in segs:
            if s < b and e > a and sid not in order:
                order.append(sid)
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(order[:k]) if d in relevant)
    return dcg / sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
