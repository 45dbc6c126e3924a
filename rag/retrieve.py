"""The query side of the index, per company: its chunks (from Chroma) with their vectors per
embedder, the evidence units' and section titles' vectors, and a BM25 index over stemmed words.

Loaded on first use per company and kept (the settings.company_cache most recently used); rag/features.py computes every similarity from these in numpy
(a few hundred rows per policy), and the learned ranker (rag/ranker.py) orders the units.
"""
from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from index.embed import load_embedder

from .concepts import concepts_in, fold, question_concepts
from .lexicon import every_language
from index.settings import Settings
from index.store import PolicyStore, store_errors

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STEMMER_NAMES = {"nl": "dutch", "fr": "french", "en": "english", "de": "german"}


@dataclass
class Passage:
    """A chunk of a policy: a verbatim span of the company's source text."""

    company: str
    chunk_id: str
    text: str
    start: int
    end: int
    section: str
    language: str
    sentences: list[tuple[int, int]]
    units: list[tuple[int, int]] = field(default_factory=list)  # citable spans (index/chunk.py)


# -- text normalisation for the lexical side ----------------------------------------------------
@lru_cache(maxsize=8)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(_STEMMER_NAMES.get(language, "english"))


@lru_cache(maxsize=8)
def _stopwords(language: str) -> frozenset[str]:
    import bm25s.stopwords as sw

    lists = {"nl": sw.STOPWORDS_DUTCH, "fr": sw.STOPWORDS_FRENCH, "en": sw.STOPWORDS_EN, "de": sw.STOPWORDS_GERMAN}
    words = set()
    for lst in lists.values():  # questions and policies mix languages: drop every language's stopwords
        words.update(fold(w) for w in lst)
    # bm25s's lists leave out question words ("what", "how", "who": 33 English words in all), which then
    # carry BM25 weight: "What is the recipe for a cake?" matched "what cookies we use" by "what" alone
    words.update(fold(w) for w in every_language("question_words") if " " not in w and "'" not in w and "’" not in w)
    return frozenset(words)


def lexical_terms(text: str, language: str, question: bool = False) -> list[str]:
    """Stemmed content words plus one '§concept' term per concept, which match across languages."""
    stop = _stopwords(language)
    words = [w for w in _WORD.findall(fold(text)) if w not in stop and len(w) > 1]
    concepts = question_concepts(text) if question else concepts_in(text)
    return _stemmer(language).stemWords(words) + ["§" + c for c in sorted(concepts)]


# -- the per-company index kept in memory --------------------------------------------------------
@dataclass
class _CompanyIndex:
    passages: list[Passage]
    bm25: object
    by_id: dict[str, int]
    unit_vectors: dict[tuple[int, int], np.ndarray]
    alt_unit_vectors: dict[str, dict[tuple[int, int], np.ndarray]]  # the other embedders', when built
    title_vectors: dict[str, np.ndarray]
    chunk_vectors: dict[str, np.ndarray]  # per embedder, rows aligned with passages


class PolicyRetriever:
    """Query side of the index. Thread-safe; caches per company the chunks and the BM25 index."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = PolicyStore(settings)
        self.manifest = self.store.require_manifest()
        # Per-company indexes are loaded on first use and the least recently used dropped beyond
        # settings.company_cache: memory stays bounded with 1,000 companies in the store.
        self._companies: OrderedDict[str, _CompanyIndex] = OrderedDict()
        self._lock = threading.Lock()
        # A manifest of the wrong shape (keys missing) is a damaged store too: say so, not KeyError.
        with store_errors(settings, extra=(KeyError, TypeError, IndexError)):
            names = self.manifest["embedders"]
            self._embedders = {name: load_embedder(name) for name in names}
            self._collections = {name: self.store.chunk_collection(self.manifest["collections"][name]) for name in names}
            self._unit_embedder_name = names[0]
            self._units = self.store.chunk_collection(self.manifest["collections"]["units:" + names[0]])
            # Stores built before every embedder embedded the units have only the first one's.
            self._alt_units = {name: self.store.chunk_collection(self.manifest["collections"]["units:" + name])
                               for name in names[1:] if "units:" + name in self.manifest["collections"]}

    def companies(self) -> dict[str, dict]:
        return self.manifest["companies"]

    def source_text(self, company: str) -> str:
        return self.store.source_text(self.manifest["companies"][company]["sha256"])

    def _company_index(self, company: str) -> _CompanyIndex:
        with self._lock:
            if company in self._companies:
                self._companies.move_to_end(company)
                return self._companies[company]
        with store_errors(self.settings):
            return self._load_company(company)

    def _load_company(self, company: str) -> _CompanyIndex:
        import bm25s

        name = next(iter(self._collections))
        got = self._collections[name].get(where={"company": company}, include=["metadatas"])
        passages = []
        for chunk_id, meta in zip(got["ids"], got["metadatas"]):
            passages.append(Passage(
                company=company, chunk_id=chunk_id, text=meta["text"], start=meta["start"], end=meta["end"],
                section=meta.get("section", ""), language=meta.get("language", ""),
                sentences=[tuple(s) for s in json.loads(meta.get("sentences", "[]"))],
                units=[tuple(u) for u in json.loads(meta.get("units", "[]"))],
            ))
        passages.sort(key=lambda p: p.start)
        language = self.manifest["companies"][company].get("language", "en")
        retriever = bm25s.BM25()
        retriever.index([lexical_terms(f"{p.section}\n{p.text}", language) for p in passages], show_progress=False)
        units = self._units.get(where={"company": company}, include=["metadatas", "embeddings"])
        unit_vectors, title_vectors = {}, {}
        for m, v in zip(units["metadatas"], units["embeddings"]):
            if m.get("kind") == "title":
                title_vectors[m["title"]] = np.asarray(v, dtype=np.float32)
            else:
                unit_vectors[(m["start"], m["end"])] = np.asarray(v, dtype=np.float32)
        alt_unit_vectors = {}
        for emb_name, collection in self._alt_units.items():
            stored = collection.get(where={"company": company}, include=["metadatas", "embeddings"])
            alt_unit_vectors[emb_name] = {(m["start"], m["end"]): np.asarray(v, dtype=np.float32)
                                          for m, v in zip(stored["metadatas"], stored["embeddings"])
                                          if m.get("kind") != "title"}
        by_id = {p.chunk_id: i for i, p in enumerate(passages)}
        chunk_vectors = {}
        for emb_name, collection in self._collections.items():
            stored = collection.get(where={"company": company}, include=["embeddings"])
            matrix = np.zeros((len(passages), len(stored["embeddings"][0]) if len(stored["ids"]) else 1), dtype=np.float32)
            for chunk_id, v in zip(stored["ids"], stored["embeddings"]):
                if chunk_id in by_id:
                    matrix[by_id[chunk_id]] = v
            chunk_vectors[emb_name] = matrix
        index = _CompanyIndex(passages, retriever, by_id, unit_vectors, alt_unit_vectors, title_vectors, chunk_vectors)
        with self._lock:
            self._companies[company] = index
            while len(self._companies) > max(1, self.settings.company_cache):
                self._companies.popitem(last=False)
        return index

    def passages(self, company: str) -> list[Passage]:
        """All chunks of the company's policy in document order."""
        return self._company_index(company).passages

    def embedders(self) -> dict:
        return self._embedders

    @property
    def unit_embedder_name(self) -> str:
        return self._unit_embedder_name

    def chunk_vectors(self, company: str, embedder: str) -> np.ndarray:
        return self._company_index(company).chunk_vectors[embedder]

    def bm25(self, company: str):
        return self._company_index(company).bm25

    def unit_vectors(self, company: str) -> dict[tuple[int, int], np.ndarray]:
        return self._company_index(company).unit_vectors

    def alt_unit_vectors(self, company: str) -> dict[str, dict[tuple[int, int], np.ndarray]]:
        """The units' vectors by the other embedders (name -> span -> vector); empty with one embedder."""
        return self._company_index(company).alt_unit_vectors

    def title_vectors(self, company: str) -> dict[str, np.ndarray]:
        return self._company_index(company).title_vectors


_retrievers: dict[tuple, PolicyRetriever] = {}
_stores: dict[str, PolicyStore] = {}
_retrievers_lock = threading.Lock()


def _live_build(settings: Settings, location: str) -> str:
    """Which build is live: one small read per question (the manifest record's metadata)."""
    with _retrievers_lock:
        store = _stores.get(location)
    for attempt in (0, 1):
        if store is None:
            store = PolicyStore(settings)
        try:
            build = store.live_build() or store.require_manifest()["build"]
            with _retrievers_lock:
                _stores[location] = store
            return build
        except Exception:
            with _retrievers_lock:
                _stores.pop(location, None)
            if attempt:  # a fresh store handle failed too: the error is real
                raise
            store = None  # the store was replaced under us (rebuilt, moved aside): reopen once
    raise AssertionError("unreachable")


def get_retriever(settings: Settings) -> PolicyRetriever:
    """One retriever per store and build: a rebuild (new manifest) gets a fresh one."""
    location = settings.chroma_url or str(settings.store_dir)
    key = (location, _live_build(settings, location))
    with _retrievers_lock:
        if key not in _retrievers:
            for old in [k for k in _retrievers if k[0] == location]:
                del _retrievers[old]  # an older build of this store: its collections are gone
            _retrievers[key] = PolicyRetriever(settings)
        return _retrievers[key]
