"""Language identification restricted to the four languages PlainPolicy speaks (py3langid)."""
from __future__ import annotations

import threading

LANGUAGES = ("nl", "fr", "en", "de")
_identifier = None
_lock = threading.Lock()


def _get_identifier():
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(LANGUAGES))
            _identifier = identifier
    return _identifier


def identify(text: str) -> tuple[str, float]:
    """(language, probability) among nl/fr/en/de."""
    lang, prob = _get_identifier().classify(text)
    return lang, float(prob)
