"""Facts that can be taken out of policy sentences without a model, and written in any language:
durations ("maximaal een jaar" -> at most 1 year), dates, e-mail addresses, negations.

Shared by the extractive answerer (to state facts in the user's language) and the verifier of
generated answers (to check that every number in an answer occurs in its passages).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .concepts import fold

NUMBER_WORDS = {
    # nl
    "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8, "negen": 9,
    "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14, "vijftien": 15, "twintig": 20, "dertig": 30,
    # en
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    # fr
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30,
    # de
    "ein": 1, "eine": 1, "einem": 1, "einen": 1, "zwei": 2, "drei": 3, "fünf": 5, "sechs": 6, "sieben": 7,
    "neun": 9, "zehn": 10, "zwölf": 12, "fünfzehn": 15, "zwanzig": 20, "dreißig": 30,
}
UNIT_WORDS = {
    "year": ("jaar", "jaren", "year", "years", "an", "ans", "année", "années", "jahr", "jahre", "jahren"),
    "month": ("maand", "maanden", "month", "months", "mois", "monat", "monate", "monaten"),
    "week": ("week", "weken", "weeks", "semaine", "semaines", "woche", "wochen"),
    "day": ("dag", "dagen", "day", "days", "jour", "jours", "tag", "tage", "tagen"),
    "hour": ("uur", "uren", "hour", "hours", "heure", "heures", "stunde", "stunden"),
}
_UNIT_OF = {w: unit for unit, words in UNIT_WORDS.items() for w in words}
QUALIFIER_WORDS = {
    "max": ("maximaal", "maximum", "hoogstens", "ten hoogste", "at most", "up to", "no more than", "no longer than",
            "niet langer dan", "au maximum", "au plus", "jusqu'à", "pas plus de", "höchstens", "maximal", "bis zu",
            "nicht länger als"),
    "min": ("minimaal", "minstens", "ten minste", "tenminste", "at least", "au moins", "mindestens"),
}
_number = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
_unit = "|".join(sorted((re.escape(w) for w in _UNIT_OF), key=len, reverse=True))
_qual = "|".join(sorted((re.escape(q) for qs in QUALIFIER_WORDS.values() for q in qs), key=len, reverse=True))
DURATION = re.compile(rf"(?:\b(?P<qual>{_qual})\s+)?\b(?P<num>\d+|{_number})\s+(?P<unit>{_unit})\b", re.IGNORECASE)
# "as long as necessary" kinds of retention: a duration stated without a number.
OPEN_DURATION = re.compile(
    r"\b(zolang|zo lang als|niet langer dan|as long as|no longer than|for the period|aussi longtemps|"
    r"pas plus longtemps|tant que|solange|so lange wie|nicht länger als|bewaartermijn|retention period|"
    r"durée de conservation|speicherdauer)\b", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+(?:@|\[at\])[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
MONTHS = ("januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|january|february|"
          "march|may|june|july|august|october|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|"
          "décembre|januar|februar|märz|juni|juli|oktober|dezember")
DATE = re.compile(rf"\b(\d{{1,2}}\s+(?:{MONTHS})\s+\d{{4}}|(?:{MONTHS})\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\b(?:19|20)\d{{2}}\b)",
                  re.IGNORECASE)
NEGATION = re.compile(r"\b(niet|geen|nooit|not|never|no|don't|doesn't|won't|ne|pas|jamais|aucun|aucune|nicht|kein|keine|keinen|niemals)\b",
                      re.IGNORECASE)


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


EXCEPTION = re.compile(r"\b(tenzij|behalve|unless|except|sauf|à moins|es sei denn|außer|ausser)\b", re.IGNORECASE)
NEGATION_WINDOW = 5  # words between the negation and the verb or noun it denies


def negates(text: str, concept_words) -> bool:
    """A negation within a few words of a word carrying the concept: "verkopen uw gegevens niet",
    "we do not sell", "ne vendons pas"."""
    words = re.findall(r"[^\W_]+(?:'[^\W_]+)?", fold(text).replace("’", "'"))
    neg = [i for i, w in enumerate(words) if NEGATION.fullmatch(w)]
    hits = [i for i, w in enumerate(words) if concept_words(w)]
    return any(abs(i - j) <= NEGATION_WINDOW for i in neg for j in hits)


def has_exception(text: str) -> bool:
    return bool(EXCEPTION.search(text))
