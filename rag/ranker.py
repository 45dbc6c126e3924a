"""The learned models of the answering core, loaded from rag/models/ (trained by `make train`).

- ranker.txt: a LightGBM LambdaRank model over the candidate features of rag/features.py; it
  orders a policy's citable units for a question.
- answerable.txt + answerable.json: a LightGBM binary classifier over question-level signals of
  the ranked units (answerability_features) and its threshold (the json), chosen by cross-validation; the
  probability against the threshold decides `answered` vs `not_found`. (Trees, not a linear model:
  "close in meaning but no privacy concept in the question" is an interaction a line cannot draw;
  cross-validated accuracy 0.860 against 0.830, see rag/models/README.md.)

Models are plain files (LightGBM's text format, JSON): nothing is unpickled.
"""
from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from .features import FEATURES

# PLAINPOLICY_MODELS_DIR: another set of model files (scripts/cv_policyqa.py points it at a
# cross-validation fold's models); by default the committed ones.
MODELS_DIR = Path(os.environ.get("PLAINPOLICY_MODELS_DIR") or Path(__file__).resolve().parent / "models")
_lock = threading.Lock()


class ModelMissing(RuntimeError):
    """The model files are not there: `make train` writes them."""


def _booster(name: str, features: list[str], what: str):
    """A LightGBM model file of rag/models/, checked against the feature names the code computes."""
    import lightgbm as lgb

    path = MODELS_DIR / name
    if not path.exists():
        raise ModelMissing(f"no {what} model at {path}: run `make train`")
    booster = lgb.Booster(model_file=str(path))
    if booster.feature_name() != features:
        raise ModelMissing(f"{path} was trained on other features than the code computes: run `make train`")
    return booster


@lru_cache(maxsize=1)
def ranker():
    return _booster("ranker.txt", FEATURES, "ranking")


def rank_scores(features: np.ndarray) -> np.ndarray:
    """One relevance score per candidate row (higher is better); comparable within a question only."""
    if len(features) == 0:
        return np.zeros(0)
    with _lock:  # LightGBM's predict is thread-safe, but a single thread is fastest on small inputs
        return ranker().predict(features, num_threads=1)


# -- answerability -------------------------------------------------------------------------------
TOP = 3
ANSWERABILITY_FEATURES = [
    "s1", "s2", "s3", "gap12", "s1_minus_median", "s1_z",
    "d_unit_max", "d_unit_top", "d_ctx_top", "bm25_unit_top", "lexical_top", "concept_top", "key_own_top3",
    "key_ctx_top3", "key_frac_top3", "key_policy", "q_keys", "q_concepts", "q_domain", "fact_match_top3", "exp_any", "cross_language", "yes_no",
]


def answerability_features(features: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Question-level signals: how good the best candidates are, in absolute terms and against the
    rest of the policy, and whether they share the question's topic and the fact type it asks for."""
    if len(scores) == 0:
        return np.zeros(len(ANSWERABILITY_FEATURES))
    f = {name: features[:, i] for i, name in enumerate(FEATURES)}
    order = np.argsort(-scores)
    top = order[:TOP]
    s = scores[order]
    s = np.concatenate([s, np.full(max(0, TOP - len(s)), s[-1])])
    std = float(scores.std()) or 1.0
    row = {
        "s1": s[0], "s2": s[1], "s3": s[2], "gap12": s[0] - s[1], "s1_minus_median": s[0] - float(np.median(scores)),
        "s1_z": (s[0] - float(scores.mean())) / std,
        "d_unit_max": float(f["d_unit"].max()), "d_unit_top": float(f["d_unit"][top[0]]),
        "d_ctx_top": float(f["d_ctx"][top[0]]), "bm25_unit_top": float(f["bm25_unit"][top[0]]),
        "lexical_top": float(f["lexical"][top[0]]), "concept_top": float(f["concept"][top].max()),
        "key_own_top3": float(f["key_own"][top].max()), "key_ctx_top3": float(f["key_ctx"][top].max()),
        "key_frac_top3": float(f["key_frac"][top].max()), "key_policy": float(f["key_policy"][0]),
        "q_keys": float(f["q_keys"][0]), "q_concepts": float(f["q_concepts"][0]), "q_domain": float(f["q_domain"][0]),
        "fact_match_top3": float(f["fact_match"][top].max()),
        "exp_any": float(max(f["exp_duration"][0], f["exp_date"][0], f["exp_email"][0], f["exp_list"][0])),
        "cross_language": float(f["cross_language"][0]), "yes_no": float(f["yes_no"][0]),
    }
    return np.array([row[name] for name in ANSWERABILITY_FEATURES], dtype=float)


@lru_cache(maxsize=1)
def answerability_model() -> dict:
    """{"features", "threshold", "booster"}: the trees of answerable.txt, their feature names, and the
    cross-validated threshold of answerable.json."""
    booster = _booster("answerable.txt", ANSWERABILITY_FEATURES, "answerability")
    path = MODELS_DIR / "answerable.json"
    if not path.exists():
        raise ModelMissing(f"no answerability threshold at {path}: run `make train`")
    return {"features": booster.feature_name(), "threshold": json.loads(path.read_text(encoding="utf-8"))["threshold"],
            "booster": booster}


def answerable_probability(features: np.ndarray, scores: np.ndarray) -> float:
    x = answerability_features(features, scores)[None, :]
    with _lock:
        return float(answerability_model()["booster"].predict(x, num_threads=1)[0])


def is_answerable(probability: float) -> bool:
    return probability >= answerability_model()["threshold"]
