"""Facts in free text across nl/fr/en/de: numbers (digits and words), durations, dates, e-mail
addresses, phone numbers and URLs, normalised so that "vijf jaar" = "5 years" = "cinq ans" = "60 months";
and the check that every fact of an answer occurs in the passages it cites."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from rag.lexicon import lexicon
from rag.sentences import normalise_text, strip_markers

_LEX = lexicon()  # the word lists below are data (rag/data/lexicon.json)

# --------------------------------------------------------------------------------------------
# Numbers, durations, dates across nl/fr/en/de
# --------------------------------------------------------------------------------------------

_UNITS: dict[str, list[str]] = _LEX["number_words"]  # 0-19 per language
_TENS = {lang: {int(value): word for value, word in tens.items()} for lang, tens in _LEX["number_tens"].items()}
_BIG = {word: value for by_word in _LEX["number_big"].values() for word, value in by_word.items()}
_BIG_BY_LANG = {lang: set(by_word) for lang, by_word in _LEX["number_big"].items()}
# Words that are also articles ("een", "un", "ein"): a number only right before a time unit.
_ARTICLES_ONE = frozenset(_LEX["articles_one"])


@lru_cache(maxsize=None)
def _number_words(language: str | None = None) -> dict[str, int]:
    """Number words of one language (all four when None) mapped to their value.

    Words that are also articles or pronouns ("een", "un", "one", "ein") are left out here and
    read as 1 only right before a time unit (see _ARTICLES_ONE).
    """
    langs = [language] if language in _UNITS else list(_UNITS)
    words: dict[str, int] = {}
    for lang in langs:
        for value, word in enumerate(_UNITS[lang]):
            words[word] = value
        for t, tword in _TENS[lang].items():
            words[tword] = t
            for u in range(1, 10):
                if lang == "en":
                    words[f"{tword}-{_UNITS['en'][u]}"] = t + u
                    words[f"{tword} {_UNITS['en'][u]}"] = t + u
                elif lang == "nl":
                    unit = "een" if u == 1 else _UNITS["nl"][u]
                    joiner = "ën" if unit.endswith("e") else "en"
                    words[f"{unit}{joiner}{tword}"] = t + u
                    words[f"{unit}en{tword}"] = t + u
                elif lang == "de":
                    unit = "ein" if u == 1 else _UNITS["de"][u]
                    words[f"{unit}und{tword}"] = t + u
                elif lang == "fr":
                    if u == 1:
                        words[f"{tword} et un"] = t + 1
                        words[f"{tword}-et-un"] = t + 1
                    else:
                        words[f"{tword}-{_UNITS['fr'][u]}"] = t + u
        if lang == "fr":  # 61..79 and 80..99 built on soixante / quatre-vingt
            for u in range(1, 20):
                words[f"quatre-vingt-{_UNITS['fr'][u]}"] = 80 + u
                if u >= 10:
                    words[f"soixante-{_UNITS['fr'][u]}"] = 60 + u
            words.update({"soixante et onze": 71, "quatre-vingt": 80, "quatre-vingts": 80,
                          "huitante": 80, "octante": 80})
        if lang == "nl":
            words["eén"] = 1
    for word in ("one", "un", "een", "ein"):
        words.pop(word, None)
    words.update({w: v for w, v in _BIG.items() if language is None or w in _BIG_BY_LANG[language]})
    return words


# canonical unit, multiplier into it
_UNIT_WORDS = {word: (unit, multiplier) for word, (unit, multiplier) in _LEX["time_units"].items()}
# "business days", "jours ouvrables": the qualifier sits between number and unit or after it
_UNIT_QUALIFIERS = rf"(?:(?:{'|'.join(_LEX['unit_qualifiers'])})\s+)?"

_MONTHS = {name: number for number, names in enumerate(_LEX["month_names"], start=1) for name in names.split()}

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'\])]+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:nl|be|com|eu|org|net|fr|de|lu|info|io)(?:/[^\s<>\"'\])]*)?\b",
    re.IGNORECASE,
)
PHONE_RE = re.compile(r"(?<![\w.])(?:\+|00)?\d[\d \-()./]{6,}\d(?![\w])")


def _num_value(token: str, language: str | None = None) -> float | None:
    token = token.strip()
    if re.fullmatch(r"\d{1,3}(?:[.,\s]\d{3})+", token):  # 1.000 / 1,000 / 1 000
        return float(re.sub(r"[.,\s]", "", token))
    if re.fullmatch(r"\d+[.,]\d+", token):
        return float(token.replace(",", "."))
    if re.fullmatch(r"\d+", token):
        return float(token)
    word = token.lower()
    if word in _ARTICLES_ONE:
        return 1.0
    return _number_words(language).get(word)


@lru_cache(maxsize=None)
def _patterns(language: str | None = None) -> dict[str, re.Pattern]:
    words = sorted(_number_words(language), key=len, reverse=True)
    word_alt = "|".join(re.escape(w) for w in words)
    digit = r"\d{1,3}(?:[.,]\d{3})+(?![\d])|\d+(?:[.,]\d+)?"
    number = rf"(?:{digit}|(?<![\w-])(?:{word_alt})(?![\w-]))"
    article = "|".join(sorted(_ARTICLES_ONE, key=len, reverse=True))
    units = "|".join(sorted(_UNIT_WORDS, key=len, reverse=True))
    month_alt = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
    return {
        "number": re.compile(number, re.IGNORECASE),
        "duration": re.compile(
            # "two-year": a hyphen may join a number word to its unit (not to another word)
            rf"(?P<num>{digit}|(?<![\w-])(?:{word_alt}|{article})(?!\w)(?!-(?!(?:{units})(?!\w))))"
            rf"\s*-?\s*{_UNIT_QUALIFIERS}(?P<unit>{units})(?![\w])",
            re.IGNORECASE,
        ),
        "date_dmy_name": re.compile(
            rf"(?<!\d)(?P<d>[0-3]?\d)(?:e|er|st|nd|rd|th|\.)?\s+(?P<m>{month_alt})\.?(?:\s+(?P<y>(?:19|20)\d\d))?(?![\w])",
            re.IGNORECASE,
        ),
        "date_mdy_name": re.compile(
            rf"(?<![\w])(?P<m>{month_alt})\.?\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?,?(?:\s+(?P<y>(?:19|20)\d\d))?(?!\d)",
            re.IGNORECASE,
        ),
        "date_my_name": re.compile(rf"(?<![\w])(?P<m>{month_alt})\s+(?P<y>(?:19|20)\d\d)(?!\d)", re.IGNORECASE),
        "date_iso": re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)(?!\d)"),
        "date_num": re.compile(r"(?<!\d)(?P<d>[0-3]?\d)[-/.](?P<m>[01]?\d)[-/.](?P<y>(?:19|20)\d\d)(?!\d)"),
    }


@dataclass
class Facts:
    numbers: set[float]
    durations: set[tuple[float, str]]
    dates: set[tuple[int | None, int, int | None]]
    emails: set[str]
    urls: set[str]
    phones: set[str]
    # what was found, as written (for messages)
    shown: dict[str, list[str]]
    duration_list: list[tuple[str, tuple[float, str]]] = None  # (as written, canonical)
    duration_raw: set[float] = None  # the numbers written in durations


def _url_norm(url: str) -> str:
    url = url.lower().rstrip(".,;:!?)")
    url = re.sub(r"^https?://", "", url)
    url = re.sub(r"^www\.", "", url)
    return url.rstrip("/")


def extract_facts(text: str, language: str | None = None) -> Facts:
    """Numbers, durations, dates, e-mail addresses, URLs and phone numbers in ``text``.

    Number words are read in ``language`` only ("onze" is 11 in French, "our" in Dutch); with
    None, in all four languages.
    """
    pats = _patterns(language if language in _UNITS else None)
    text = normalise_text(strip_markers(text))
    shown: dict[str, list[str]] = {"number": [], "duration": [], "date": [], "email": [], "url": [], "phone": []}
    emails = {e.lower().rstrip(".") for e in EMAIL_RE.findall(text)}
    shown["email"] = EMAIL_RE.findall(text)
    text = EMAIL_RE.sub(" ", text)
    urls = set()
    for m in URL_RE.finditer(text):
        urls.add(_url_norm(m.group(0)))
        shown["url"].append(m.group(0).rstrip(".,;:"))
    text = URL_RE.sub(" ", text)
    dates: set[tuple[int | None, int, int | None]] = set()

    def take_date(m: re.Match) -> str:
        gd = m.groupdict()
        month = gd.get("m")
        month = _MONTHS.get(month.lower().rstrip("."), None) if month and not month.isdigit() else int(month)
        day = int(gd["d"]) if gd.get("d") else None
        year = int(gd["y"]) if gd.get("y") else None
        if month and 1 <= month <= 12 and (day is None or 1 <= day <= 31):
            dates.add((year, month, day))
            shown["date"].append(m.group(0).strip())
            return " "
        return m.group(0)

    for key in ("date_iso", "date_num", "date_dmy_name", "date_mdy_name", "date_my_name"):
        text = pats[key].sub(take_date, text)
    phones = set()
    for m in PHONE_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if len(digits) >= 8 and not re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", m.group(0).strip()):
            phones.add(digits[-9:])
            shown["phone"].append(m.group(0).strip())
    text = PHONE_RE.sub(lambda m: " " if len(re.sub(r"\D", "", m.group(0))) >= 8 and not re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", m.group(0).strip()) else m.group(0), text)
    durations: set[tuple[float, str]] = set()
    duration_list: list = []
    duration_raw: set[float] = set()
    numbers: set[float] = set()

    def take_duration(m: re.Match) -> str:
        value = _num_value(m.group("num"), language)
        unit, mult = _UNIT_WORDS[m.group("unit").lower()]
        if value is None:
            return m.group(0)
        durations.add((value * mult, unit))
        duration_list.append((m.group(0).strip(), (value * mult, unit)))
        duration_raw.add(value)
        return " "

    text = pats["duration"].sub(take_duration, text)
    for m in pats["number"].finditer(text):
        value = _num_value(m.group(0), language)
        if value is not None:
            numbers.add(value)
            shown["number"].append(m.group(0))
    return Facts(numbers, durations, dates, emails, urls, phones, shown, duration_list, duration_raw)


def _passage_facts(passages: Iterable[str]) -> Facts:
    facts = Facts(set(), set(), set(), set(), set(), set(), {}, [], set())
    for text in passages:
        f = extract_facts(text)  # passages: number words of every language (lenient side)
        facts.numbers |= f.numbers
        facts.durations |= f.durations
        facts.dates |= f.dates
        facts.emails |= f.emails
        facts.urls |= f.urls
        facts.phones |= f.phones
        facts.numbers |= f.duration_raw
        # a date's parts and a duration's value also count as plain numbers in a passage
        for y, m, d in f.dates:
            facts.numbers |= {float(x) for x in (y, d) if x is not None}
    return facts


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def fact_problems(text: str, passages: Sequence[str], language: str | None = None) -> list[str]:
    """Facts of ``text`` (written in ``language``) that do not occur in ``passages``."""
    ans = extract_facts(text, language)
    src = _passage_facts(passages)
    joined = _url_norm(" ".join(normalise_text(p) for p in passages))
    problems: list[str] = []
    for shown, canonical in ans.duration_list:
        if canonical not in src.durations:
            problems.append(f"the duration '{shown}' does not occur in the cited passages")
    for value in sorted(ans.numbers):
        if value not in src.numbers:
            problems.append(f"the number '{_fmt(value)}' does not occur in the cited passages")
    for date in sorted(ans.dates, key=str):
        if not any(_date_match(date, d) for d in src.dates):
            problems.append(f"the date '{_fmt_date(date)}' does not occur in the cited passages")
    for email in sorted(ans.emails):
        if email not in src.emails:
            problems.append(f"the e-mail address '{email}' does not occur in the cited passages")
    for url in sorted(ans.urls):
        if url not in src.urls and url not in joined and url.split("/")[0] not in joined:
            problems.append(f"the address '{url}' does not occur in the cited passages")
    for phone in sorted(ans.phones):
        if phone not in src.phones:
            problems.append(f"the phone number ending in '{phone[-4:]}' does not occur in the cited passages")
    return problems


def _date_match(a, b) -> bool:
    return all(x is None or y is None or x == y for x, y in zip(a, b)) and a[1] == b[1]


def _fmt_date(date) -> str:
    y, m, d = date
    return "-".join(str(x) for x in (y, m, d) if x is not None)
