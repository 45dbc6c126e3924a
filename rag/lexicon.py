"""The one loader of per-language word knowledge (rag/data/lexicon.json): what a question asks for.

What is learned (ranking, answerability, verdicts) lives in rag/models/; what remains hand-written
is small, per language, and kept as data: which words make a question a "how long" question, how
yes/no questions open, and the words rag/facts.py, rag/factcheck.py, rag/polarity.py, rag/typed.py and rag/verify.py read facts and polarity by
(number words, time units, months, negations, abbreviations). Everything here is read from the JSON file; no module keeps its own lists.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
LEXICON_FILE = DATA_DIR / "lexicon.json"
LANGUAGES = ("en", "nl", "fr", "de")


@lru_cache(maxsize=None)
def data_file(name: str) -> dict:
    """One per-language data file of rag/data/ (lexicon, diff, letters), read once."""
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def lexicon() -> dict:
    return data_file("lexicon")


def localized(name: str, language: str) -> dict:
    """The block of `language` in data file `name` (English when the language has none)."""
    table = data_file(name)
    return table.get(language) or table["en"]


def _alternatives(table: dict) -> list[str]:
    return [w for lang in LANGUAGES for w in table.get(lang, [])]


def every_language(key: str) -> list[str]:
    """One lexicon entry's words (or patterns) of all four languages together."""
    return _alternatives(lexicon()[key])


@lru_cache(maxsize=None)
def _question_type_pattern(kind: str) -> re.Pattern:
    spec = lexicon()["question_types"][kind]
    body = "|".join(_alternatives(spec))
    prefix = r"^\s*" if spec.get("_anchor") == "start" else ""
    return re.compile(rf"{prefix}\b({body})\b", re.IGNORECASE)


def expected_facts(question: str, concepts: set[str]) -> set[str]:
    """What kind of fact a good answer states: a period, a date, an address to write to, a list.
    Every language's words are tried: a question's language is not always detected right."""
    out = {kind for kind in lexicon()["question_types"] if _question_type_pattern(kind).search(question)}
    if "contact" in concepts:
        out.add("email")
    return out


def is_enumeration(text: str) -> bool:
    """A list of items: several lines, or a sentence of many commas ("het IP-adres, de toestelcode, ...")."""
    body = text.strip()
    return body.count("\n") >= 2 or body.count(",") >= 3 or bool(re.search(r":\s*\S", body) and body.count(",") >= 2)


@lru_cache(maxsize=None)
def _starts(key: str, language: str) -> re.Pattern:
    words = lexicon()[key].get(language, [])
    return re.compile(r"^\s*(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE) if words else re.compile(r"$^")


def _main_clause(question: str, language: str) -> str:
    """The question proper: after a leading condition ("If I delete my account, do my comments ...")."""
    q = question.strip()
    opener = lexicon().get("leading_clause_words", {}).get(language, [])
    if opener and "," in q and re.match(r"^\W*(" + "|".join(re.escape(w) for w in opener) + r")(?![\w-])", q, re.IGNORECASE):
        return q.split(",", 1)[1].strip()
    return q


def _opens_with_question_word(clause: str, language: str) -> bool:
    words = lexicon()["question_words"].get(language, [])
    if not words:
        return False
    body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # first, or after one short preposition: "Met wie delen jullie ...?", "An wen ...?", "À qui ...?"
    # (not further: "Les informations que je vous envoie sont-elles chiffrées ?" asks yes or no)
    words_of = clause.lower().split()
    heads = [" ".join(words_of[:2])] + ([" ".join(words_of[1:3])] if words_of and len(words_of[0]) <= 4 else [])
    return any(re.match(rf"^\W*({body})(?![\w-])", h) for h in heads)


def is_yes_no_question(question: str, language: str) -> bool:
    """A question answered by yes or no. In Dutch and German such a question opens with its verb, and
    an open one with a question word, so a question that opens with no question word is yes/no; English
    opens it with an auxiliary; French inverts ("Vendez-vous ... ?", "est-ce que") or asks by its "?"."""
    clause = _main_clause(question, language)
    if _opens_with_question_word(clause, language):
        return False
    if _starts("yes_no_starts", language).search(clause):
        return True
    asks = clause.rstrip().endswith(("?", "？"))
    if language in ("nl", "de", "fr"):
        return asks
    return False


def is_about_reader(question: str, language: str) -> bool:
    """"Can I ...?" asks about the reader's own rights, not about what the company does."""
    return bool(_starts("about_reader_starts", language).search(question))


@lru_cache(maxsize=None)
def word_pattern(key: str) -> re.Pattern:
    """Whole-word alternatives of one lexicon entry over every language ("negation_words", ...)."""
    words = sorted(_alternatives(lexicon()[key]), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=1)
def _question_start() -> re.Pattern:
    """Any language's question word, yes/no opener or "can I": a sentence that asks, without a "?"."""
    words = {w for key in ("question_words", "yes_no_starts", "about_reader_starts") for w in _alternatives(lexicon()[key])}
    body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"^\W*({body})(?![\w-])", re.IGNORECASE)


def asks_something(sentence: str) -> bool:
    """Ends with a question mark, or opens with a question word of one of the four languages."""
    s = sentence.strip()
    return s.endswith(("?", "？")) or bool(_question_start().search(s))


@lru_cache(maxsize=1)
def instruction_pattern() -> re.Pattern:
    """Sentences addressed to an AI assistant (planted instructions), in any of the four languages."""
    return re.compile("|".join(f"(?:{p})" for p in every_language("instruction_like")), re.IGNORECASE)
