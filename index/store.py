"""The Chroma side: a local folder by default, a Chroma server when PLAINPOLICY_CHROMA_URL is set.

Layout inside Chroma:
- `plainpolicy_meta`: the manifest (which chunk collections are live, the companies and their
  metadata) and the source texts citations point into, keyed by their sha256.
- `chunks_<embedder>_<build>`: one collection of chunks per embedder per build. A build writes new
  collections aside and switches by rewriting the manifest in one upsert, so a build that dies
  half-way leaves the previous index answering.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from .settings import Settings

META_COLLECTION = "plainpolicy_meta"
MANIFEST_ID = "manifest"
# Chroma needs an embedding on every record; meta records are never searched.
_NO_VECTOR = [1.0]


class StoreError(RuntimeError):
    """The store is missing, empty or unreachable: the message tells the user what to do."""


REBUILD_HINT = "rebuild it with `python -m index build`"


def _where(settings: Settings) -> str:
    return settings.chroma_url or str(settings.store_dir)


def is_store_failure(exc: BaseException) -> bool:
    """An error raised by Chroma or its SQLite file (malformed database, missing collection, a
    manifest that is not JSON), as opposed to a bug of ours."""
    module = type(exc).__module__ or ""
    return (module.startswith("chromadb") or isinstance(exc, (sqlite3.Error, json.JSONDecodeError))
            or "database disk image" in str(exc))


class DamagedStore(StoreError):
    """The store exists but cannot be read as an index: the message says so and how to rebuild."""


def damaged(settings: Settings, reason: str) -> DamagedStore:
    if not settings.chroma_url:  # reopen from disk next time: another process may rebuild it meanwhile
        _forget_client(settings)
    return DamagedStore(f"the index at {_where(settings)} is damaged ({reason}): {REBUILD_HINT}")


@contextlib.contextmanager
def store_errors(settings: Settings, extra: tuple[type[BaseException], ...] = ()):
    """Turn a damaged store's errors into one StoreError that says so and how to fix it. `extra`:
    exception types that, inside this block, can only mean a manifest of the wrong shape."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        if not (is_store_failure(exc) or isinstance(exc, extra)):
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise damaged(settings, f"{type(exc).__name__}: {first}") from None


def _client_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def make_client(settings: Settings, create: bool = False):
    """One Chroma client per location and process (Chroma dislikes several on one folder)."""
    import chromadb

    if settings.chroma_url:
        key = settings.chroma_url
    else:
        path = Path(settings.store_dir)
        if not create and not (path / "chroma.sqlite3").exists():
            raise StoreError(f"no index at {path}: run `python -m index build` first")
        key = str(path.resolve())
    with _clients_lock:
        if key not in _clients:
            if settings.chroma_url:
                url = urlparse(settings.chroma_url)
                try:
                    client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                                 ssl=url.scheme == "https", settings=_client_settings())
                    client.heartbeat()
                except Exception as exc:  # connection refused, DNS, TLS...
                    raise StoreError(f"cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__})") from None
            else:
                Path(key).mkdir(parents=True, exist_ok=True)
                try:
                    client = chromadb.PersistentClient(path=key, settings=_client_settings())
                except Exception:
                    _drop_chroma_system(key)  # or every later try in this process fails the same way
                    raise
            _clients[key] = client
        return _clients[key]


def _drop_chroma_system(key: str) -> None:
    """Chroma keeps one shared "system" per folder for the whole process, and a client that failed
    to open (a malformed SQLite file) leaves it behind stopped: every later client on that path
    would fail the same way (chromadb 1.5). Dropping it lets the next try start afresh."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(key, None)
    SharedSystemClient._identifier_to_refcount.pop(key, None)


def _forget_client(settings: Settings) -> None:
    key = str(Path(settings.store_dir).resolve())
    with _clients_lock:
        _clients.pop(key, None)
    _drop_chroma_system(key)


def open_for_build(settings: Settings, warn) -> tuple["PolicyStore", dict | None]:
    """The store and its live manifest, for `index build`. A damaged local store is moved aside
    (kept, not deleted: it may be someone's only copy) and a new one is built in its place, which is
    the fix every 'damaged' message suggests. A damaged Chroma server is for its operator."""
    try:
        store = PolicyStore(settings, create=True)
        return store, store.manifest()
    except StoreError as exc:
        if settings.chroma_url or not isinstance(exc, DamagedStore):
            raise
    _forget_client(settings)
    folder = Path(settings.store_dir)
    aside = folder.with_name(f"{folder.name}.damaged-{time.strftime('%Y%m%d%H%M%S')}")
    folder.rename(aside)
    warn(f"the index at {folder} was damaged: moved aside to {aside}; building a new one")
    return PolicyStore(settings, create=True), None


class PolicyStore:
    """Read access to a built index, plus the low-level writes the builder needs."""

    def __init__(self, settings: Settings, create: bool = False):
        self.settings = settings
        with store_errors(settings):
            self.client = make_client(settings, create=create)
            self.meta = self.client.get_or_create_collection(META_COLLECTION, embedding_function=None)

    # -- manifest ---------------------------------------------------------------------------
    def manifest(self) -> dict | None:
        with store_errors(self.settings):
            got = self.meta.get(ids=[MANIFEST_ID], include=["documents"])
            manifest = json.loads(got["documents"][0]) if got["ids"] else None
        if manifest is not None and not isinstance(manifest, dict):
            raise damaged(self.settings, "its manifest is not an object")
        return manifest

    def require_manifest(self) -> dict:
        manifest = self.manifest()
        if not manifest or not manifest.get("companies"):
            where = self.settings.chroma_url or self.settings.store_dir
            raise StoreError(f"the index at {where} is empty: run `python -m index build` first")
        return manifest

    def write_manifest(self, manifest: dict) -> None:
        # The build id also as metadata: readers check which build is live without fetching the
        # whole manifest (hundreds of KB with 1,000 companies) on every question.
        self.meta.upsert(ids=[MANIFEST_ID], documents=[json.dumps(manifest)], embeddings=[_NO_VECTOR],
                         metadatas=[{"build": str(manifest.get("build", ""))}])

    def live_build(self) -> str | None:
        """The live build's id from the manifest record's metadata (None: an older store without it)."""
        with store_errors(self.settings):
            got = self.meta.get(ids=[MANIFEST_ID], include=["metadatas"])
        metadata = (got.get("metadatas") or [None])[0] if got["ids"] else None
        return (metadata or {}).get("build") or None

    # -- source texts -----------------------------------------------------------------------
    def put_source(self, sha256: str, text: str) -> None:
        self.meta.upsert(ids=[f"source:{sha256}"], documents=[text], embeddings=[_NO_VECTOR])

    def source_ids(self) -> list[str]:
        return [i for i in self.meta.get(include=[])["ids"] if i.startswith("source:")]

    def delete_meta(self, ids: list[str]) -> None:
        if ids:
            self.meta.delete(ids=ids)

    def source_text(self, sha256: str) -> str:
        return _cached_source(self, sha256)

    # -- companies --------------------------------------------------------------------------
    def companies(self) -> dict[str, dict]:
        return self.require_manifest()["companies"]

    def company(self, company: str) -> dict:
        companies = self.companies()
        if company not in companies:
            known = ", ".join(sorted(companies))
            raise StoreError(f"unknown company {company!r} (known: {known})")
        return companies[company]

    # -- chunk collections ------------------------------------------------------------------
    def chunk_collection(self, name: str):
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            if is_store_failure(exc):
                raise damaged(self.settings, f"its manifest names collection {name!r}, which is missing") from None
            raise

    def new_chunk_collection(self, name: str):
        return self.client.create_collection(name, embedding_function=None,
                                             configuration={"hnsw": {"space": "cosine"}})

    def collection_names(self) -> list[str]:
        return [c.name for c in self.client.list_collections()]

    def drop_collection(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception:  # already gone (another build cleaned it): nothing to do
            pass


def _cached_source(store: PolicyStore, sha256: str) -> str:
    key = (id(store.client), sha256)
    with _source_lock:
        if key in _source_cache:
            return _source_cache[key]
    got = store.meta.get(ids=[f"source:{sha256}"], include=["documents"])
    if not got["ids"]:
        raise StoreError("the index refers to a source text it does not hold: rebuild with `python -m index build`")
    with _source_lock:
        _source_cache[key] = got["documents"][0]
    return got["documents"][0]


_source_cache: dict = {}
_source_lock = threading.Lock()
