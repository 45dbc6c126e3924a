"""The policy folder as `index build` reads it: the policy files at its top, and the uploads of each
browser session under `uploads/<owner>/`, each parsed in a worker process with a time limit.

An upload belongs to the session that made it: its company id carries the owner's tag
(`u<owner>-<stem>`) and its manifest entry an `owner`, by which the UI lists it for that session
only (unless PLAINPOLICY_SHARED_UPLOADS=1, when uploads go to the top of the folder like any policy).
"""
from __future__ import annotations

import re
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Callable

from .file_worker import ParsedPolicy, parse_files
from .load import COMPANY_ID, UnreadablePolicy, company_id, policy_files
from .settings import Settings

UPLOADS_DIR = "uploads"
OWNER = re.compile(r"^[a-f0-9]{8,32}$")
TITLE_CHARS = 80


def new_owner() -> str:
    """A tag for one browser session's uploads: random, so another session cannot guess it."""
    return secrets.token_hex(8)


def check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not OWNER.match(owner):
        raise UnreadablePolicy("invalid upload owner tag")
    return owner


def upload_company_id(owner: str, path: Path) -> str:
    """The company id of an upload: the owner's tag and the file's stem (both checked)."""
    cid = f"u{check_owner(owner)[:8]}-{company_id(path)}"[:64].rstrip("-_")
    if not COMPANY_ID.match(cid):
        raise UnreadablePolicy(f"{path.name}: file name must be letters, digits, '-' or '_'")
    return cid


def upload_folder(policies_dir: Path, owner: str) -> Path:
    return Path(policies_dir) / UPLOADS_DIR / check_owner(owner)


def policy_title(text: str) -> str | None:
    """The policy's own title, when its first line reads like one (short, no sentence end)."""
    for line in text.splitlines():
        line = " ".join(line.replace("#", " ").split()).strip(" *_=")
        if not line:
            continue
        if len(line) <= TITLE_CHARS and re.search(r"[^\W\d_]{3}", line) and not line.endswith((".", ",", ";", ":")):
            return line
        return None
    return None


def _discover(folder: Path) -> list[tuple[Path, str | None]]:
    """(file, owner) for the top-level policies and every session's uploads."""
    found: list[tuple[Path, str | None]] = [(p, None) for p in policy_files(folder)]
    uploads = folder / UPLOADS_DIR
    if uploads.is_dir():
        for owner_dir in sorted(uploads.iterdir()):
            if owner_dir.is_dir() and OWNER.match(owner_dir.name):
                found += [(p, owner_dir.name) for p in policy_files(owner_dir)]
    return found


def folder_digest(folder: Path, settings: Settings) -> str | None:
    """One hash of every file `index build` would read (names and bytes), the metadata file and the
    settings that decide what a file becomes: equal digests, equal index."""
    import hashlib

    folder = Path(folder)
    if not folder.is_dir():
        return None
    h = hashlib.sha256(f"{settings.chunk_tokens}\0{settings.file_timeout}\0".encode())
    try:
        for path, owner in _discover(folder) + [(folder / "policies.json", None)]:
            if path.is_file():
                h.update(f"{owner}\0{path.relative_to(folder)}\0".encode("utf-8", "surrogateescape"))
                h.update(hashlib.sha256(path.read_bytes()).digest())
    except OSError:  # a file that cannot be read: the full build says which one
        return None
    return h.hexdigest()


def read_folder(folder: Path, settings: Settings, warn: Callable[[str], None]) -> tuple[list[ParsedPolicy], list[str]]:
    """Every usable policy of the folder, parsed; one line per file that was skipped, and why."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UnreadablePolicy(f"no policy folder at {folder}")
    files = _discover(folder)
    parsed: list[ParsedPolicy] = []
    skipped: list[str] = []
    seen: dict[str, str] = {}

    def skip(message: str) -> None:
        skipped.append(message)
        warn(f"skipped {message}")

    owners = {path: owner for path, owner in files}
    results = parse_files([path for path, _ in files], settings.chunk_tokens, settings.file_timeout,
                          settings.parse_workers or None)
    for path, result in results:
        if isinstance(result, str):
            skip(result)
            continue
        owner = owners[path]
        if owner:
            result = _as_upload(result, owner, path)
        company = result.policy.company
        if company in seen:
            skip(f"{path.name}: company id {company!r} already comes from {seen[company]}")
            continue
        seen[company] = path.name
        parsed.append(result)
    return parsed, skipped


def _as_upload(parsed: ParsedPolicy, owner: str, path: Path) -> ParsedPolicy:
    cid = upload_company_id(owner, path)
    for chunk in parsed.chunks:
        chunk.company = cid
    return replace(parsed, policy=replace(parsed.policy, company=cid), owner=owner,
                   title=policy_title(parsed.policy.text))
