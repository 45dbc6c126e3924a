"""Typed direct answers: the substance a question asks for, read out of the cited sentences and
stated in the reader's language, each fact with the [n] of the sentence it comes from.

The question's type (retention, sharing, rights, contact, ...) is chosen from its privacy concepts;
the type says which facts to read: periods (with what they apply to and from when), ages, e-mail
addresses, proper names, dates, or named items of a vocabulary (legal bases, rights, recipients,
regions, safeguards, cookie kinds, security measures). Everything per language is data
(rag/data/answer_types.json, templates in prompts/phrases.json "typed"). A fact is stated only
when its words occur in the cited sentence (a name or address is copied from it verbatim), so each
value is checked against its sentence by construction; nothing is inferred across sentences.

    typed_facts(question, language, citations) -> TypedAnswer(kind, text)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .concepts import fold, question_concepts
from .facts import Duration, dates, durations, emails
from .lexicon import data_file, every_language, expected_facts
from .schema import Citation

MAX_ITEMS = 6  # a direct answer names at most this many facts; the quotes hold the rest
MAX_NAMES = 3
NAME_FACTS = ("names", "organisations")  # proper names; "organisations" only the marked ones


@dataclass
class TypedAnswer:
    kind: str  # the question type ("" when none applies)
    text: str  # the facts sentence in the reader's language, with [n] markers ("" when none found)


def _spec() -> dict:
    return data_file("answer_types")


def question_type(question: str) -> str:
    """The first type (in the data file's order) whose concepts or expected fact the question has."""
    concepts = question_concepts(question)
    expects = expected_facts(question, concepts)
    for kind in _spec()["order"]:
        t = _spec()["types"][kind]
        if expects & set(t.get("unless_expects", ())):
            continue
        if concepts & set(t.get("concepts", ())) or expects & set(t.get("expects", ())):
            return kind
    return ""


# -- vocabulary matching -------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _term_pattern(term: str) -> re.Pattern:
    whole = term.endswith("$")
    body = re.escape(term.rstrip("$"))
    end = r"(?!\w)" if whole else ""
    return re.compile(rf"(?<!\w){body}{end}")


def _matches(term: str, folded: str) -> list[tuple[int, int]]:
    return [m.span() for m in _term_pattern(term).finditer(folded)]


def vocab_hits(group: str, text: str) -> list[tuple[str, int, int]]:
    """(item, start, end) of every item of a vocabulary group found in text (positions in the
    folded text, which keeps the length of the original for the scripts of these four languages)."""
    folded = fold(text)
    hits = []
    for item, spec in _spec()["vocab"][group].items():
        # German writes "außerhalb" and "ausserhalb" (fold keeps "ß", so that positions stay the same)
        spans = [s for term in spec["terms"] for t in {fold(term), fold(term).replace("ss", "ß")}
                 for s in _matches(t, folded)]
        if spans:
            start, end = min(spans)
            hits.append((item, start, end))
    return sorted(hits, key=lambda h: h[1])


def _label(group: str, item: str, language: str, text: str, start: int, end: int) -> str:
    spec = _spec()["vocab"][group][item]
    if spec.get("text") and len(fold(text)) == len(text):  # a proper name (an authority): copied
        return _whole_words(text, start, end)  # from the sentence as written
    return spec["label"].get(language) or spec["label"]["en"]


def _whole_words(text: str, start: int, end: int) -> str:
    """The words of text[start:end] extended to word boundaries and to the capitalised words that
    follow ("Landesbeauftragte für Datenschutz"), as written in the source."""
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] in "-'"):
        end += 1
    tail = re.match(r"((?:\s+(?:für|für die|de la|van de|voor de|für den|de|du|des|der)?\s*[A-ZÄÖÜÉ][\w-]+){0,3})",
                    text[end:])
    return (text[start:end] + (tail.group(1) if tail else "")).strip()


# -- proper names --------------------------------------------------------------------------------
_WORD = re.compile(r"[\w&][\w&.'-]*")


def names_in(text: str, language: str, organisations_only: bool = False) -> list[str]:
    """Proper names written in a sentence: runs of capitalised words (with connectors inside),
    never a run of only ordinary words; in German a run needs an organisation word, an acronym or
    inner capitals, since every noun is capitalised there. `organisations_only` asks that of every
    language: "Liechtenstein of IJsland" is a name, but not one that answers "which data ...?"."""
    spec = _spec()["names"]
    not_names = set(spec["not_names"])
    connectors = set(spec["connectors"])
    org_words = {fold(o) for o in spec["org_words"]}
    legal_forms = {fold(o).rstrip(".") for o in spec["legal_forms"]}  # words are read without their last dot
    skip = {fold(o) for o in spec["not_a_name"]}
    words = [(m.group(0).rstrip(".'-") or m.group(0), m.start()) for m in _WORD.finditer(text)]
    runs, current = [], []
    for i, (w, pos) in enumerate(words):
        if current and text[current[-1][1] + len(current[-1][0]):pos].strip(" "):
            runs.append(current)  # a run never crosses a line, comma, bracket or bullet
            current = []
        # an ordinary capitalised word ("Data") may continue a name, never start one
        capital = (w[:1].isupper() or bool(re.search(r"[a-z][A-Z]", w))) and (bool(current) or fold(w) not in not_names)
        if capital or (current and w.lower() in connectors and i + 1 < len(words) and words[i + 1][0][:1].isupper()):
            current.append((w, pos))
        else:
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    out = []
    for run in runs:
        while run and run[-1][0].lower() in connectors:
            run = run[:-1]
        if not run:
            continue
        if len(run) > 1 and _sentence_start(text, run[0][1]) and not _marked([run[0][0]], org_words):
            run = run[1:]  # "Hoewel DWH ...": a capital that only starts the sentence
            while run and run[0][0].lower() in connectors:
                run = run[1:]
        if not run:
            continue
        if fold(run[0][0]) in legal_forms:  # "fortrabbit GmbH": the name before a legal form may be lower-case
            before = text[:run[0][1]].rstrip(" ")
            prev = re.search(r"[\w&.'-]+$", before)
            if prev and fold(prev.group(0)) not in not_names:
                run = [(prev.group(0), prev.start())] + run
        ws = [w for w, _ in run]
        marked = _marked(ws, legal_forms) or (len(ws) > 1 and _marked(ws, org_words))
        if fold(" ".join(ws)) in skip:
            continue
        if organisations_only or language == "de" or _is_german_text(text):
            if not marked:
                continue
        elif len(ws) == 1 and not marked:
            continue  # one capitalised word: a sentence start or an ordinary noun more often than a name
        start, end = run[0][1], run[-1][1] + len(run[-1][0])
        name = text[start:end]
        if name not in out:
            out.append(name)
    return out


def _marked(words: list[str], org_words: set[str]) -> bool:
    """An organisation word, an acronym ("CNIL") or inner capitals ("reCAPTCHA", "YouTube")."""
    return bool({fold(w).rstrip(".") for w in words} & org_words) or any(
        (len(w) >= 3 and w.isupper() and w.isalpha()) or re.search(r"[a-z][A-Z]", w) for w in words)


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    return not before or before[-1] in ".!?:;\n•*-–(\"'“«>"


_GERMAN = re.compile(r"\b(und|der|die|das|wir|ihre|nicht|werden)\b")


def _is_german_text(text: str) -> bool:
    return len(_GERMAN.findall(text.lower())) >= 2


# -- reading the facts of one type ---------------------------------------------------------------
def _phrases(language: str) -> dict:
    from .answer import phrases  # the one loader of prompts/phrases.json

    table = phrases().get(language) or phrases()["en"]
    return table["typed"]


def _period_items(citations: list[Citation], language: str) -> list[tuple[str, int]]:
    from .answer import render_duration

    items = []
    for c in citations:
        found = durations(c.text)
        if not found:
            continue
        categories = vocab_hits("data_categories", c.text)
        anchors = vocab_hits("anchors", c.text)
        for d in _distinct(found):
            # what a period applies to: the data categories of its own clause, else of the sentence
            # when it names one period only; from when: an anchor after the period in its clause
            clause_start, clause_end = _clause(c.text, d)
            own = [h for h in categories if clause_start <= h[1] < clause_end] or (categories if len(found) == 1 else [])
            after = [h for h in anchors if clause_start <= h[1] < clause_end] or (anchors if len(found) == 1 else [])
            what = " / ".join(_label("data_categories", item, language, c.text, s, e) for item, s, e in own[:2])
            when = " ".join(_label("anchors", item, language, c.text, s, e) for item, s, e in after[:2])
            period = render_duration(d, language) + (f" {when}" if when else "")
            items.append((f"{what}: {period}" if what else period, c.n))
    return items


def _distinct(found: list[Duration]) -> list[Duration]:
    seen, out = set(), []
    for d in found:
        key = (d.number, d.unit, d.qualifier)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _clause(text: str, d: Duration) -> tuple[int, int]:
    at = text.find(d.text)
    if at < 0:
        return 0, len(text)
    joiners = [f", {w} " for w in every_language("clause_joiners")]
    left = max(text.rfind(sep, 0, at) for sep in (";", ". ", "\n", *joiners))
    rights = [i for i in (text.find(sep, at) for sep in (";", ". ", "\n")) if i >= 0]
    return left + 1, (min(rights) if rights else len(text))


def _age_items(citations: list[Citation], language: str) -> list[tuple[str, int]]:
    items = []
    for c in citations:
        for d in durations(c.text):
            if d.unit == "year" and 10 <= d.number <= 21:  # an age limit, not a retention period
                items.append((_phrases(language)["age"].format(n=d.number), c.n))
    return items


def _fact_items(fact: str, citations: list[Citation], language: str) -> list[tuple[str, int]]:
    if fact == "periods":
        return _period_items(citations, language)
    if fact == "ages":
        return _age_items(citations, language)
    if fact == "emails":
        return [(e, c.n) for c in citations for e in emails(c.text)]
    if fact == "dates":
        return [(d, c.n) for c in citations for d in dates(c.text)[:1]]
    if fact in NAME_FACTS:
        return [(n, c.n) for c in citations
                for n in names_in(c.text, c.language or language, fact == "organisations")[:MAX_NAMES]]
    if fact.startswith("vocab:"):
        group = fact.split(":", 1)[1]
        return [(_label(group, item, language, c.text, s, e), c.n) for c in citations
                for item, s, e in vocab_hits(group, c.text)]
    raise ValueError(f"unknown fact kind {fact!r} in rag/data/answer_types.json")


def _merge(items: list[tuple[str, int]]) -> list[str]:
    """Same fact from several sentences: one item with every [n]; a name inside a longer one goes."""
    refs: dict[str, list[int]] = {}
    shown: dict[str, str] = {}
    for text, n in items:
        key = fold(text)
        if any(key != fold(other) and key in fold(other) for other, _ in items):
            continue
        shown.setdefault(key, text)
        refs.setdefault(key, [])
        if n not in refs[key]:
            refs[key].append(n)
    return [f"{shown[key]} {''.join(f'[{n}]' for n in ns)}" for key, ns in list(refs.items())[:MAX_ITEMS]]


OWN_NAME_TYPES = ("controller", "dpo", "contact")  # where the company's own name is the answer


def typed_facts(question: str, language: str, citations: list[Citation], kind: str | None = None,
                company_name: str = "") -> TypedAnswer:
    """The facts of the question's type found in the citations, as one sentence per fact kind."""
    kind = question_type(question) if kind is None else kind
    if not kind or not citations:
        return TypedAnswer(kind, "")
    templates = _phrases(language)
    parts, stated = [], []
    own = {fold(w) for w in re.findall(r"\w+", company_name)}
    for fact in _spec()["types"][kind]["facts"]:
        found = _fact_items(fact, citations, language)
        if fact in NAME_FACTS:  # not a name already stated as another fact, nor (mostly) the company itself
            found = [(n, i) for n, i in found if not any(fold(n) in fold(s) for s in stated)
                     and (kind in OWN_NAME_TYPES or not {fold(w) for w in re.findall(r"\w+", n)} <= own)]
        stated += [text for text, _ in found]
        items = _merge(found)
        if items:
            separator = "; " if fact == "periods" else ", "
            name = "names" if fact in NAME_FACTS else fact.split(":")[-1]  # both kinds are names
            template = templates.get(f"{kind}:{name}") or templates[name]
            parts.append(template.format(items=separator.join(items)))
    return TypedAnswer(kind, " ".join(parts))


def topic_line(kind: str, language: str, company_name: str, refs: str) -> str:
    """When no fact of the asked kind is in the quotes: which topic they are about, and where."""
    topics = _phrases(language)["topics"]
    return _phrases(language)["topic_only"].format(company=company_name, topic=topics.get(kind) or topics["other"],
                                                   refs=refs)
