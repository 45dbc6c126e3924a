"""What the learned ranker sees: one row of features per citable unit of a policy, per question.

A unit (index/chunk.py: a sentence, or a list block) is the candidate. Its features describe how
it relates to the question from every angle we can compute cheaply and without hand weights:
meaning (the unit, the unit with its neighbours, its section title, its chunk, by every embedder),
words (BM25 over units and over chunks, stemmed), privacy concepts shared across languages, whether
it holds the kind of fact the question asks for (a period for "how long", an address for "who do I
contact"), and where it sits. Similarities are also given relative to the policy (z-score, gap to
the best, rank), so that a model learned on one embedder and one policy transfers to others.

The weights live in the model (rag/models/, trained by scripts/train.py), not here.
"""
from __future__ import annotations

import math
from collections import OrderedDict
import threading
from dataclasses import dataclass

import numpy as np

from .concepts import concepts_in, key_concepts, question_concepts
from .facts import dates, emails, has_duration
from .lexicon import expected_facts, instruction_pattern, is_enumeration, is_yes_no_question
from .retrieve import PolicyRetriever, lexical_terms

FEATURES = [
    "d_unit", "d_unit_z", "d_unit_gap", "d_unit_rank",
    "d_ctx", "d_ctx_z", "d_ctx_gap",
    "d_title", "d_title_z", "has_title",
    "d_chunk", "d_chunk_z", "d_chunk_gap", "d_para", "d_para_z", "d_para_gap", "bm25_para", "bm25_para_rank",
    "bm25_unit", "bm25_unit_rank", "bm25_chunk", "bm25_chunk_rank",
    "lexical", "concept", "key_own", "key_ctx", "key_frac", "key_policy", "q_keys", "q_concepts", "q_domain",
    "exp_duration", "has_duration", "exp_date", "has_date", "exp_email", "has_email", "exp_list", "is_list",
    "fact_match", "position", "log_len", "log_units", "cross_language", "yes_no",
    # the other embedders (mean of their similarities); missing (NaN) when only one is configured:
    # the ranker is trained with and without them (scripts/train.py)
    "d_alt", "d_alt_z", "d_alt_gap", "d_alt_rank", "d_alt_para", "d_alt_para_z",
]


@dataclass
class UnitTable:
    """Every citable unit of one company's policy with what its features need, computed once."""

    spans: list[tuple[int, int]]
    texts: list[str]
    sections: list[str]
    chunk_of: np.ndarray  # index of the unit's chunk in retriever.passages(company)
    para_of: np.ndarray  # index of the unit's paragraph (units between blank lines, within a section)
    para_vectors: np.ndarray
    para_bm25: object
    own: list[frozenset]  # concepts of the unit
    context: list[frozenset]  # concepts of its section title and the sentence before
    terms: list[frozenset]
    vectors: np.ndarray  # unit embeddings (first embedder), normalised
    alt_vectors: dict[str, np.ndarray]  # the other embedders' unit embeddings (when built), normalised
    alt_para_vectors: dict[str, np.ndarray]
    ctx_vectors: np.ndarray  # the unit with its neighbours in the section, normalised
    has_duration: np.ndarray
    has_date: np.ndarray
    has_email: np.ndarray
    is_list: np.ndarray
    position: np.ndarray
    log_len: np.ndarray
    bm25: object  # over units, stemmed words with the section title
    planted: np.ndarray  # the unit speaks to an AI assistant (rag/lexicon.py instruction_pattern): never evidence
    named: frozenset = frozenset()  # every concept the policy names anywhere (the units and their contexts)


_tables: dict[tuple, UnitTable] = {}
_tables_lock = threading.Lock()


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def unit_table(retriever: PolicyRetriever, company: str) -> UnitTable:
    key = (retriever.manifest["build"], id(retriever), company)
    with _tables_lock:
        if key in _tables:
            return _tables[key]
    import bm25s

    source = retriever.source_text(company)
    language = retriever.companies()[company].get("language", "en")
    stored = retriever.unit_vectors(company)
    rows = []
    for ci, p in enumerate(retriever.passages(company)):
        for s, e in p.units:
            rows.append((s, e, source[s:e], p.section, ci))
    texts = [r[2] for r in rows]
    sections = [r[3] for r in rows]
    dim = len(next(iter(stored.values()))) if stored else 1
    vectors = np.stack([stored[(s, e)] for s, e, *_ in rows]).astype(np.float32) if rows \
        else np.zeros((0, dim), dtype=np.float32)
    ctx = vectors.copy()
    for i in range(len(rows)):
        for j in (i - 1, i + 1):
            if 0 <= j < len(rows) and sections[j] == sections[i]:
                ctx[i] += 0.5 * vectors[j]
    terms = [lexical_terms(f"{sections[i]} {t}", language) for i, t in enumerate(texts)]
    bm25 = bm25s.BM25()
    if rows:
        bm25.index([t or ["§none"] for t in terms], show_progress=False)
    # Paragraphs: a policy's own grouping of sentences (a blank line, or a new section, starts one).
    para_of = np.zeros(len(rows), dtype=int)
    for i in range(1, len(rows)):
        gap = source[rows[i - 1][1]:rows[i][0]]
        para_of[i] = para_of[i - 1] + (1 if "\n\n" in gap.replace("\r", "") or sections[i] != sections[i - 1] else 0)
    n_para = int(para_of.max()) + 1 if rows else 0
    para_vectors = np.zeros((n_para, vectors.shape[1]), dtype=np.float32)
    np.add.at(para_vectors, para_of, vectors)
    para_terms = [[] for _ in range(n_para)]
    for i, ts in enumerate(terms):
        para_terms[para_of[i]].extend(ts)
    alt_vectors, alt_para_vectors = {}, {}
    for name, by_span in retriever.alt_unit_vectors(company).items():
        if rows and all((s, e) in by_span for s, e, *_ in rows):
            alt = _normalise_rows(np.stack([by_span[(s, e)] for s, e, *_ in rows]).astype(np.float32))
            paras = np.zeros((n_para, alt.shape[1]), dtype=np.float32)
            np.add.at(paras, para_of, alt)
            alt_vectors[name], alt_para_vectors[name] = alt, _normalise_rows(paras)
    para_bm25 = bm25s.BM25()
    if rows:
        para_bm25.index([t or ["§none"] for t in para_terms], show_progress=False)
    n_chars = max(1, len(source))
    table = UnitTable(
        spans=[(s, e) for s, e, *_ in rows], texts=texts, sections=sections,
        chunk_of=np.array([r[4] for r in rows], dtype=int),
        para_of=para_of, para_vectors=_normalise_rows(para_vectors) if rows else para_vectors, para_bm25=para_bm25,
        own=[frozenset(concepts_in(t)) for t in texts],
        # Context: the section title, and the sentence before ("op deze manier" refers back to it).
        context=[frozenset(concepts_in(sections[i]) | (concepts_in(texts[i - 1]) if i and sections[i - 1] == sections[i]
                                                       else set())) for i in range(len(rows))],
        terms=[frozenset(t for t in ts if not t.startswith("§")) for ts in terms],
        vectors=vectors, alt_vectors=alt_vectors, alt_para_vectors=alt_para_vectors, ctx_vectors=_normalise_rows(ctx) if rows else ctx,
        has_duration=np.array([has_duration(t) for t in texts], dtype=float),
        has_date=np.array([bool(dates(t)) for t in texts], dtype=float),
        has_email=np.array([bool(emails(t)) for t in texts], dtype=float),
        is_list=np.array([is_enumeration(t) for t in texts], dtype=float),
        position=np.array([s / n_chars for s, *_ in rows], dtype=float),
        log_len=np.array([math.log1p(len(t)) for t in texts], dtype=float),
        bm25=bm25,
        planted=np.array([bool(instruction_pattern().search(t)) for t in texts], dtype=bool),
    )
    table.named = frozenset().union(*table.own, *table.context)
    with _tables_lock:
        _tables[key] = table
    return table


def _relative(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z-score, gap to the best, and rank (0 = best) of a score within the policy."""
    if len(x) == 0:
        return x, x, x
    std = float(x.std()) or 1.0
    order = np.argsort(-x, kind="stable")
    rank = np.empty(len(x))
    rank[order] = np.arange(len(x))
    return (x - x.mean()) / std, x - x.max(), np.log1p(rank)


def _bm25_scores(bm25, terms: list[str], n: int) -> np.ndarray:
    if not terms or n == 0:
        return np.zeros(n)
    scores = np.asarray(bm25.get_scores(terms), dtype=float)
    top = scores.max() if len(scores) else 0.0
    return scores / top if top > 0 else scores


def _overlap(q_key: set, q_other: set, own: frozenset, context: frozenset) -> float:
    """Share of the question's concepts found in the unit (its context counts half); topic concepts
    count twice. A plain count-based signal: the model decides how much it matters."""
    weight = 2 * len(q_key) + len(q_other)
    if not weight:
        return 0.0
    got = sum(w * (len(c & own) + 0.5 * len(c & (context - own))) for c, w in ((q_key, 2), (q_other, 1)))
    return got / weight


@dataclass
class QuestionView:
    """What the features need from the question, computed once per question."""

    text: str
    language: str
    vectors: dict[str, np.ndarray]  # per embedder
    concepts: set
    keys: set
    expects: set
    yes_no: bool
    domain: float = 0.0  # how much the question reads like a privacy question (domain_similarity)


_QUERY_VECTORS: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_QUERY_VECTORS_MAX = 512
_query_lock = threading.Lock()


def query_vector(name: str, embedder, question: str) -> np.ndarray:
    """The embedder's vector of a question, remembered (LRU): one question asked of several companies
    (the compare table) or the same checklist asked of every policy (the fact card) is embedded once.
    A query embedding costs 10-150 ms on two idle cores and seconds on a busy machine."""
    key = (name, question)
    with _query_lock:
        if key in _QUERY_VECTORS:
            _QUERY_VECTORS.move_to_end(key)
            return _QUERY_VECTORS[key]
    vector = np.asarray(embedder.embed_query(question), dtype=np.float32)
    vector.flags.writeable = False  # shared between callers
    with _query_lock:
        _QUERY_VECTORS[key] = vector
        while len(_QUERY_VECTORS) > _QUERY_VECTORS_MAX:
            _QUERY_VECTORS.popitem(last=False)
    return vector


_DOMAIN_VECTORS: dict[str, np.ndarray] = {}


def domain_prototypes(name: str, embedder) -> np.ndarray:
    """The fact card's 19 item questions in 4 languages (rag/data/card_items.json), embedded once per
    embedder and normalised: what domain_similarity compares a question with."""
    with _query_lock:
        prototypes = _DOMAIN_VECTORS.get(name)
    if prototypes is None:
        from .card import card_items  # the card's data file and its one loader; imported late (card -> chain -> here)

        texts = [text for item in card_items() for text in item["question"].values()]
        # embedded directly, not through query_vector: 76 prototypes would take that cache's room from questions
        prototypes = _normalise_rows(np.array([embedder.embed_query(t) for t in texts], dtype=np.float32))
        with _query_lock:
            _DOMAIN_VECTORS[name] = prototypes
    return prototypes


def domain_similarity(name: str, embedder, vector: np.ndarray) -> float:
    """The question's best cosine similarity with the fact card's item questions (domain_prototypes):
    a policy-independent sense of whether it is a privacy question at all. "What is the recipe for a
    chocolate cake?" lands near a policy's cookie sentence, but far from every privacy question; an
    in-domain question the policy is silent on stays near one. Computed with the unit embedder only
    (the first, in every store the models are trained on)."""
    prototypes = domain_prototypes(name, embedder)
    v = np.asarray(vector, dtype=np.float32)
    return float((prototypes @ (v / max(float(np.linalg.norm(v)), 1e-12))).max())


def view_question(retriever: PolicyRetriever, question: str, language: str) -> QuestionView:
    embedders = retriever.embedders()
    vectors = {name: query_vector(name, e, question) for name, e in embedders.items()}
    concepts = question_concepts(question)
    unit = retriever.unit_embedder_name
    return QuestionView(question, language, vectors, concepts, key_concepts(concepts),
                        expected_facts(question, concepts), is_yes_no_question(question, language),
                        domain_similarity(unit, embedders[unit], vectors[unit]))


def candidate_features(retriever: PolicyRetriever, company: str, q: QuestionView) -> tuple[UnitTable, np.ndarray]:
    """The unit table of the company and its feature matrix for the question (rows = units)."""
    table = unit_table(retriever, company)
    n = len(table.spans)
    if n == 0:
        return table, np.zeros((0, len(FEATURES)))
    policy_language = retriever.companies()[company].get("language", "en")
    q_unit = q.vectors[retriever.unit_embedder_name]
    d_unit = table.vectors @ q_unit
    d_ctx = table.ctx_vectors @ q_unit
    titles = retriever.title_vectors(company)
    title_sim = {t: float(v @ q_unit) for t, v in titles.items()}
    d_title = np.array([title_sim.get(s, 0.0) for s in table.sections])
    has_title = np.array([1.0 if s in title_sim else 0.0 for s in table.sections])
    chunk_sims = [retriever.chunk_vectors(company, name) @ v for name, v in q.vectors.items()]
    d_chunk_all = np.mean(chunk_sims, axis=0)
    d_chunk = d_chunk_all[table.chunk_of]
    q_terms_all = lexical_terms(q.text, policy_language, question=True)
    q_terms = {t for t in q_terms_all if not t.startswith("§")}
    d_para = (table.para_vectors @ q_unit)[table.para_of]
    bm25_para = _bm25_scores(table.para_bm25, q_terms_all, len(table.para_vectors))[table.para_of]
    bm25_unit = _bm25_scores(table.bm25, q_terms_all, n)
    bm25_chunk_all = _bm25_scores(retriever.bm25(company), q_terms_all, len(d_chunk_all))
    bm25_chunk = bm25_chunk_all[table.chunk_of]
    q_other = q.concepts - q.keys
    lexical = np.array([len(q_terms & t) / len(q_terms) if q_terms else 0.0 for t in table.terms])
    concept = np.array([_overlap(q.keys, q_other, o, c) for o, c in zip(table.own, table.context)])
    key_own = np.array([1.0 if q.keys & o else 0.0 for o in table.own])
    key_ctx = np.array([1.0 if q.keys & c else 0.0 for c in table.context])
    # the share of the question's key topics a unit names, and that the whole policy names anywhere:
    # a question about a DPO is not answered by a contact line when the policy never names a DPO
    key_frac = np.array([len(q.keys & o) / len(q.keys) if q.keys else 0.0 for o in table.own])
    key_policy = len(q.keys & table.named) / len(q.keys) if q.keys else 0.0
    exp = {k: float(k in q.expects) for k in ("duration", "date", "email", "list")}
    fact_match = np.clip(exp["duration"] * table.has_duration + exp["date"] * table.has_date
                         + exp["email"] * table.has_email + exp["list"] * table.is_list, 0, 1)
    du_z, du_gap, du_rank = _relative(d_unit)
    dc_z, dc_gap, _ = _relative(d_ctx)
    dt_z, _, _ = _relative(d_title)
    dk_z, dk_gap, _ = _relative(d_chunk)
    dp_z, dp_gap, _ = _relative(d_para)
    _, _, bp_rank = _relative(bm25_para)
    _, _, bu_rank = _relative(bm25_unit)
    _, _, bk_rank = _relative(bm25_chunk)
    const = lambda v: np.full(n, float(v))  # noqa: E731
    alt_names = [name for name in table.alt_vectors if name in q.vectors]
    if alt_names:
        d_alt = np.mean([table.alt_vectors[a] @ q.vectors[a] for a in alt_names], axis=0)
        d_alt_para = np.mean([(table.alt_para_vectors[a] @ q.vectors[a])[table.para_of] for a in alt_names], axis=0)
        da_z, da_gap, da_rank = _relative(d_alt)
        dap_z, _, _ = _relative(d_alt_para)
    else:
        d_alt = d_alt_para = da_z = da_gap = da_rank = dap_z = const(np.nan)
    columns = {
        "d_unit": d_unit, "d_unit_z": du_z, "d_unit_gap": du_gap, "d_unit_rank": du_rank,
        "d_ctx": d_ctx, "d_ctx_z": dc_z, "d_ctx_gap": dc_gap,
        "d_title": d_title, "d_title_z": dt_z, "has_title": has_title,
        "d_chunk": d_chunk, "d_chunk_z": dk_z, "d_chunk_gap": dk_gap,
        "d_para": d_para, "d_para_z": dp_z, "d_para_gap": dp_gap, "bm25_para": bm25_para, "bm25_para_rank": bp_rank,
        "bm25_unit": bm25_unit, "bm25_unit_rank": bu_rank, "bm25_chunk": bm25_chunk, "bm25_chunk_rank": bk_rank,
        "lexical": lexical, "concept": concept, "key_own": key_own, "key_ctx": key_ctx,
        "key_frac": key_frac, "key_policy": const(key_policy),
        "q_keys": const(len(q.keys)), "q_concepts": const(len(q.concepts)), "q_domain": const(q.domain),
        "exp_duration": const(exp["duration"]), "has_duration": table.has_duration,
        "exp_date": const(exp["date"]), "has_date": table.has_date,
        "exp_email": const(exp["email"]), "has_email": table.has_email,
        "exp_list": const(exp["list"]), "is_list": table.is_list,
        "fact_match": fact_match, "position": table.position, "log_len": table.log_len,
        "log_units": const(math.log(n)), "cross_language": const(q.language != policy_language),
        "yes_no": const(q.yes_no),
        "d_alt": d_alt, "d_alt_z": da_z, "d_alt_gap": da_gap, "d_alt_rank": da_rank,
        "d_alt_para": d_alt_para, "d_alt_para_z": dap_z,
    }
    return table, np.column_stack([columns[name] for name in FEATURES]).astype(np.float32)
