"""Citation markers ([1], [1, 2], [1-3]) and sentence spans of generated text: what the checks of
rag/verify.py and the streaming of rag/generate.py cut an answer into."""
from __future__ import annotations

import re
import unicodedata

from rag.lexicon import lexicon

_LEX = lexicon()  # abbreviations are data (rag/data/lexicon.json)

# --------------------------------------------------------------------------------------------
# Markers
# --------------------------------------------------------------------------------------------

# [1], [1, 2], [1][2], [1-3], [1–3]
MARKER_RE = re.compile(r"\[\s*(\d{1,3}(?:\s*(?:[,;]|[-–])\s*\d{1,3})*)\s*\]")


def marker_numbers(text: str) -> list[int]:
    """Every passage number referred to by a marker in ``text``, in order (ranges expanded)."""
    out: list[int] = []
    for m in MARKER_RE.finditer(text):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            if re.search(r"[-–]", part):
                a, b = (int(x) for x in re.split(r"\s*[-–]\s*", part))
                if 0 < b - a < 20:
                    out.extend(range(a, b + 1))
                else:
                    out.extend([a, b])
            else:
                out.append(int(part))
    return out


def strip_markers(text: str) -> str:
    return MARKER_RE.sub(" ", text)


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------

_ABBREVIATIONS = frozenset(_LEX["abbreviations"])
_SENT_END_RE = re.compile(r"[.!?](?:[\"'”’»)]*)")


def _is_abbreviation(text: str, dot_index: int) -> bool:
    if text[dot_index] != ".":
        return False
    m = re.search(r"([\w.]+)$", text[:dot_index])
    if not m:
        return False
    word = m.group(1).lower().strip(".")
    if len(word) == 1 and word.isalpha():
        return True
    return word in _ABBREVIATIONS


def sentence_spans(text: str, *, final: bool = True) -> list[tuple[int, int]]:
    """(start, end) of each sentence. Markers right after a full stop belong to that sentence.

    With ``final=False`` (a stream still being generated) the last sentence is returned only when
    something after its terminator proves that it is complete; the caller keeps the rest.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    i = 0
    while i < n:
        m = _SENT_END_RE.match(text, i)
        if m and not _is_abbreviation(text, i) and not (text[i] == "." and i + 1 < n and text[i + 1].isdigit()):
            end = m.end()
            # absorb markers (and spaces between) that follow the terminator: "... years. [1]"
            while True:
                mm = re.match(r"\s*" + MARKER_RE.pattern, text[end:])
                if not mm:
                    break
                end += mm.end()
            rest = text[end:]
            if not rest.strip():
                if final:
                    spans.append((start, n))
                    return spans
                return spans  # cannot tell yet whether more markers follow
            if rest[0].isspace():
                nxt = rest.lstrip()[0]
                if nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘«(-•*" or not nxt.isalpha():
                    spans.append((start, end))
                    start = end
                    i = end
                    continue
            i = m.end()
            continue
        if text[i] == "\n" and text[i:i + 2] == "\n\n" and text[start:i].strip():
            spans.append((start, i))
            start = i
        i += 1
    if final and text[start:].strip():
        spans.append((start, n))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def split_sentences(text: str) -> list[str]:
    return [text[a:b].strip() for a, b in sentence_spans(text)]


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return text.replace("’", "'").replace("\u00a0", " ").replace("‑", "-").replace("–", "-")


def marker_list(ns) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(ns))


def shorten(s: str, n: int = 70) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"
