"""Read policy files (.txt, .md, .html, .pdf) into their source text.

The source text is what citations point into. For .txt/.md it is the file itself; for .html and
.pdf it is the extracted main text, which the index keeps, so that every citation stays checkable.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
COMPANY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class UnreadablePolicy(ValueError):
    """A policy file that cannot be used: the message says why, in one line."""


@dataclass(frozen=True)
class PolicyText:
    company: str
    path: Path
    kind: str  # txt | md | html | pdf
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def company_id(path: Path) -> str:
    """A company id is the file stem, lower-cased; anything that could escape a folder is refused."""
    stem = path.stem.lower().replace(" ", "-")
    if not COMPANY_ID.match(stem):
        raise UnreadablePolicy(f"{path.name}: file name must be letters, digits, '-' or '_' (it becomes the company id)")
    return stem


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadablePolicy(f"{name}: not a text file (cannot decode as UTF-8 or Windows-1252)")


def _html_text(data: bytes, name: str) -> str:
    import trafilatura  # heavy import: only when an HTML file shows up

    html = _decode(data, name)
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    return text or ""


def _pdf_text(data: bytes, name: str) -> str:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadablePolicy(f"{name}: not a readable PDF ({type(exc).__name__})") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())


def read_policy_bytes(data: bytes, filename: str) -> PolicyText:
    """Turn an uploaded or on-disk file into a PolicyText, or raise UnreadablePolicy."""
    path = Path(filename)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadablePolicy(f"{path.name}: unsupported file type (use {', '.join(SUPPORTED_SUFFIXES)})")
    company = company_id(path)
    if suffix == ".pdf":
        text = _pdf_text(data, path.name)
    elif suffix in (".html", ".htm"):
        text = _html_text(data, path.name)
    else:
        text = _decode(data, path.name)
    if len(text.strip()) < 40 or not re.search(r"[^\W\d_]{3}", text):
        raise UnreadablePolicy(f"{path.name}: no usable text found (empty or not a policy)")
    return PolicyText(company=company, path=path, kind="html" if suffix == ".htm" else suffix[1:], text=text)


def load_policy(path: str | Path) -> PolicyText:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadablePolicy(f"{path.name}: cannot read ({exc.strerror})") from None
    return read_policy_bytes(data, str(path))


def policy_files(folder: str | Path) -> list[Path]:
    """Every file in the folder that looks like a policy (metadata and READMEs excluded)."""
    folder = Path(folder)
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() != ".json" and p.stem.lower() != "readme"
    )
