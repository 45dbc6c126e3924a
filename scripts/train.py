"""`make train`: learn the answering core's models from the training sets, with policy-disjoint
cross-validation, and write them to rag/models/ with their cross-validated figures.

    .venv/bin/python scripts/train.py [--cache .cache/train] [--folds 5]
    .venv/bin/python scripts/train.py --features-cache .cache/train/questions.pkl --cv-only --without a,b
        (a feature experiment: reuse the computed features, print the cross-validated figures of a
        ranker trained without the named features; writes no model)

1. ranker.txt       LightGBM LambdaRank over rag/features.py (which unit answers the question)
2. answerable.txt  LightGBM binary classifier over rag/ranker.py's question-level signals, trained
   answerable.json  on out-of-fold ranker scores (as at run time, on policies the ranker never saw);
                    the json holds the threshold that maximises cross-validated accuracy
3. verdict.json     the yes/no verdict model (rag/verdict.py), trained the same way
metrics.json        every cross-validated figure, printed too; rag/models/README.md (the data card) quotes them

Folds group questions by policy: no policy is ever in both the training and the validation part.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "scripts"))

from rag.features import FEATURES  # noqa: E402
from rag.ranker import ANSWERABILITY_FEATURES, MODELS_DIR, answerability_features  # noqa: E402
from rag.verdict import VERDICT_FEATURES, VERDICTS, verdict_features  # noqa: E402
from train_data import SETS, Question, load_sets, segment_ndcg  # noqa: E402

SEED = 7
RANKER_PARAMS = dict(objective="lambdarank", n_estimators=300, learning_rate=0.05, num_leaves=15,
                     min_child_samples=50, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                     lambdarank_truncation_level=20, random_state=SEED, verbose=-1, n_jobs=2)
# Small trees, many rows per leaf: 709 unanswerable questions. Unweighted, so probabilities keep the
# real prior. Chosen by CV over the logistic regression used before (C=0.05: accuracy 0.830, AUC 0.896)
# and four tree settings (accuracy 0.857-0.860, AUC 0.918-0.920); 150 trees: the most not_found recall.
ANSWERABILITY_PARAMS = dict(objective="binary", n_estimators=150, learning_rate=0.03, num_leaves=7,
                            min_child_samples=40, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                            reg_lambda=1.0, random_state=SEED, verbose=-1, n_jobs=2)
MULTILINGUAL_WEIGHT = 3
VERDICT_C = 0.1  # 159 yes/no questions: strong regularisation (CV over C in 0.1, 0.5, 2: 0.1 fewest wrong)  # multilingual questions are what users ask: each counts as 3 (repeated)


def folds(questions: list[Question], k: int):
    from sklearn.model_selection import GroupKFold

    groups = [q.company for q in questions]
    return list(GroupKFold(n_splits=k).split(questions, groups=groups))


ALT = [i for i, name in enumerate(FEATURES) if name.startswith("d_alt")]


def one_embedder(X: np.ndarray) -> np.ndarray:
    """The features as a store built with one embedder gives them: no other embedders' similarities."""
    X = X.copy()
    X[:, ALT] = np.nan
    return X


class _Averaged:
    """Several rankers' scores averaged (an experiment: --ranker-seeds with --cv-only)."""

    def __init__(self, boosters):
        self.boosters = boosters

    def predict(self, X):
        return np.mean([b.predict(X) for b in self.boosters], axis=0)


def fit_ranker(train: list[Question], cols: list[int] | None = None, seeds: int = 1):
    """LambdaRank on the features (only the columns `cols` when given: a feature experiment); with
    seeds > 1, that many models with other random seeds (row and column sampling), scores averaged."""
    if seeds > 1:
        return _Averaged([_fit_seed(train, cols, SEED + k) for k in range(seeds)])
    return _fit_seed(train, cols, SEED)


def _fit_seed(train: list[Question], cols: list[int] | None, seed: int):
    import lightgbm as lgb

    train = [q for q in train if q.labels is not None and q.labels.sum() > 0]
    repeated = [q for q in train for _ in range(1 if q.set == "policyqa" else MULTILINGUAL_WEIGHT)]
    # Every question once more without the other embedders' features (NaN), so that one model serves
    # a store built with one embedder as well as the default two.
    X = np.vstack([q.features for q in repeated] + [one_embedder(q.features) for q in train])
    y = np.concatenate([q.labels for q in repeated] + [q.labels for q in train])
    names = FEATURES
    if cols is not None:
        X, names = X[:, cols], [FEATURES[c] for c in cols]
    model = lgb.LGBMRanker(**{**RANKER_PARAMS, "random_state": seed})
    model.fit(X, y, group=[len(q.labels) for q in repeated + train], feature_name=names)
    return model.booster_


def load_questions(cache: Path, features_cache: str | None, sets: tuple) -> list[Question]:
    """The training questions with their features; with --features-cache, computed once and reused
    while rag/features.py's FEATURES stay the same (delete the file after changing how one is computed)."""
    import pickle

    path = Path(features_cache) if features_cache else None
    if path and path.exists():
        saved = pickle.loads(path.read_bytes())  # our own file, written below
        if set(FEATURES) <= set(saved["features"]):  # the same, or features were left out since
            if saved["features"] != FEATURES:
                cols = [saved["features"].index(name) for name in FEATURES]
                for q in saved["questions"]:
                    q.features = q.features[:, cols]
            return [q for q in saved["questions"] if q.set in sets]
        print(f"{path}: other features than rag/features.py computes; computing them again")
    questions = load_sets(cache, sets)
    if path:
        path.write_bytes(pickle.dumps({"features": FEATURES, "questions": questions}))
    return questions


def ranking_figures(questions: list[Question], scores: dict[str, np.ndarray]) -> dict:
    out = {}
    pqa = [q for q in questions if q.set == "policyqa"]
    if pqa:  # as `rag search --k 10` returns them: paragraphs, each scored by its best unit
        out["policyqa_ndcg@10"] = round(float(np.mean([segment_ndcg(q, scores[q.id]) for q in pqa])), 3)
    for name in ("multilingual", "extra", "card"):
        qs = [q for q in questions if q.set == name and q.answerable and q.labels.sum() > 0]
        if qs:
            out[f"{name}_hit@3"] = round(float(np.mean([q.labels[np.argsort(-scores[q.id])[:3]].max() for q in qs])), 3)
            out[f"{name}_hit@1"] = round(float(np.mean([q.labels[np.argmax(scores[q.id])] for q in qs])), 3)
    return out


def fit_logistic(X: np.ndarray, y: np.ndarray, C: float = 1.0, class_weight=None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    model = LogisticRegression(C=C, max_iter=2000, class_weight=class_weight).fit(scaler.transform(X), y)
    return scaler, model


def fit_answerability(X: np.ndarray, y: np.ndarray):
    import lightgbm as lgb

    # named columns: rag/ranker.py checks the saved trees against the features it computes
    return lgb.LGBMClassifier(**ANSWERABILITY_PARAMS).fit(X, y, feature_name=ANSWERABILITY_FEATURES)


def logistic_json(scaler, model, features, **extra) -> dict:
    out = {"features": features, "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(), **extra}
    if len(model.classes_) == 2:
        out.update(coef=model.coef_[0].tolist(), intercept=float(model.intercept_[0]))
    else:
        out.update(classes=[str(c) for c in model.classes_], coef=model.coef_.tolist(),
                   intercept=model.intercept_.tolist())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=str(PROJECT / ".cache" / "train"), help="where the training stores go")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--features-cache", help="a file to keep the computed features in, and reuse")
    ap.add_argument("--cv-only", action="store_true", help="print the cross-validated figures; write no model")
    ap.add_argument("--sets", default=",".join(SETS),
                    help="comma-separated training sets (an experiment; with --cv-only)")
    ap.add_argument("--ranker-seeds", type=int, default=1,
                    help="an experiment (with --cv-only): average that many rankers of other seeds")
    ap.add_argument("--without", default="", help="comma-separated features the ranker leaves out (with --cv-only)")
    args = ap.parse_args(argv)
    without = [w for w in args.without.split(",") if w]
    if without and not args.cv_only:
        ap.error("--without is a feature experiment: the models must compute every feature; add --cv-only")
    unknown = set(without) - set(FEATURES)
    if unknown:
        ap.error(f"unknown features: {sorted(unknown)}")
    cols = [i for i, name in enumerate(FEATURES) if name not in without] if without else None
    started = time.time()
    sets = tuple(x for x in args.sets.split(",") if x)
    if args.ranker_seeds > 1 and not args.cv_only:
        ap.error("--ranker-seeds is an experiment: add --cv-only")
    if set(sets) != set(SETS) and not args.cv_only:
        ap.error("--sets is an experiment: the models are trained on every set; add --cv-only")
    questions = load_questions(Path(args.cache), args.features_cache, sets)
    print(f"{len(questions)} questions, {len({q.company for q in questions})} policies "
          f"({time.time() - started:.0f} s to index and compute features)")
    splits = folds(questions, args.folds)

    # 1. ranker: out-of-fold scores give the cross-validated figures and the inputs of the next steps
    oof: dict[str, np.ndarray] = {}
    oof_one: dict[str, np.ndarray] = {}
    fold_dir = Path(args.cache) / "folds"
    for i, (tr, te) in enumerate(splits):
        model = fit_ranker([questions[j] for j in tr], cols, args.ranker_seeds)
        pick = (lambda X: X[:, cols]) if cols is not None else (lambda X: X)
        for j in te:
            oof[questions[j].id] = model.predict(pick(questions[j].features))
            oof_one[questions[j].id] = model.predict(pick(one_embedder(questions[j].features)))
        if args.cv_only:
            continue
        # each fold's ranker with the policies it never saw: scripts/cv_policyqa.py runs `rag search` with it
        (fold_dir / f"fold{i}").mkdir(parents=True, exist_ok=True)
        model.save_model(str(fold_dir / f"fold{i}" / "ranker.txt"))
        (fold_dir / f"fold{i}" / "heldout.json").write_text(json.dumps(sorted({questions[j].company for j in te})))
        print(f"  ranker fold {i + 1}/{len(splits)}")
    metrics = {"ranker_cv": ranking_figures(questions, oof),
               "ranker_cv_one_embedder": ranking_figures(questions, oof_one)}
    baseline = {q.id: q.features[:, FEATURES.index("bm25_unit")] for q in questions}
    metrics["bm25_units_same_folds"] = ranking_figures(questions, baseline)
    print("ranker, cross-validated:", metrics["ranker_cv"], " BM25 over units:", metrics["bm25_units_same_folds"])
    if not args.cv_only:
        final = fit_ranker(questions)
        MODELS_DIR.mkdir(exist_ok=True)
        final.save_model(str(MODELS_DIR / "ranker.txt"))

    # 2. answerability, on the gold sets that hold unanswerable questions
    # Each question twice: scored as a default store (two embedders) and a one-embedder store gives
    # it, so that the threshold holds for both (the ranker's scores differ between them).
    gold = [q for q in questions if q.set != "policyqa"]
    A = np.array([answerability_features(q.features, oof[q.id]) for q in gold]
                 + [answerability_features(one_embedder(q.features), oof_one[q.id]) for q in gold])
    y = np.array([q.answerable for q in gold] * 2, dtype=int)
    groups = np.array([q.company for q in gold] * 2)
    probs = np.zeros(len(y))
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    for tr, te in GroupKFold(n_splits=args.folds).split(A, y, groups):
        probs[te] = fit_answerability(A[tr], y[tr]).predict_proba(A[te])[:, 1]
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    accuracy = [float(np.mean((probs >= t) == y)) for t in grid]
    threshold = float(grid[int(np.argmax(accuracy))])
    pred = probs >= threshold
    metrics["answerability_cv"] = {
        "questions": len(gold), "unanswerable": int((y[:len(gold)] == 0).sum()), "rows": int(len(y)),
        "threshold": threshold,
        "accuracy": round(float(np.mean(pred == y)), 3),
        "not_found_recall": round(float(np.mean(~pred[y == 0])), 3),
        "answered_recall": round(float(np.mean(pred[y == 1])), 3),
        "note": "each question counted twice: scored with two embedders and with one",
        "brier": round(float(np.mean((probs - y) ** 2)), 3),
        "auc": round(float(roc_auc_score(y, probs)), 3),
    }
    sets = np.array([q.set for q in gold] * 2)
    metrics["answerability_cv"]["accuracy_by_set"] = {
        name: round(float(np.mean(pred[sets == name] == y[sets == name])), 3) for name in sorted(set(sets))}
    print("answerability, cross-validated:", metrics["answerability_cv"])
    if not args.cv_only:
        fit_answerability(A, y).booster_.save_model(str(MODELS_DIR / "answerable.txt"))
        (MODELS_DIR / "answerable.json").write_text(json.dumps({"threshold": threshold}, indent=1) + "\n")

    # 3. verdicts, on the yes/no questions
    # as for answerability: each yes/no question scored with two embedders and with one
    # (pred holds the two-embedder rows of `gold`, then the one-embedder rows)
    yn = [(q, pred[k * len(gold) + j]) for k in (0, 1) for j, q in enumerate(gold) if q.verdict]
    V = np.array([verdict_features(q.question, q.language, q.texts, q.features, scores[q.id])
                  for scores in (oof, oof_one) for q in gold if q.verdict])
    labels = np.array([q.verdict if q.verdict in VERDICTS else "none" for q, _ in yn])
    vgroups = np.array([q.company for q, _ in yn])
    vprobs = np.zeros((len(yn), len(VERDICTS) + 1))
    classes = sorted(set(labels))
    for tr, te in GroupKFold(n_splits=args.folds).split(V, labels, vgroups):
        scaler, model = fit_logistic(V[tr], labels[tr], C=VERDICT_C, class_weight="balanced")
        p = model.predict_proba(scaler.transform(V[te]))
        for ci, c in enumerate(model.classes_):
            vprobs[te, classes.index(c)] = p[:, ci]
    answered_mask = np.array([a for _, a in yn])
    best = None
    for t in np.round(np.arange(0.4, 1.0, 0.01), 2):
        guess = [classes[int(np.argmax(p))] if p.max() >= t and a else "none" for p, a in zip(vprobs, answered_mask)]
        wrong = sum(g != "none" and g != l for g, l in zip(guess, labels))
        correct = sum(g == l or (g == "none" and l == "none") for g, l in zip(guess, labels))
        # fewest wrong verdicts first (a wrong verdict is the worst outcome), then most correct
        key = (wrong, -correct)
        if best is None or key < best[0]:
            best = (key, float(t), wrong, correct)
    _, vthreshold, wrong, correct = best
    for (q, a), p, label in zip(yn, vprobs, labels):  # what a wrong verdict was, to read the case
        guess = classes[int(np.argmax(p))]
        if a and p.max() >= vthreshold and guess != "none" and guess != label:
            print(f"  wrong verdict {q.id}: {guess} ({p.max():.2f}), gold {label}: {q.question}")
    metrics["verdict_cv"] = {"questions": len(yn) // 2, "rows": "each question twice (two embedders, one)", "threshold": vthreshold, "wrong": int(wrong),
                             "correct": int(correct), "correct_rate": round(correct / max(1, len(yn)), 3)}
    print("verdicts, cross-validated:", metrics["verdict_cv"])
    if args.cv_only:
        print(json.dumps({k: metrics[k] for k in ("ranker_cv", "ranker_cv_one_embedder")}), f"without={without}")
        return 0
    scaler, model = fit_logistic(V, labels, C=VERDICT_C, class_weight="balanced")
    (MODELS_DIR / "verdict.json").write_text(json.dumps(logistic_json(
        scaler, model, VERDICT_FEATURES, threshold=vthreshold), indent=1) + "\n")

    for i in range(len(splits)):  # the fold folders need the other models to load (search does not use them)
        for name in ("answerable.json", "answerable.txt", "verdict.json"):
            (fold_dir / f"fold{i}" / name).write_text((MODELS_DIR / name).read_text())
    metrics["seconds"] = round(time.time() - started)
    (MODELS_DIR / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    print(f"wrote {MODELS_DIR}/ranker.txt, answerable.txt/.json, verdict.json, metrics.json in {metrics['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
