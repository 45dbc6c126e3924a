"""Earlier versions of each policy, kept by `index build` so that `rag diff` can say what changed.

The index itself (Chroma) holds only the newest text of each company: answers and search use that.
Every text the builder has seen is also kept here, as plain files next to the store:

    <store>/versions/<company>/<n>-<sha12>.txt     the source text of version n (what citations point into)
    <store>/versions/<company>/versions.json       [{"n", "sha256", "date", "source", "kind", "file", "chars"}]

With a Chroma server (PLAINPOLICY_CHROMA_URL) the folder is the same `<PLAINPOLICY_STORE>/versions`
on the machine that runs the build: versions are files, not Chroma records, so that they survive
a rebuild of the collections and can be read (and backed up) without a server.

Writes are atomic (temp file + rename, text before manifest) and serialised by a lock file, so a
build that dies half-way leaves every manifest listing only complete files. A text whose sha256 is
the newest version's adds nothing: re-running a build is idempotent.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
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


def _company_dir(settings: Settings, company: str) -> Path:
    if not COMPANY_ID.match(company or ""):  # never a path outside the versions folder
        raise VersionError(f"invalid company id {company!r}")
    return versions_root(settings) / company


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:  # newline="": offsets stay exact
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(root: Path):
    """One writer at a time (a CLI build and an upload in the app may run together)."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_manifest(folder: Path, company: str) -> list[Version]:
    path = folder / MANIFEST
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise VersionError(f"the version list of {company} is unreadable ({path}): {exc}") from None
    # a row whose text file is missing (deleted by hand) is not a version we can show
    return [Version(company=company, **row) for row in rows if (folder / row.get("file", "")).is_file()]


def list_versions(settings: Settings, company: str) -> list[Version]:
    """Oldest first; empty when no build has recorded this company yet."""
    return _read_manifest(_company_dir(settings, company), company)


def record_version(settings: Settings, company: str, text: str, sha256: str, source: str, kind: str,
                   date: str | None = None) -> Version | None:
    """Keep `text` as the newest version of `company` unless it already is. Returns the new
    Version, or None when nothing changed."""
    folder = _company_dir(settings, company)
    with _locked(versions_root(settings)):
        kept = _read_manifest(folder, company)
        if kept and kept[-1].sha256 == sha256:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        n = (kept[-1].n if kept else 0) + 1
        version = Version(company=company, n=n, sha256=sha256,
                          date=date or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          source=source, kind=kind, file=f"{n}-{sha256[:12]}.txt", chars=len(text))
        _atomic_write(folder / version.file, text)  # the text first: the manifest never lists a missing file
        rows = [{k: v for k, v in vars(x).items() if k != "company"} for x in [*kept, version]]
        _atomic_write(folder / MANIFEST, json.dumps(rows, ensure_ascii=False, indent=1))
        return version


def version_text(settings: Settings, version: Version) -> str:
    path = _company_dir(settings, version.company) / version.file
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


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
