"""A text pasted into the question box that is longer than the limit keeps its question.

People paste a paragraph of the policy (or an e-mail) and ask about it at the end. Cutting the text
at the limit would ask the paragraph and drop the question, silently. Instead the question is the
last sentence that asks something (ends with "?" or opens with a question word of one of the four
languages, rag/data/lexicon.json), and the user is told which one was asked. The UI shows that
before asking (app.py), the CLI and the API in the answer's `notice`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import asks_something

# A sentence ends at . ! ? (and closing quotes or brackets) before whitespace, or at a line break.
_SENTENCE = re.compile(r"[^\n.!?？]*(?:[.!?？]+[\"'”’»)\]]*(?=\s|$)|\n|$)")


@dataclass(frozen=True)
class PickedQuestion:
    question: str  # what is asked: the whole text when it fits, else its question
    shortened: bool  # True when the text was over the limit
    found: bool  # True when a sentence that asks was found (else the text's last part is kept)
    original_chars: int


def sentences(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def _tail(text: str, limit: int) -> str:
    """The last `limit` characters, starting at a word."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    return cut.split(" ", 1)[1] if " " in cut[:200] else cut


def pick_question(text: str, limit: int) -> PickedQuestion:
    """`text` itself (whitespace folded) when it fits in `limit` characters; otherwise the last
    sentence in it that asks something, or, when none does, its last `limit` characters."""
    folded = " ".join(text.split())
    if len(folded) <= limit:
        return PickedQuestion(folded, False, True, len(folded))
    asking = [s for s in sentences(text) if asks_something(s)]
    if asking:
        return PickedQuestion(_tail(" ".join(asking[-1].split()), limit), True, True, len(folded))
    return PickedQuestion(_tail(folded, limit), True, False, len(folded))
