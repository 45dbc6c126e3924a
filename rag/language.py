"""The question's language: nl/fr/en/de, falling back to the interface language when unsure."""
from __future__ import annotations

import re

from index.language import LANGUAGES, identify

MIN_CONFIDENCE = 0.80
_WORD = re.compile(r"[^\W\d_]+")


def detect_question_language(question: str, interface_language: str | None = None) -> str:
    """Short questions are ambiguous ("Cookies?"): below MIN_CONFIDENCE use the interface language."""
    fallback = interface_language if interface_language in LANGUAGES else "en"
    if len(_WORD.findall(question)) < 2:
        return fallback
    language, probability = identify(question)
    return language if probability >= MIN_CONFIDENCE else fallback
