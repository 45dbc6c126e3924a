"""Language-neutral privacy concepts ("retention", "delete", "sell"...) found in a text.

The thesaurus (rag/data/thesaurus.json, read by rag/lexicon.py's one loader) maps nl/fr/en/de vocabulary to concepts. Concepts serve twice:
as extra BM25 terms on both sides, so "How long do you keep my data?" meets "bewaartermijn"; and as
the test of silence: a question about a topic the retrieved passages never mention is not answered.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from .lexicon import data_file

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case without accents: 'Données' -> 'donnees'."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def _thesaurus() -> dict:
    return data_file("thesaurus")


class _Tables(NamedTuple):
    exact: dict[str, set[str]]  # whole-word terms ("keep$") -> concepts
    prefix: dict[str, set[str]]  # word-prefix terms -> concepts
    key: frozenset[str]  # the topics a question can ask about
    shortest: int  # the shortest prefix term
    # terms written '^term' / '^term$': they begin a word and are never a compound's head
    # ("transparent" does not end in "parent", "behandelen" not in "delen", "insbesondere" not in
    # "besondere"; found by listing every compound-head match over the sample and evaluation policies)
    start_exact: frozenset[str]
    start_prefix: frozenset[str]


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    data = _thesaurus()["concepts"]
    exact: dict[str, set[str]] = {}
    prefix: dict[str, set[str]] = {}
    key = set()
    start_exact, start_prefix = set(), set()
    for concept, spec in data.items():
        if spec.get("key"):
            key.add(concept)
        for term in spec["terms"]:
            if " " in term:
                continue  # phrases: see _phrases
            start_only = term.startswith("^")
            term = fold(term).lstrip("^")
            table, term = (exact, term[:-1]) if term.endswith("$") else (prefix, term)
            table.setdefault(term, set()).add(concept)
            if start_only:
                (start_exact if table is exact else start_prefix).add(term)
    shortest = min(len(p) for p in prefix)
    return _Tables(exact, prefix, frozenset(key), shortest, frozenset(start_exact), frozenset(start_prefix))


COMPOUND_MIN = 8  # Dutch and German glue nouns: "bedrijfsverkoop" ends in "verkoop"
HEAD_MIN = 5


@lru_cache(maxsize=65536)
def word_concepts(word: str) -> frozenset[str]:
    exact, prefix, _, shortest, start_exact, start_prefix = _tables()
    if word in exact:  # a whole-word entry is the meaning: "gegevensbescherming" is not "security"
        return frozenset(exact[word])
    found = set()
    longest = 0
    for n in range(shortest, len(word) + 1):
        if word[:n] in prefix:
            found.update(prefix[word[:n]])
            longest = n
    # A compound is read by its head ("bedrijfsverkoop" ends in "verkoop", "mindestalter" in
    # "alter"), unless a term already covers most of the word ("datenschutzbeauftragten").
    if len(word) >= COMPOUND_MIN and longest < 0.6 * len(word):
        for i in range(3, len(word) - HEAD_MIN + 1):
            head = word[i:]
            if head not in start_exact:
                found.update(exact.get(head, ()))
            for n in range(max(shortest, HEAD_MIN), len(head) + 1):
                if head[:n] not in start_prefix:
                    found.update(prefix.get(head[:n], ()))
    return frozenset(found)


@lru_cache(maxsize=1)
def _split_verbs() -> list[tuple[str, re.Pattern]]:
    """Dutch and German separable verbs: "Wir geben Ihre Daten nicht weiter" is "weitergeben",
    "wij geven uw gegevens niet door" is "doorgeven". A form of the verb, then its particle later
    in the same clause (no sentence or clause mark between, at most SPLIT_WINDOW characters)."""
    out = []
    for concept, spec in _thesaurus()["concepts"].items():
        for verb in spec.get("split_verbs", ()):
            forms = "|".join(re.escape(fold(f)) for f in verb["forms"])
            particle = re.escape(fold(verb["particle"]))
            out.append((concept, re.compile(rf"\b(?:{forms})\b[^.;:!?\n]{{0,{SPLIT_WINDOW}}}?\b{particle}\b")))
    return out


SPLIT_WINDOW = 80


@lru_cache(maxsize=1)
def _phrases() -> tuple[re.Pattern | None, dict[str, set[str]]]:
    """Multi-word terms ("data protection officer"): matched first, their words then not one by one."""
    table: dict[str, set[str]] = {}
    for concept, spec in _thesaurus()["concepts"].items():
        for term in spec["terms"]:
            if " " in term:
                table.setdefault(fold(term), set()).add(concept)
    if not table:
        return None, table
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in sorted(table, key=len, reverse=True)) + r")\b")
    return pattern, table


def concepts_in(text: str) -> set[str]:
    found: set[str] = set()
    # the thesaurus writes "ausserhalb" (NFKD keeps "ß") and "l'ue" with a straight apostrophe
    text = fold(text).replace("ß", "ss").replace("\u2019", "'")
    for concept, split_verb in _split_verbs():
        if concept not in found and split_verb.search(text):
            found.add(concept)
    pattern, phrases = _phrases()
    if pattern is not None:
        for m in pattern.finditer(text):
            found |= phrases[m.group(1)]
        text = pattern.sub(" ", text)
    for word in _WORD.findall(text):
        found |= word_concepts(word)
        if "-" in word:
            for part in word.split("-"):
                found |= word_concepts(part)
    return found


def question_concepts(question: str) -> set[str]:
    """A question's concepts plus what they imply: asking to delete data is asking about one's rights."""
    found = concepts_in(question)
    implied = _thesaurus().get("implies", {})
    return found | {i for c in found for i in implied.get(c, ())}


def key_concepts(concepts: set[str]) -> set[str]:
    return concepts & _tables().key
