"""One question asked of several companies: the answers one by one, as each is ready.

The compare table shows the extractive step (ranking, answerability, verdict, quotes), which takes
well under a second per company, instead of waiting for a model to write every company's answer.
"""
from __future__ import annotations

from typing import Iterator

from index.settings import Settings, get_settings
from index.store import StoreError

from .chain import QuestionError, ask, check_company_id, companies
from .schema import Answer


def parse_companies(text: str, settings: Settings) -> list[str]:
    """`a,b,c` -> ids, each checked against the store first (one clear line for a wrong one, before
    any work); duplicates dropped, order kept."""
    ids = list(dict.fromkeys(part.strip() for part in (text or "").split(",") if part.strip()))
    if not ids:
        raise QuestionError("give the companies to compare: --companies a,b,c")
    known = companies(settings)
    for company in ids:
        check_company_id(company)
        if company not in known:
            raise StoreError(f"unknown company {company!r} (known: {', '.join(sorted(known))})")
    return ids


def compare_answers(ids: list[str], question: str, settings: Settings | None = None, backend: str = "extractive",
                    interface_language: str | None = None) -> Iterator[tuple[str, Answer | None, Exception | None]]:
    """(company, answer, None) per company in the given order, each as soon as it is ready; a company
    that fails gives (company, None, error) and the others go on."""
    settings = settings or get_settings()
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("the question is empty: type a question about the policy")
    for company in ids:
        try:
            yield company, ask(company, question, settings=settings, backend=backend,
                               interface_language=interface_language), None
        except (QuestionError, StoreError) as exc:
            yield company, None, exc
