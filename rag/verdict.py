"""Yes/no verdicts, only from evidence: `yes` | `no` | `conditional` | None.

A yes/no question ("Do you sell my data?") gets a verdict only when a cited sentence states it about
the act asked. The decision is a multinomial logistic regression (rag/models/verdict.json, trained
by `make train` on the yes/no questions with gold verdicts) over signals of the best-ranked
sentences: is the asked act negated nearby, does an exception or a condition follow, how much of the
question's topic the sentence covers. It abstains (None) unless its probability clears a threshold
chosen by cross-validation for the fewest wrong verdicts: quoting without a verdict is always
better than a wrong one.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache

import numpy as np

from .concepts import concepts_in, fold, key_concepts, question_concepts, word_concepts
from .features import FEATURES
from .lexicon import is_about_reader, is_yes_no_question, word_pattern

VERDICTS = ("yes", "no", "conditional")
TOP = 3
NEGATION_WINDOW = 6  # words between a negation and the word carrying the asked act
# the kinds of words a unit is flagged for (feature prefix -> rag/data/lexicon.json entry); each gives
# a feature of the best unit (exception1, ...) and of the three best (exception_top, ...)
WORD_KINDS = {"exception": "exception_words", "condition": "condition_words", "consent": "consent_words",
              "legal": "legal_duty_words", "modal": "modal_words"}
VERDICT_FEATURES = [
    "yes_no", "about_reader", "q_negated", "q_keys",
    "s1", "gap12", "cover1", "keys1", "neg_near1", "neg_any1", "exception1", "condition1",
    "consent1", "legal1", "modal1",
    "cover_max", "keys_max", "neg_near_top", "neg_any_top", "exception_top", "condition_top",
    "consent_top", "legal_top", "modal_top",
    "neg_near_covered", "concept1", "d_unit1",
]


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:['’][^\W_]+)?", fold(text))


def _negated_near(words: list[str], carries) -> bool:
    neg = [i for i, w in enumerate(words) if word_pattern("negation_words").fullmatch(w)]
    hits = [i for i, w in enumerate(words) if carries(w)]
    return any(abs(i - j) <= NEGATION_WINDOW for i in neg for j in hits)


def verdict_features(question: str, language: str, texts: list[str], features: np.ndarray,
                     scores: np.ndarray) -> np.ndarray:
    """Signals of the question and of its TOP best-ranked units (texts/features/scores: all units)."""
    q_concepts = question_concepts(question)
    keys = key_concepts(q_concepts) or q_concepts
    carries = (lambda w: bool(keys & word_concepts(w))) if keys else (lambda w: False)
    order = np.argsort(-scores)[:TOP] if len(scores) else []
    col = {name: i for i, name in enumerate(FEATURES)}
    rows = []
    for i in order:
        text = texts[i]
        words = _words(text)
        own = concepts_in(text)
        rows.append({
            "cover": len(q_concepts & own) / len(q_concepts) if q_concepts else 0.0,
            "keys": len(keys & own) / len(keys) if keys else 0.0,
            "neg_near": float(_negated_near(words, carries)),
            "neg_any": float(bool(word_pattern("negation_words").search(fold(text)))),
            **{kind: float(bool(word_pattern(entry).search(text))) for kind, entry in WORD_KINDS.items()},
            "concept": float(features[i, col["concept"]]), "d_unit": float(features[i, col["d_unit"]]),
        })
    if not rows:
        return np.zeros(len(VERDICT_FEATURES))
    weights = [1.0, 0.6, 0.4][:len(rows)]
    top_of = lambda key: max(w * r[key] for w, r in zip(weights, rows))  # noqa: E731
    s = np.sort(scores)[::-1]
    first = rows[0]
    row = {
        "yes_no": float(is_yes_no_question(question, language)), "about_reader": float(is_about_reader(question, language)),
        "q_negated": float(_negated_near(_words(question), carries)), "q_keys": float(len(key_concepts(q_concepts))),
        "s1": float(s[0]), "gap12": float(s[0] - s[1]) if len(s) > 1 else 0.0,
        "cover1": first["cover"], "keys1": first["keys"], "neg_near1": first["neg_near"], "neg_any1": first["neg_any"],
        **{f"{kind}1": first[kind] for kind in WORD_KINDS},
        "cover_max": top_of("cover"), "keys_max": top_of("keys"), "neg_near_top": top_of("neg_near"),
        "neg_any_top": top_of("neg_any"),
        **{f"{kind}_top": top_of(kind) for kind in WORD_KINDS},
        "neg_near_covered": max(r["neg_near"] * r["keys"] for r in rows),
        "concept1": first["concept"], "d_unit1": first["d_unit"],
    }
    return np.array([row[name] for name in VERDICT_FEATURES], dtype=float)


@lru_cache(maxsize=1)
def verdict_model() -> dict | None:
    from .ranker import MODELS_DIR

    path = MODELS_DIR / "verdict.json"
    if not path.exists():
        return None
    model = json.loads(path.read_text(encoding="utf-8"))
    return model if model["features"] == VERDICT_FEATURES else None


def predict_verdict(question: str, language: str, texts: list[str], features: np.ndarray,
                    scores: np.ndarray) -> tuple[str | None, float]:
    """(verdict or None, its probability). None for open questions and whenever unsure."""
    model = verdict_model()
    if model is None or not is_yes_no_question(question, language):
        return None, 0.0
    x = (verdict_features(question, language, texts, features, scores) - np.asarray(model["mean"])) / np.asarray(model["scale"])
    logits = np.asarray(model["coef"]) @ x + np.asarray(model["intercept"])
    p = np.exp(logits - logits.max())
    p /= p.sum()
    best = int(np.argmax(p))
    label = model["classes"][best]
    if label not in VERDICTS or p[best] < model["threshold"]:
        return None, float(p[best])
    return label, float(p[best])
