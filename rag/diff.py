"""What changed between two kept versions of a policy: added, removed and changed sentences.

Both texts are cut into sentences by the index's own cleaning and chunking (index/clean.py,
index/chunk.py), so a sentence here is the same unit the index cites, with exact offsets into its
own version's source text (`text[start:end] == span["text"]`) and its section title.

Alignment: difflib's SequenceMatcher over the two sentence lists (whitespace-normalised) gives
equal / delete / insert / replace blocks. Inside a replace block, old and new sentences are paired
when their words are similar enough (difflib ratio over word lists), best pairs first and without
crossing, so an edited sentence is one "changed" pair, not a removal plus an addition; the rest of
the block is removed / added.
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

from index.chunk import chunk_policy
from index.clean import clean_policy
from index.language import identify
from index.settings import Settings, get_settings
from index.versions import VersionError, pick_version, version_text

from .answer import render_duration
from .facts import durations
from .lexicon import LANGUAGES, localized
from .versions import company_versions

PAIR_MIN_SIMILARITY = 0.5  # word-level ratio: below this an old and a new sentence are different sentences
MAX_PAIRING = 80 * 80  # a bigger replace block (a rewrite) is paired by quick_ratio first
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_WORDS = re.compile(r"\w+|[^\w\s]")


def sentence_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, section) of every sentence of a source text, in order, as the index cuts them."""
    cleaned = clean_policy(text)
    language = identify(cleaned.text[:20000])[0]  # as index/build.py detects a policy's language
    spans, seen = [], set()
    for chunk in chunk_policy("diff", text, language, cleaned=cleaned):
        for start, end in chunk.sentences:
            if (start, end) not in seen and text[start:end].strip():
                seen.add((start, end))
                spans.append((start, end, chunk.section))
    return sorted(spans)


def _span(text: str, start: int, end: int, section: str) -> dict:
    return {"text": text[start:end], "start": start, "end": end, "section": section}


def _norm(sentence: str) -> str:
    return " ".join(sentence.split())


def _similarity(a: list[str], b: list[str]) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _pair_block(old_words: list[list[str]], new_words: list[list[str]]) -> list[tuple[int, int]]:
    """Index pairs (i, j) of similar sentences within one replace block, best first, order kept."""
    candidates = []
    big = len(old_words) * len(new_words) > MAX_PAIRING
    for i, a in enumerate(old_words):
        for j, b in enumerate(new_words):
            if big and SequenceMatcher(None, a, b, autojunk=False).quick_ratio() < PAIR_MIN_SIMILARITY:
                continue
            score = _similarity(a, b)
            if score >= PAIR_MIN_SIMILARITY:
                candidates.append((score, i, j))
    pairs: list[tuple[int, int]] = []
    for _, i, j in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if all(i != pi and j != pj and (i < pi) == (j < pj) for pi, pj in pairs):  # one partner each, no crossing
            pairs.append((i, j))
    return sorted(pairs)


def diff_texts(old_text: str, new_text: str) -> dict:
    """{"added", "removed", "changed"} between two source texts (spans exact in their own text)."""
    old = sentence_spans(old_text)
    new = sentence_spans(new_text)
    old_norm = [_norm(old_text[s:e]) for s, e, _ in old]
    new_norm = [_norm(new_text[s:e]) for s, e, _ in new]
    added, removed, changed = [], [], []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old_norm, new_norm, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        pairs = _pair_block([_WORDS.findall(old_norm[i].lower()) for i in range(i1, i2)],
                            [_WORDS.findall(new_norm[j].lower()) for j in range(j1, j2)]) if tag == "replace" else []
        paired_old = {i1 + i for i, _ in pairs}
        paired_new = {j1 + j for _, j in pairs}
        for i, j in pairs:
            changed.append({"old": _span(old_text, *old[i1 + i]), "new": _span(new_text, *new[j1 + j])})
        removed += [_span(old_text, *old[i]) for i in range(i1, i2) if i not in paired_old]
        added += [_span(new_text, *new[j]) for j in range(j1, j2) if j not in paired_new]
    return {"added": added, "removed": removed, "changed": changed}


def word_changes(old: str, new: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """The two sentences of a changed pair as pieces (text, differs), so a view can mark the words
    that changed. Joining each list's texts gives back the sentence exactly."""
    old_tokens, new_tokens = re.findall(r"\s+|\w+|[^\w\s]", old), re.findall(r"\s+|\w+|[^\w\s]", new)
    old_parts, new_parts = [], []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old_tokens, new_tokens, autojunk=False).get_opcodes():
        if i2 > i1:
            old_parts.append(("".join(old_tokens[i1:i2]), tag != "equal"))
        if j2 > j1:
            new_parts.append(("".join(new_tokens[j1:j2]), tag != "equal"))
    return old_parts, new_parts


def number_changes(pair: dict, language: str) -> list[tuple[str, str, str]]:
    """(kind, old, new) for the periods, then the other numbers, that differ between an old and a new
    sentence; periods are written in `language` ("7 years" -> "7 Jahre")."""
    old_periods, new_periods = durations(pair["old"]["text"]), durations(pair["new"]["text"])
    key = lambda d: (d.number, d.unit, d.qualifier)  # noqa: E731
    gone = [d for d in old_periods if key(d) not in {key(x) for x in new_periods}]
    came = [d for d in new_periods if key(d) not in {key(x) for x in old_periods}]
    out = [("period", render_duration(a, language), render_duration(b, language)) for a, b in zip(gone, came)]
    in_periods = {d.text for d in old_periods + new_periods}
    old_numbers = [n for n in NUMBER.findall(pair["old"]["text"]) if not any(n in t for t in in_periods)]
    new_numbers = [n for n in NUMBER.findall(pair["new"]["text"]) if not any(n in t for t in in_periods)]
    gone_n = [n for n in old_numbers if n not in new_numbers]
    came_n = [n for n in new_numbers if n not in old_numbers]
    out += [("number", a, b) for a, b in zip(gone_n, came_n)]
    return out


def summarize(result: dict, language: str) -> str:
    """A deterministic summary in `language`: the counts, then one line per changed number."""
    words = localized("diff", language)
    fields = {"from": result["from"], "to": result["to"], "from_date": result["from_date"][:10],
              "to_date": result["to_date"][:10], "added": len(result["added"]),
              "removed": len(result["removed"]), "changed": len(result["changed"])}
    empty = not (result["added"] or result["removed"] or result["changed"])
    lines = [words["same" if empty else "counts"].format(**fields)]
    for n, pair in enumerate(result["changed"], 1):
        section = " ".join(pair["new"]["section"].split())
        for kind, old, new in number_changes(pair, language):
            subject = words[f"subject_{kind}_section" if section else f"subject_{kind}"].format(section=section)
            lines.append(words["number_change"].format(subject=subject, old=old, new=new, n=n))
    return " ".join(lines)


@lru_cache(maxsize=32)
def _cached_diff(old_text: str, new_text: str) -> dict:
    return diff_texts(old_text, new_text)


def diff_versions(company: str, settings: Settings | None = None, from_version: int | str | None = None,
                  to_version: int | str | None = None, language: str = "en") -> dict:
    """The `rag diff` contract: {"company", "from", "to", "added", "removed", "changed"} plus the
    versions' dates and a `summary` in `language`. Default: the newest version against the one before."""
    settings = settings or get_settings()
    if language not in LANGUAGES:
        raise VersionError(f"unknown language {language!r}: choose {', '.join(LANGUAGES)}")
    kept = company_versions(company, settings)
    if len(kept) < 2 and from_version is None:
        raise VersionError(f"only one version of {company} is kept (version 1, {kept[0].date[:10]}): "
                           "nothing to compare yet")
    new = pick_version(kept, company, to_version, -1)
    old = pick_version(kept, company, from_version, max(0, kept.index(new) - 1))
    body = _cached_diff(version_text(settings, old), version_text(settings, new))
    result = {"company": company, "from": old.n, "to": new.n, "from_date": old.date, "to_date": new.date,
              "source": new.source, **{k: list(v) for k, v in body.items()}}
    result["summary"] = summarize(result, language)
    result["language"] = language
    return result
