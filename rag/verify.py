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

The checks live by what they read: rag/sentences.py (markers, sentence spans), rag/factcheck.py (facts),
rag/polarity.py (yes/no, negation); this module runs them together and adds language and entities.
Everything here is generic: word lists for the four languages, no rule keyed to a question.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

from rag.concepts import concepts_in, key_concepts
from rag.lexicon import instruction_pattern, lexicon
from rag.factcheck import EMAIL_RE, URL_RE, extract_facts, fact_problems
from rag.polarity import answer_polarity, polarity_problems
from rag.schema import Citation
from rag.sentences import (marker_list, marker_numbers, normalise_text, sentence_spans, shorten,
                           split_sentences, strip_markers)


_LEX = lexicon()  # the word lists below are data (rag/data/lexicon.json)

LANGUAGES = ("nl", "fr", "en", "de")
LANGUAGE_NAMES = {"nl": "Dutch", "fr": "French", "en": "English", "de": "German"}

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
    text = normalise_text(text)
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
    text = normalise_text(strip_markers(text))
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
INSTRUCTION_LIKE = instruction_pattern()  # rag/data/lexicon.json "instruction_like"


def without_instructions(text: str) -> str:
    """The text with every sentence that reads as an order to a model removed."""
    if not INSTRUCTION_LIKE.search(text or ""):
        return text
    return " ".join(s for s in split_sentences(text) if not INSTRUCTION_LIKE.search(s))


def entity_problems(text: str, language: str, citations: Sequence[Citation], question: str = "",
                    company: str = "") -> list[str]:
    known_text = " ".join([without_instructions(c.text) for c in citations]
                          + [without_instructions(question), company] + [c.company for c in citations])
    known = {w.lower() for w in re.findall(r"[\w'’&-]+", normalise_text(known_text))}
    known |= {w.lower() for w in re.findall(r"[^\W\d_]+", normalise_text(known_text))}
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
                f"[{n}] refers to no passage (the passages are {marker_list(sorted(given)) or 'none'})"
            )
    if require and not refs:
        problems.append("the answer cites no passage: put the passage number in brackets, like [1]")
    return problems


def _names(citations: Sequence[Citation], question: str, company: str) -> set[str]:
    """Capitalised words of the passages/question/company: names the language check ignores."""
    words = set()
    for text in ([without_instructions(c.text) for c in citations] + [without_instructions(question), company]
                 + [c.company for c in citations]):
        for tok in re.findall(r"[^\W\d_][\w'’-]*", normalise_text(text or "")):
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
            problems.append(f"the sentence '{shorten(sentence)}' speaks of {', '.join(m.replace('_', ' ') for m in sorted(missing))}, "
                            "which the passages do not mention")
    return problems


MIN_SENTENCE_WORDS = 3


def fragment_problems(text: str) -> list[str]:
    """Sentences with fewer than MIN_SENTENCE_WORDS words ("[2].", "Cookies pour [1].": cut-off or
    empty sentences, not statements a reader can use). A bare "Yes." / "Nee." opener is an answer."""
    problems = []
    for sentence in split_sentences(text):
        if answer_polarity(sentence) is None and len(re.findall(r"[^\W\d_]+", strip_markers(sentence))) < MIN_SENTENCE_WORDS:
            problems.append(f"'{shorten(sentence)}' is not a full sentence")
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


def register_problems(text: str, language: str) -> list[str]:
    """The answer speaks about the company in the third person and to the reader formally.
    All-capital words ("US") are names, not pronouns."""
    words = [w for w in re.findall(r"[^\W\d_]+", strip_markers(text)) if not (w.isupper() and len(w) > 1)]
    lowered = {w.lower() for w in words}
    problems = []
    first = lowered & set(lexicon()["company_first_person"].get(language, []))
    if first:
        problems.append(f"write about the company in the third person (the company ...), not as the company "
                        f"({', '.join(sorted(first))})")
    informal = lowered & set(lexicon()["informal_you"].get(language, []))
    if informal:
        problems.append(f"address the reader formally, not with {', '.join(sorted(informal))}")
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
            problems.append(f"{p}: '{shorten(sentence)}'")
    problems += entity_problems(text, language, citations, question, company)
    problems += topic_problems(text, citations)
    problems += register_problems(text, language)
    return list(dict.fromkeys(problems))
