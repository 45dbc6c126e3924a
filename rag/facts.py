"""Facts that can be taken out of policy sentences without a model, and written in any language:
durations ("maximaal een jaar" -> at most 1 year), dates, e-mail addresses, negations.

Shared by the extractive answerer (to state facts in the user's language) and the verifier of
generated answers (to check that every number in an answer occurs in its passages).
The words (number words, units, qualifiers, months, negations) are data: rag/data/lexicon.json.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import lexicon, word_pattern

_LEX = lexicon()
NUMBER_WORDS: dict[str, int] = _LEX["duration_number_words"]
UNIT_WORDS = {unit: tuple(words) for unit, words in _LEX["duration_units"].items()}
_UNIT_OF = {w: unit for unit, words in UNIT_WORDS.items() for w in words}
QUALIFIER_WORDS = {kind: tuple(words) for kind, words in _LEX["duration_qualifiers"].items()}
_number = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
_unit = "|".join(sorted((re.escape(w) for w in _UNIT_OF), key=len, reverse=True))
_qual = "|".join(sorted((re.escape(q) for qs in QUALIFIER_WORDS.values() for q in qs), key=len, reverse=True))
DURATION = re.compile(rf"(?:\b(?P<qual>{_qual})\s+)?\b(?P<num>\d+|{_number})\s+(?P<unit>{_unit})\b", re.IGNORECASE)
# "as long as necessary" kinds of retention: a duration stated without a number.
OPEN_DURATION = re.compile(rf"\b({'|'.join(_LEX['open_duration'])})\b", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+(?:@|\[at\])[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
MONTHS = "|".join(_LEX["date_months"])
DATE = re.compile(rf"\b(\d{{1,2}}\s+(?:{MONTHS})\s+\d{{4}}|(?:{MONTHS})\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\b(?:19|20)\d{{2}}\b)",
                  re.IGNORECASE)
NEGATION = word_pattern("negation_words")


@dataclass(frozen=True)
class Duration:
    number: int
    unit: str  # year | month | week | day | hour
    qualifier: str = ""  # "" | max | min
    text: str = ""  # as written in the source


def durations(text: str) -> list[Duration]:
    out = []
    for m in DURATION.finditer(text):
        raw = m.group("num").lower()
        number = int(raw) if raw.isdigit() else NUMBER_WORDS.get(raw)
        if number is None:
            continue
        qual = ""
        if m.group("qual"):
            q = m.group("qual").lower()
            qual = next(k for k, qs in QUALIFIER_WORDS.items() if q in qs)
        out.append(Duration(number, _UNIT_OF[m.group("unit").lower()], qual, m.group(0)))
    return out


def has_duration(text: str) -> bool:
    return bool(durations(text) or OPEN_DURATION.search(text))


def emails(text: str) -> list[str]:
    return [e.replace("[at]", "@") for e in EMAIL.findall(text)]


def dates(text: str) -> list[str]:
    return [m.group(0) for m in DATE.finditer(text)]


EXCEPTION = word_pattern("exception_words")


def has_exception(text: str) -> bool:
    return bool(EXCEPTION.search(text))
