"""Polarity: yes/no words and negation ("no", "does not", "ne ... pas", "niet", "nicht"), and the check
that an affirmative sentence does not rest on negated passages, nor a negated one on affirmative passages."""
from __future__ import annotations

import re
from typing import Sequence

from rag.facts import OPEN_DURATION
from rag.lexicon import every_language, lexicon
from rag.schema import Citation
from rag.sentences import marker_list, marker_numbers, normalise_text, shorten, split_sentences, strip_markers

_LEX = lexicon()  # the word lists below are data (rag/data/lexicon.json)

# --------------------------------------------------------------------------------------------
# Polarity (yes / no, negation)
# --------------------------------------------------------------------------------------------

_YES = frozenset(_LEX["yes_words"])
_NO = frozenset(_LEX["no_words"])
_NEGATIONS = frozenset(every_language("negation_words"))
# "not longer than", "niet meer dan", "pas plus de", "nicht länger als", "not only": no polarity flip
_NEG_NEUTRAL_NEXT = frozenset(_LEX["negation_neutral_next"])
_NEG_NEUTRAL_BETWEEN = frozenset(_LEX["negation_neutral_between"])  # "not any longer", "niet veel langer"
_PAS_AS_NOUN_AFTER = frozenset(_LEX["pas_as_noun_after"])  # "le pas" (a step), not the negation
_NO_NOT_NEGATING_BEFORE = frozenset(_LEX["no_not_negating_before"])  # "no longer", "no later than"


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", normalise_text(text).lower())


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
                f"the answer says yes, but the cited passage(s) {marker_list(cited)} are negative (they say no / not)"
            )
        elif negated and not any(ev_negated) and not (
                _NO_FIXED_PERIOD.search(sentence) and any(OPEN_DURATION.search(e) for e in evidence)):
            problems.append(
                f"the sentence '{shorten(sentence)}' is negative, but the cited passage(s) {marker_list(cited)} contain no negation"
            )
    return problems
