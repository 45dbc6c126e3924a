"""Check a generated answer against the passages it cites, before anyone sees it.

``verify_answer`` returns human-readable problems (an empty list means the answer may be shown):

- citation markers: at least one ``[n]``, and every ``[n]`` names a given passage;
- facts: every number, duration, date, e-mail address, phone number and URL in the answer occurs in
  the cited passages, normalised across languages ("vijf jaar" = "5 years" = "cinq ans" =
  "fünf Jahre" = "60 months");
- polarity: a "yes"/affirmative sentence must not rest on passages that are all negated, and a
  negated sentence ("no", "does not", "ne ... pas", "niet", "nicht") must rest on a passage that
  contains a negation;
- language: the answer is written in the requested language (py3langid restricted to nl/fr/en/de,
  with quotes, names taken from the passages, markers, numbers and URLs removed first);
- entities: no capitalised name, organisation or product that is absent from the passages, the
  question and the company name.

``verify_sentence`` runs the checks that are decidable on one sentence of a stream (valid markers,
facts present in the given passages, language) so that text can be released sentence by sentence.

Everything here is generic: word lists for the four languages, no rule keyed to a question.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from rag.concepts import concepts_in, key_concepts
from rag.facts import OPEN_DURATION
from rag.lexicon import lexicon
from rag.schema import Citation

_LEX = lexicon()  # the word lists below are data (rag/data/lexicon.json)

LANGUAGES = ("nl", "fr", "en", "de")
LANGUAGE_NAMES = {"nl": "Dutch", "fr": "French", "en": "English", "de": "German"}

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


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return text.replace("’", "'").replace("\u00a0", " ").replace("‑", "-").replace("–", "-")


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
            rf"(?P<num>{digit}|(?<![\w-])(?:{word_alt}|{article})(?![\w-]))\s*-?\s*{_UNIT_QUALIFIERS}(?P<unit>{units})(?![\w])",
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
    text = _norm(strip_markers(text))
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
    joined = _url_norm(" ".join(_norm(p) for p in passages))
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


# --------------------------------------------------------------------------------------------
# Polarity (yes / no, negation)
# --------------------------------------------------------------------------------------------

_YES = frozenset(_LEX["yes_words"])
_NO = frozenset(_LEX["no_words"])
_NEGATIONS = frozenset(_LEX["polarity_negations"])
# "not longer than", "niet meer dan", "pas plus de", "nicht länger als", "not only": no polarity flip
_NEG_NEUTRAL_NEXT = frozenset(_LEX["negation_neutral_next"])
_NEG_NEUTRAL_BETWEEN = frozenset(_LEX["negation_neutral_between"])  # "not any longer", "niet veel langer"
_PAS_AS_NOUN_AFTER = frozenset(_LEX["pas_as_noun_after"])  # "le pas" (a step), not the negation
_NO_NOT_NEGATING_BEFORE = frozenset(_LEX["no_not_negating_before"])  # "no longer", "no later than"


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", _norm(text).lower())


def is_negated(sentence: str) -> bool:
    """True when the sentence contains a negation that flips its meaning (not 'no longer than')."""
    words = _words(strip_markers(sentence))
    for i, w in enumerate(words):
        w = w.replace("’", "'")
        if w in _NEGATIONS or w.endswith("n't"):
            following = words[i + 1:i + 3]
            if following and following[0] in _NEG_NEUTRAL_NEXT:
                continue
            if len(following) > 1 and following[1] in _NEG_NEUTRAL_NEXT and following[0] in _NEG_NEUTRAL_BETWEEN:
                continue
            if w == "pas" and i > 0 and words[i - 1] in _PAS_AS_NOUN_AFTER:
                continue  # "le pas" (a step), not the negation
            if w == "no" and following and following[0] in _NO_NOT_NEGATING_BEFORE:
                continue
            return True
    return False


def answer_polarity(sentence: str) -> str | None:
    """'yes' or 'no' for a sentence that opens with an explicit yes/no word, else None."""
    words = _words(strip_markers(sentence))
    if not words:
        return None
    if words[0] in _YES:
        return "yes"
    if words[0] in _NO:
        return "no"
    return None


# "no fixed period" is the plain reading of an open retention ("as long as necessary"), which
# itself carries no negation word: such a negative sentence is checked against OPEN_DURATION instead.
_NO_FIXED_PERIOD = re.compile(
    r"\b(fixed|specific|exact|precise|set|definite|vaste|vast|bepaalde|specifieke|exacte|precieze|fixe|"
    r"précise|déterminée|feste|festen|bestimmte|bestimmten|genaue|konkrete)\b.{0,30}?"
    r"\b(period|periods|time|term|duration|limit|termijn|periode|duur|durée|délai|période|frist|dauer|zeitraum)\b",
    re.IGNORECASE)


def polarity_problems(text: str, citations: Sequence[Citation]) -> list[str]:
    by_n = {c.n: c for c in citations}
    problems: list[str] = []
    sentences = split_sentences(text)
    all_cited = [n for n in marker_numbers(text) if n in by_n]
    for idx, sentence in enumerate(sentences):
        cited = [n for n in marker_numbers(sentence) if n in by_n]
        if not cited:
            # an unmarked opening "Yes." / "No." rests on what the rest of the answer cites
            cited = all_cited if idx == 0 else []
        if not cited:
            continue
        evidence = [by_n[n].text for n in dict.fromkeys(cited)]
        ev_sentences = [s for p in evidence for s in split_sentences(p)] or evidence
        ev_negated = [is_negated(s) for s in ev_sentences]
        explicit = answer_polarity(sentence)
        negated = is_negated(sentence) if explicit is None else explicit == "no" or is_negated(sentence)
        if explicit == "yes" and not is_negated(sentence) and all(ev_negated):
            problems.append(
                f"the answer says yes, but the cited passage(s) {_refs(cited)} are negative (they say no / not)"
            )
        elif negated and not any(ev_negated) and not (
                _NO_FIXED_PERIOD.search(sentence) and any(OPEN_DURATION.search(e) for e in evidence)):
            problems.append(
                f"the sentence '{_short(sentence)}' is negative, but the cited passage(s) {_refs(cited)} contain no negation"
            )
    return problems


def _refs(ns) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(ns))


def _short(s: str, n: int = 70) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


# --------------------------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    return ident


_QUOTED_RE = re.compile(r"\"[^\"]{0,200}\"|“[^”]{0,200}”|«[^»]{0,200}»|‘[^’]{0,200}’|„[^“”]{0,200}[“”]|'[^']{3,200}'(?!\w)")


def language_text(text: str, names: Iterable[str] = ()) -> str:
    """The text that language detection should judge: no quotes, names, markers, numbers, URLs."""
    text = _norm(text)
    text = _QUOTED_RE.sub(" ", text)
    text = EMAIL_RE.sub(" ", text)
    text = URL_RE.sub(" ", text)
    text = strip_markers(text)
    names = {n.lower() for n in names}
    kept = []
    for tok in re.findall(r"[^\W\d_][\w'’-]*", text):
        if tok[0].isupper() and tok.lower() in names:
            continue
        if tok.lower() in names and len(tok) > 3 and not tok.islower():
            continue
        kept.append(tok)
    return " ".join(kept)


def detect_language(text: str, names: Iterable[str] = ()) -> tuple[str | None, float, int]:
    """(language, probability, words judged). language is None when there is nothing to judge."""
    judged = language_text(text, names)
    n_words = len(judged.split())
    if n_words == 0:
        return None, 0.0, 0
    lang, prob = _identifier().classify(judged)
    return lang, float(prob), n_words


def language_problems(text: str, language: str, names: Iterable[str] = (), *, min_words: int = 4,
                      min_prob: float = 0.9) -> list[str]:
    if language not in LANGUAGES:
        return []
    lang, prob, n_words = detect_language(text, names)
    if lang is None or n_words < min_words or lang == language or prob < min_prob:
        return []
    return [
        f"the text is written in {LANGUAGE_NAMES.get(lang, lang)}, not in {LANGUAGE_NAMES[language]}"
    ]


# --------------------------------------------------------------------------------------------
# Named entities
# --------------------------------------------------------------------------------------------

# Generic words that are capitalised by convention and name nothing the passages must contain.
_ALWAYS_ALLOWED = frozenset(_LEX["entity_always_allowed"])


def _entity_candidates(text: str, language: str) -> list[str]:
    """Capitalised words that are not sentence-initial; acronyms and CamelCase anywhere.

    German capitalises every noun, so there only acronyms and CamelCase words count.
    """
    text = _norm(strip_markers(text))
    text = EMAIL_RE.sub(" ", text)
    text = URL_RE.sub(" ", text)
    out = []
    for a, b in sentence_spans(text):
        sentence = text[a:b]
        tokens = list(re.finditer(r"[^\W\d_][\w'’&-]*", sentence))
        first_word = True
        prev_end = 0
        for m in tokens:
            tok = m.group(0).strip("'’-")
            between = sentence[prev_end:m.start()]
            prev_end = m.end()
            # after ':' or a full stop the splitter kept inside the sentence ("etc. These") a capital
            # says nothing about a name
            initial = first_word or bool(re.search(r"[:;.!?\n•]|^\s*[-*]\s", between))
            first_word = False
            if not tok:
                continue
            acronym = len(tok) >= 2 and tok.isupper()
            camel = bool(re.search(r"[a-z][A-Z]", tok))
            if acronym or camel:
                out.append(tok)
            elif tok[0].isupper() and not initial and language != "de":
                out.append(tok)
    return out


# Text addressed to a language model rather than to a reader: policy text is untrusted, and so is
# the question. Such sentences are withheld from the model (generate.format_passages) and give no
# licence to any word of an answer.
INSTRUCTION_LIKE = re.compile(
    r"\b(ignore|disregard|forget|negeer|vergeet|ignorez|oubliez|ignoriere|vergiss)\b[^.!?\n]{0,60}"
    r"\b(instructions?|instructies?|instructie|opdrachten|prompts?|anweisungen|regels|rules|r[eè]gles|consignes)\b"
    r"|\b(system prompt|you are now|je bent nu|tu es maintenant|du bist jetzt|as an ai|als ai)\b"
    r"|\b(answer|antwoord|r[ée]ponds|antworte)\s+(only\s+|alleen\s+|uniquement\s+|nur\s+)?(with\s+|met\s+|par\s+|mit\s+)?[\"'“‘]?[A-Z]{3,}\b",
    re.IGNORECASE)


def without_instructions(text: str) -> str:
    """The text with every sentence that reads as an order to a model removed."""
    if not INSTRUCTION_LIKE.search(text or ""):
        return text
    return " ".join(s for s in split_sentences(text) if not INSTRUCTION_LIKE.search(s))


def entity_problems(text: str, language: str, citations: Sequence[Citation], question: str = "",
                    company: str = "") -> list[str]:
    known_text = " ".join([without_instructions(c.text) for c in citations]
                          + [without_instructions(question), company] + [c.company for c in citations])
    known = {w.lower() for w in re.findall(r"[\w'’&-]+", _norm(known_text))}
    known |= {w.lower() for w in re.findall(r"[^\W\d_]+", _norm(known_text))}
    company_words = {w.lower() for w in re.findall(r"[^\W\d_]+", company or "")}
    problems = []
    seen = set()
    for tok in _entity_candidates(text, language):
        low = tok.lower()
        parts = [p for p in re.split(r"[-'’&]", low) if p]
        if low in known or low in _ALWAYS_ALLOWED or low in company_words or all(p in known or p in _ALWAYS_ALLOWED for p in parts):
            continue
        if low in seen:
            continue
        seen.add(low)
        problems.append(f"'{tok}' is not named in the passages or the question")
    return problems


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


def marker_problems(text: str, citations: Sequence[Citation], *, require: bool = True) -> list[str]:
    given = {c.n for c in citations}
    problems = []
    refs = marker_numbers(text)
    for n in dict.fromkeys(refs):
        if n not in given:
            problems.append(
                f"[{n}] refers to no passage (the passages are {_refs(sorted(given)) or 'none'})"
            )
    if require and not refs:
        problems.append("the answer cites no passage: put the passage number in brackets, like [1]")
    return problems


def _names(citations: Sequence[Citation], question: str, company: str) -> set[str]:
    """Capitalised words of the passages/question/company: names the language check ignores."""
    words = set()
    for text in ([without_instructions(c.text) for c in citations] + [without_instructions(question), company]
                 + [c.company for c in citations]):
        for tok in re.findall(r"[^\W\d_][\w'’-]*", _norm(text or "")):
            if tok[0].isupper() or tok.isupper():
                words.add(tok)
    words.add(company or "")
    return {w for w in words if w}


MIN_ANSWER_WORDS = 5


def completeness_problems(text: str, reference: str, language: str) -> list[str]:
    """Facts the extractive answer states (periods, dates, e-mail addresses) that a generated answer
    leaves out: a plain answer must not be poorer than the quotes it replaces."""
    want, got = extract_facts(reference, language), extract_facts(text, language)
    missing = [shown for shown, canonical in (want.duration_list or []) if canonical not in got.durations]
    missing += [date for date in want.shown.get("date", []) if not got.dates]
    missing += sorted(want.emails - got.emails)
    return [f"the answer leaves out {', '.join(dict.fromkeys(missing))}: state it with its passage number"] if missing else []


def topic_problems(text: str, citations: Sequence[Citation]) -> list[str]:
    """Every privacy topic the answer talks about (retention, a DPO, selling data...) must be a
    topic of the passages: "Yes, we have a data protection officer [2]" over passages about
    processing agreements is an invented claim even with no number or name in it."""
    covered = set().union(*(concepts_in(f"{c.section}\n{c.text}") for c in citations)) if citations else set()
    problems = []
    for sentence in split_sentences(text):
        missing = key_concepts(concepts_in(strip_markers(sentence))) - covered
        if missing:
            problems.append(f"the sentence '{_short(sentence)}' speaks of {', '.join(m.replace('_', ' ') for m in sorted(missing))}, "
                            "which the passages do not mention")
    return problems


MIN_SENTENCE_WORDS = 3


def fragment_problems(text: str) -> list[str]:
    """Sentences with fewer than MIN_SENTENCE_WORDS words ("[2].", "Cookies pour [1].": cut-off or
    empty sentences, not statements a reader can use). A bare "Yes." / "Nee." opener is an answer."""
    problems = []
    for sentence in split_sentences(text):
        if answer_polarity(sentence) is None and len(re.findall(r"[^\W\d_]+", strip_markers(sentence))) < MIN_SENTENCE_WORDS:
            problems.append(f"'{_short(sentence)}' is not a full sentence")
    if re.search(r":\s*[.!?]?\s*$", strip_markers(text)):  # markers are gone: "following: [1]." ends ":  ."
        problems.append("the answer stops at a colon: the list it announces is missing")
    if _LONE_MARKER.search(text):  # "... pour [1]. [2]. [3].": numbers standing as sentences
        problems.append("a passage number stands alone, without a sentence: it is not a full sentence")
    return problems


_LONE_MARKER = re.compile(r"\]\s*[.!?]\s*(?:\[\d{1,2}\]\s*)+[.!?]")


def verify_sentence(sentence: str, language: str, citations: Sequence[Citation], *,
                    question: str = "", company: str = "") -> list[str]:
    """Checks decidable on one sentence while a stream goes on: markers valid, facts present, language.

    Facts are looked up in all the given passages (a later sentence may cite the passage), the
    whole-answer check then narrows them to the cited ones.
    """
    problems = marker_problems(sentence, citations, require=False)
    problems += fragment_problems(sentence)
    problems += fact_problems(sentence, [c.text for c in citations], language)
    problems += language_problems(sentence, language, _names(citations, question, company), min_words=4, min_prob=0.95)
    return problems


def verify_answer(text: str, language: str, citations: list[Citation], *, question: str = "",
                  company: str = "") -> list[str]:
    """Human-readable problems with ``text`` as an answer resting on ``citations`` (empty = ok)."""
    if not text or not text.strip():
        return ["the answer is empty"]
    problems = marker_problems(text, citations)
    if len(re.findall(r"[^\W\d_]+", strip_markers(text))) < MIN_ANSWER_WORDS:
        # "No. [1]" is true but says nothing to someone who cannot read the passage, and its
        # language cannot be told: ask for a sentence.
        problems.append(f"the answer is too short: write at least one full sentence of {MIN_ANSWER_WORDS} words or more")
    problems += fragment_problems(text)
    by_n = {c.n: c for c in citations}
    cited = [by_n[n] for n in dict.fromkeys(marker_numbers(text)) if n in by_n] or list(citations)
    problems += fact_problems(text, [c.text for c in cited], language)
    problems += polarity_problems(text, citations)
    names = _names(citations, question, company)
    problems += language_problems(text, language, names, min_words=3, min_prob=0.6)
    for sentence in split_sentences(text):
        for p in language_problems(sentence, language, names, min_words=5, min_prob=0.98):
            problems.append(f"{p}: '{_short(sentence)}'")
    problems += entity_problems(text, language, citations, question, company)
    problems += topic_problems(text, citations)
    return list(dict.fromkeys(problems))
