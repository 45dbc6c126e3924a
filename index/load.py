"""Read policy files (.txt, .md, .html, .pdf) into their source text.

The source text is what citations point into. For .txt/.md it is the file itself; for .html and
.pdf it is the extracted main text, which the index keeps, so that every citation stays checkable.
"""
from __future__ import annotations

import codecs
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


def shown_name(path: str | Path) -> str:
    """A file name fit for a one-line message: control characters replaced, very long names cut."""
    name = "".join(ch if ch.isprintable() else "?" for ch in Path(path).name)
    return (name if len(name) <= 80 else name[:60] + "…" + name[-16:]) or "(no name)"


def company_id(path: Path) -> str:
    """A company id is the file stem, lower-cased; anything that could escape a folder is refused."""
    stem = path.stem.lower().replace(" ", "-")
    if not COMPANY_ID.match(stem):
        raise UnreadablePolicy(f"{shown_name(path)}: file name must be letters, digits, '-' or '_' (it becomes the company id)")
    return stem


# Byte-order marks a text file may start with (UTF-8's is handled by "utf-8-sig").
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode(data: bytes, name: str, markup: bool = False) -> str:
    for bom, encoding in _BOMS:  # UTF-32 first: its little-endian mark starts with UTF-16's
        if data.startswith(bom):
            try:
                return _text_only(data.decode(encoding), name, markup)
            except UnicodeDecodeError:
                raise UnreadablePolicy(f"{name}: starts with a {encoding.upper()} byte-order mark but is not {encoding.upper()} text") from None
    if len(data) >= 4 and data[1::2].count(0) > len(data) // 4 and data[0::2].count(0) < len(data) // 40:
        encoding = "utf-16-le"  # UTF-16 without a byte-order mark: every other byte is NUL
    elif len(data) >= 4 and data[0::2].count(0) > len(data) // 4 and data[1::2].count(0) < len(data) // 40:
        encoding = "utf-16-be"
    else:
        encoding = None
    for candidate in ((encoding,) if encoding else ("utf-8-sig", "cp1252")):
        try:
            return _text_only(data.decode(candidate), name, markup)
        except UnicodeDecodeError:
            continue
    raise UnreadablePolicy(f"{name}: not a text file (cannot decode as UTF-8, UTF-16 or Windows-1252)")


def _text_only(text: str, name: str, markup: bool = False) -> str:
    """Refuse binary data that happened to decode: NUL bytes, or (plain text, not markup: HTML is
    mostly tags and scripts) mostly neither letters nor spaces."""
    if "\x00" in text:
        raise UnreadablePolicy(f"{name}: not a text file (it holds NUL bytes)")
    sample = text[:200_000]
    wordy = sum(ch.isalpha() or ch.isspace() for ch in sample)
    if not markup and sample.strip() and wordy < 0.6 * len(sample):
        raise UnreadablePolicy(f"{name}: not a text file (mostly neither letters nor spaces)")
    return text


def _html_text(data: bytes, name: str) -> str:
    import trafilatura  # heavy import: only when an HTML file shows up

    html = _decode(data, name, markup=True)
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
    except (PyPdfError, Exception) as exc:  # a garbled PDF raises anything (IndexError, RecursionError...)
        raise UnreadablePolicy(f"{name}: not a readable PDF ({type(exc).__name__})") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())


def read_policy_bytes(data: bytes, filename: str) -> PolicyText:
    """Turn an uploaded or on-disk file into a PolicyText, or raise UnreadablePolicy."""
    path = Path(filename)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadablePolicy(f"{shown_name(path)}: unsupported file type (use {', '.join(SUPPORTED_SUFFIXES)})")
    company = company_id(path)
    if suffix == ".pdf":
        text = _pdf_text(data, shown_name(path))
    elif suffix in (".html", ".htm"):
        text = _html_text(data, shown_name(path))
    else:
        text = _decode(data, shown_name(path))
    if len(text.strip()) < 40 or not re.search(r"[^\W\d_]{3}", text):
        raise UnreadablePolicy(f"{shown_name(path)}: no usable text found (empty or not a policy)")
    return PolicyText(company=company, path=path, kind="html" if suffix == ".htm" else suffix[1:], text=text)


MAX_FILE_MB = 50  # larger files are refused unread: no policy is that long


def load_policy(path: str | Path) -> PolicyText:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_MB * 1024 * 1024:
            raise UnreadablePolicy(f"{shown_name(path)}: too large ({path.stat().st_size / 1024 / 1024:.0f} MB; the limit is {MAX_FILE_MB} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadablePolicy(f"{shown_name(path)}: cannot read ({exc.strerror})") from None
    return read_policy_bytes(data, str(path))


def policy_files(folder: str | Path) -> list[Path]:
    """Every file in the folder that looks like a policy (metadata and READMEs excluded)."""
    folder = Path(folder)
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() != ".json" and p.stem.lower() != "readme"
    )
