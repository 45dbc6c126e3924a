"""Rights-request letters (GDPR Art. 15-21) addressed to the contact the policy itself names.

The contact is found by asking the project's own search (rag.chain.search) where to write about
one's personal data, in the policy's language, and reading an e-mail address, a postal address and
a legal name out of the best passages with regular expressions. Every value is a verbatim slice of a
cited passage (citations in the contract shape, exact spans); nothing is invented: when the policy
names no contact, the letter says so and leaves a placeholder. The letter's words are per-language
templates in rag/data/letters.json (formal register), read by the one data loader (rag/lexicon.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from index.settings import Settings, get_settings
from index.store import PolicyStore

from .chain import QuestionError, check_company_id, search
from .facts import EMAIL
from .lexicon import LANGUAGES, data_file, localized
from .schema import Citation

ARTICLES = {"access": 15, "rectification": 16, "erasure": 17, "restriction": 18, "portability": 20, "objection": 21}
RIGHTS = tuple(ARTICLES)
PASSAGES_PER_QUESTION = 6

# Questions put to the policy, in its own language: the ranker finds address blocks best that way.
CONTACT_QUESTIONS = {
    "en": ("How can I contact the data controller or the data protection officer about my personal data?",
           "Who is the data controller and what is its postal address?",
           "At what address is the company established?"),
    "nl": ("Hoe kan ik contact opnemen met de verwerkingsverantwoordelijke of de functionaris voor gegevensbescherming over mijn persoonsgegevens?",
           "Wie is de verwerkingsverantwoordelijke en wat is het adres?",
           "Op welk adres is het bedrijf gevestigd?"),
    "fr": ("Comment contacter le responsable du traitement ou le délégué à la protection des données au sujet de mes données personnelles ?",
           "Qui est le responsable du traitement et quelle est son adresse postale ?",
           "À quelle adresse l'entreprise est-elle établie ?"),
    "de": ("Wie kann ich den Verantwortlichen oder den Datenschutzbeauftragten zu meinen personenbezogenen Daten kontaktieren?",
           "Wer ist der Verantwortliche und wie lautet seine Postanschrift?",
           "Unter welcher Anschrift ist das Unternehmen ansässig?"),
}

_UPPER = "A-ZÀ-ÖØ-Þ"
_CITY = rf"[{_UPPER}][\w’'-]+(?:[ -][{_UPPER}][\w’'-]+){{0,3}}"
_STREET = r"[\w’'.-]+(?:[ -][\w’'.-]+){0,4}?\s\d{1,5}[a-zA-Z]?(?:\s*-?\s*(?:bus|box|bte|boîte)\s*\d+)?"
_POSTCODE = r"(?:[A-Z]{1,2}-)?\d{4,5}(?:\s?[A-Z]{2}(?![\w]))?"
_COUNTRY = r"(?:\s*[,–-]\s*(?:België|Belgium|Belgique|Belgien|Nederland|The Netherlands|Netherlands|Pays-Bas|Niederlande|France|Frankrijk|Frankreich|Deutschland|Germany|Duitsland|Allemagne|Luxembourg|Luxemburg))?"
# "Groenstraat 31, 2640 Mortsel, België" / "avenue de Finlande 2\n1420 Braine-l’Alleud – België"
STREET_FIRST = re.compile(rf"(?<![\w’'.-])(?:{_STREET})\s*[,\n]\s*{_POSTCODE}\s+{_CITY}{_COUNTRY}")
# "met maatschappelijke zetel te 2640 Mortsel, Groenstraat 31"
POSTCODE_FIRST = re.compile(rf"(?<![\w-]){_POSTCODE}\s+{_CITY}\s*,\s*[{_UPPER}]{_STREET}")
LEGAL_FORMS = r"(?:nv|NV|N\.V\.|bv|BV|B\.V\.|bvba|BVBA|vzw|VZW|SA|S\.A\.|SRL|SPRL|SAS|SARL|asbl|ASBL|GmbH|AG|Ltd|Limited|LLC|Inc\.?|plc|CV|SCRL)"
LEGAL_NAME = re.compile(rf"(?<![\w-])((?:[{_UPPER}][\w&’'-]*\s+){{1,4}}{LEGAL_FORMS})(?![\w])")


# Which right a question is about, from the privacy concepts it names (rag/concepts.py, every language).
RIGHT_OF_CONCEPT = {"delete": "erasure", "rectify": "rectification", "portability": "portability",
                    "object": "objection", "access": "access"}
LETTER_CONCEPTS = {"rights", "request", "dpo", "withdraw", "complaint"}


def suggested_right(question: str) -> str | None:
    """The right a question is about (erasure for "how do I get my data deleted?"); `access` for a
    question about one's rights in general; None when a request letter would be beside the point."""
    from .concepts import question_concepts

    concepts = question_concepts(question or "")
    for concept, right in RIGHT_OF_CONCEPT.items():
        if concept in concepts:
            return right
    return "access" if concepts & LETTER_CONCEPTS else None


class LetterError(QuestionError):
    """A bad right or language: one line, like every other input error."""


@dataclass
class Contact:
    name: str | None = None
    email: str | None = None
    address: str | None = None
    citations: list[Citation] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.name, "email": self.email, "address": self.address}


def find_address(text: str) -> str | None:
    for pattern in (STREET_FIRST, POSTCODE_FIRST):
        m = pattern.search(text)
        if m:
            return m.group(0).strip()
    return None


def find_email(text: str) -> str | None:
    """The address as written ("privacy[at]x.com" stays as it is: it must be a slice of the policy)."""
    m = EMAIL.search(text)
    return m.group(0).rstrip(".") if m else None


def find_name(text: str) -> str | None:
    m = LEGAL_NAME.search(text)
    return m.group(1) if m else None


def find_contact(company: str, settings: Settings | None = None) -> Contact:
    """The controller's contact as the policy states it, with the passages it was read from."""
    settings = settings or get_settings()
    known = PolicyStore(settings).companies()  # the manifest only: an unknown id loads no model
    if company not in known:
        raise QuestionError(f"unknown company {company!r} (known: {', '.join(sorted(known))})")
    info = known[company]
    return _find_contact(company, settings, info.get("sha256", ""), info.get("language", "en"))


@lru_cache(maxsize=64)  # keyed by the policy's hash: a new version is looked up afresh
def _find_contact(company: str, settings: Settings, sha256: str, language: str) -> Contact:
    passages: list[Citation] = []
    seen: set[tuple[int, int]] = set()
    ranked = [search(company, q, settings=settings, k=PASSAGES_PER_QUESTION)
              for q in CONTACT_QUESTIONS.get(language, CONTACT_QUESTIONS["en"])]
    for rank in range(PASSAGES_PER_QUESTION):  # interleave the questions' rankings, best first
        for result in ranked:
            if rank < len(result) and (result[rank].start, result[rank].end) not in seen:
                seen.add((result[rank].start, result[rank].end))
                passages.append(result[rank])
    contact, used = Contact(), []
    for finder, attr in ((find_email, "email"), (find_address, "address")):
        for p in passages:
            value = finder(p.text)
            if value:
                setattr(contact, attr, value)
                used.append(p)
                break
    for p in used + passages[:2]:  # the controller's legal name, preferably where the contact is
        name = find_name(p.text)
        if name:
            contact.name = name
            used.append(p)
            break
    unique = []
    for p in used:
        if all((p.start, p.end) != (u.start, u.end) for u in unique):
            unique.append(p)
    contact.citations = [Citation(n=i + 1, text=p.text, source=p.source, start=p.start, end=p.end, section=p.section,
                                  score=p.score, language=p.language, company=p.company)
                         for i, p in enumerate(sorted(unique, key=lambda c: c.start))]
    return contact


def _ref(contact: Contact, value: str | None) -> str:
    """"value [n]": which citation the value was read from."""
    for c in contact.citations:
        if value and value in c.text:
            return f"{value} [{c.n}]"
    return value or ""


def compose(right: str, language: str, company_name: str, contact: Contact, name: str | None = None) -> str:
    """The letter's text in `language` (plain text; [n] point at the contact's citations)."""
    words = localized("letters", language)
    spec = words["rights"][right]
    article = ARTICLES[right]
    writer = " ".join((name or "").split()) or words["placeholder_name"]
    found = contact.email or contact.address
    to = [f"{words['to_label']} {_ref(contact, contact.name) if contact.name else company_name}"]
    to.append(_ref(contact, contact.address) if contact.address else words["placeholder_address"])
    to.append(_ref(contact, contact.email) if contact.email else words["placeholder_email"])
    if not found:
        to.append(words["no_contact"].format(company=company_name))
    body = [
        "\n".join([writer, words["sender_address"]]),
        "\n".join(to),
        words["place_date"],
        words["subject"].format(article=article, right=spec["name"]),
        words["salutation"],
        words["intro"].format(right=spec["name"], article=article, company=company_name),
        spec["request"],
        words["identity"],
        words["deadline"],
        words["complaint"],
        "\n".join([words["closing"], "", writer]),
    ]
    return "\n\n".join(body) + "\n"


def check_right(right: str) -> str:
    if right not in ARTICLES:
        raise LetterError(f"unknown right {right!r}: choose {', '.join(RIGHTS)}")
    return right


def check_language(language: str | None) -> str:
    language = language or "en"
    if language not in LANGUAGES or language not in data_file("letters"):
        raise LetterError(f"unknown language {language!r}: choose {', '.join(LANGUAGES)}")
    return language


def write_letter(company: str, right: str, language: str | None = None, name: str | None = None,
                 settings: Settings | None = None) -> dict:
    """The `rag letter` contract: {"company", "right", "language", "letter", "to", "citations"}."""
    settings = settings or get_settings()
    check_company_id(company)
    right, language = check_right(right), check_language(language)
    contact = find_contact(company, settings)
    company_name = PolicyStore(settings).companies()[company].get("name") or company
    return {"company": company, "right": right, "article": ARTICLES[right], "language": language,
            "letter": compose(right, language, company_name, contact, name), "to": contact.to_json(),
            "citations": [c.to_json() for c in contact.citations]}


def letter_markdown(result: dict) -> str:
    """The letter as Markdown, with the cited passages it took the contact from."""
    words = localized("letters", result["language"])
    lines = [result["letter"].rstrip(), "", "---", "", f"**{words['sources_title']}**", ""]
    for c in result["citations"]:
        quote = " ".join(c["text"].split())
        lines += [f"[{c['n']}] {c['source']} ({c['start']}-{c['end']}):", "", f"> {quote}", ""]
    return "\n".join(lines) + "\n"
