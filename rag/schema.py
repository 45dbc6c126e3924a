"""The shapes that cross module boundaries: what `rag` returns and the CLI prints as JSON."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Citation:
    """A verbatim span of a policy's source text: source_text[start:end] == text."""

    n: int
    text: str
    source: str  # path of the source text, relative to the project when possible
    start: int
    end: int
    section: str
    score: float
    language: str = ""  # language of the policy the quote comes from
    company: str = ""
    # the quote in the answer's language, verified (rag/translate.py); None when the policy is in
    # that language, for the extractive backend, or when no translation passed the checks
    translation: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    company: str
    question: str
    language: str  # the question's language: the answer is written in it
    status: str  # "answered" | "not_found"
    answer: str
    citations: list[Citation] = field(default_factory=list)
    backend: str = "extractive"
    timings_ms: dict[str, int] = field(default_factory=dict)
    id: str | None = None
    notice: str | None = None  # e.g. "question shortened to 2000 characters", "fell back to extractive"
    # The verified direct answer (yes/no verdict, the periods, dates, addresses asked for) in the
    # question's language; a generated answer opens with it. Not part of the JSON contract.
    lead: str = ""
    # yes | no | conditional | None: only for yes/no questions, only when a cited sentence states it
    # (rag/verdict.py); the answer opens with it. Model backends never change it.
    verdict: str | None = None

    def to_json(self) -> dict:
        out = {
            "id": self.id,
            "company": self.company,
            "question": self.question,
            "language": self.language,
            "status": self.status,
            "verdict": self.verdict,
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "backend": self.backend,
            "timings_ms": self.timings_ms,
        }
        if self.notice:
            out["notice"] = self.notice
        return out
