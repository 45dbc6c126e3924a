"""Earlier versions of each policy, kept by `index build` so that `rag diff` can say what changed.

The index itself (Chroma) holds only the newest text of each company: answers and search use that.
Every text the builder has seen is also kept here. With the local store, as plain files next to it:

    <store>/versions/<company>/<n>-<sha12>.txt     the source text of version n (what citations point into)
    <store>/versions/<company>/versions.json       [{"n", "sha256", "date", "source", "kind", "file", "chars"}]

written atomically (temp file + rename, text before list) and serialised by a lock file, so a
build that dies half-way leaves every list naming only complete files. With a Chroma server
(PLAINPOLICY_CHROMA_URL) server mode writes nothing locally: the same two things are records of the
server's `plainpolicy_meta` collection (`version:<company>:<file>` texts, `versions:<company>` the
list, text upserted before list), shared by every machine that uses the server; there a lock only
serialises the builds of one process.

A text whose sha256 is the newest version's adds nothing: re-running a build is idempotent.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .load import COMPANY_ID
from .settings import Settings

VERSIONS_DIR = "versions"
MANIFEST = "versions.json"


class VersionError(ValueError):
    """Unknown company or version: the message says which ones exist, in one line."""


@dataclass(frozen=True)
class Version:
    company: str
    n: int  # 1 = the oldest kept
    sha256: str
    date: str  # UTC, ISO 8601: when a build first saw this text
    source: str  # the policy file it came from (as citations name it)
    kind: str  # txt | md | html | pdf
    file: str  # file name inside the company's folder
    chars: int

    def to_json(self) -> dict:
        return {"n": self.n, "sha256": self.sha256, "date": self.date, "source": self.source,
                "kind": self.kind, "chars": self.chars}


def versions_root(settings: Settings) -> Path:
    return Path(settings.store_dir) / VERSIONS_DIR


def _check_company(company: str) -> str:
    if not COMPANY_ID.match(company or ""):  # never a path outside the versions folder
        raise VersionError(f"invalid company id {company!r}")
    return company


class _Files:
    """The local store's versions: files under <store>/versions/<company>/."""

    def __init__(self, settings: Settings):
        self.root = versions_root(settings)

    def read_list(self, company: str) -> str | None:
        path = self.root / company / MANIFEST
        return path.read_text(encoding="utf-8") if path.exists() else None

    def has_text(self, company: str, file: str) -> bool:
        return bool(file) and (self.root / company / file).is_file()

    def read_text(self, company: str, file: str) -> str:
        with open(self.root / company / file, encoding="utf-8", newline="") as f:  # offsets stay exact
            return f.read()

    def write_text(self, company: str, file: str, text: str) -> None:
        (self.root / company).mkdir(parents=True, exist_ok=True)
        _atomic_write(self.root / company / file, text)

    def write_list(self, company: str, document: str) -> None:
        _atomic_write(self.root / company / MANIFEST, document)

    @contextlib.contextmanager
    def locked(self):
        """One writer at a time (a CLI build and an upload in the app may run together)."""
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


_server_lock = threading.Lock()


class _ServerRecords:
    """A Chroma server's versions: records of its meta collection (nothing is written locally)."""

    def __init__(self, settings: Settings):
        from .store import PolicyStore

        self.meta = PolicyStore(settings).meta

    def _get(self, record_id: str) -> str | None:
        got = self.meta.get(ids=[record_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def read_list(self, company: str) -> str | None:
        return self._get(f"versions:{company}")

    def has_text(self, company: str, file: str) -> bool:
        return bool(file) and bool(self.meta.get(ids=[f"version:{company}:{file}"], include=[])["ids"])

    def read_text(self, company: str, file: str) -> str:
        text = self._get(f"version:{company}:{file}")
        if text is None:
            raise VersionError(f"version {file} of {company} is missing on the Chroma server")
        return text

    def write_text(self, company: str, file: str, text: str) -> None:
        self.meta.upsert(ids=[f"version:{company}:{file}"], documents=[text], embeddings=[[1.0]])

    def write_list(self, company: str, document: str) -> None:
        self.meta.upsert(ids=[f"versions:{company}"], documents=[document], embeddings=[[1.0]])

    @contextlib.contextmanager
    def locked(self):
        with _server_lock:
            yield


def _backend(settings: Settings):
    return _ServerRecords(settings) if settings.chroma_url else _Files(settings)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:  # newline="": offsets stay exact
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_list(backend, company: str) -> list[Version]:
    document = backend.read_list(company)
    if document is None:
        return []
    try:
        rows = json.loads(document)
    except json.JSONDecodeError as exc:
        raise VersionError(f"the version list of {company} is unreadable: {exc}") from None
    # a row whose text is missing (deleted by hand) is not a version we can show
    return [Version(company=company, **row) for row in rows if backend.has_text(company, row.get("file", ""))]


def list_versions(settings: Settings, company: str) -> list[Version]:
    """Oldest first; empty when no build has recorded this company yet."""
    return _read_list(_backend(settings), _check_company(company))


def record_version(settings: Settings, company: str, text: str, sha256: str, source: str, kind: str,
                   date: str | None = None) -> Version | None:
    """Keep `text` as the newest version of `company` unless it already is. Returns the new
    Version, or None when nothing changed."""
    backend = _backend(settings)
    _check_company(company)
    with backend.locked():
        kept = _read_list(backend, company)
        if kept and kept[-1].sha256 == sha256:
            return None
        n = (kept[-1].n if kept else 0) + 1
        version = Version(company=company, n=n, sha256=sha256,
                          date=date or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          source=source, kind=kind, file=f"{n}-{sha256[:12]}.txt", chars=len(text))
        backend.write_text(company, version.file, text)  # the text first: the list never names a missing text
        rows = [{k: v for k, v in vars(x).items() if k != "company"} for x in [*kept, version]]
        backend.write_list(company, json.dumps(rows, ensure_ascii=False, indent=1))
        return version


def version_text(settings: Settings, version: Version) -> str:
    return _backend(settings).read_text(_check_company(version.company), version.file)


def pick_version(versions: list[Version], company: str, n: int | str | None, default: int) -> Version:
    """Version `n` (1-based; negative counts from the newest, -1 = newest), or versions[default]."""
    if not versions:
        raise VersionError(f"no versions of {company} are kept yet: run `python -m index build`")
    if n is None or n == "":
        return versions[default]
    if isinstance(n, str):
        if not re.fullmatch(r"-?\d+", n.strip()):
            raise VersionError(f"version must be a number, not {n!r}")
        n = int(n)
    known = ", ".join(str(v.n) for v in versions)
    if n < 0 and -n <= len(versions):
        return versions[n]
    for v in versions:
        if v.n == n:
            return v
    raise VersionError(f"unknown version {n} of {company} (known: {known})")
