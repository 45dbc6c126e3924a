"""The learned models (rag/models/, written by `make train`) load, match the features the code
computes, and rank a known case: the sentence that states the period comes first for "how long"."""
import json

import numpy as np

import rag
from rag.facts import durations
from rag.features import FEATURES
from rag.ranker import ANSWERABILITY_FEATURES, MODELS_DIR, answerability_model, rank_scores, ranker
from rag.verdict import VERDICT_FEATURES, verdict_model


def test_models_load_and_match_the_features():
    assert ranker().feature_name() == FEATURES
    model = answerability_model()
    assert model["features"] == ANSWERABILITY_FEATURES and 0 < model["threshold"] < 1
    verdicts = verdict_model()
    assert verdicts is not None and verdicts["features"] == VERDICT_FEATURES
    assert set(verdicts["classes"]) >= {"yes", "no", "conditional"}
    metrics = json.loads((MODELS_DIR / "metrics.json").read_text())
    assert {"ranker_cv", "answerability_cv", "verdict_cv"} <= set(metrics)


def test_ranker_prefers_what_the_question_is_about():
    # Same unit, one row matching the question in meaning, words and concepts, the other not at all.
    good = np.zeros(len(FEATURES))
    for name, value in {"d_unit": 0.6, "d_unit_z": 3.0, "d_ctx": 0.6, "d_ctx_z": 3.0, "bm25_unit": 1.0,
                        "bm25_para": 1.0, "bm25_chunk": 1.0, "concept": 1.0, "key_own": 1.0, "lexical": 0.8,
                        "q_keys": 1, "q_concepts": 2}.items():
        good[FEATURES.index(name)] = value
    bad = good.copy()
    for name in ("d_unit", "d_unit_z", "d_ctx", "d_ctx_z", "bm25_unit", "bm25_para", "bm25_chunk", "concept",
                 "key_own", "lexical"):
        bad[FEATURES.index(name)] = -1.0 if name.endswith("_z") else 0.0
    scores = rank_scores(np.vstack([bad, good]))
    assert scores[1] > scores[0]


def test_a_known_case_is_ranked_first(sample_store):
    # Dutch policy, English and French questions: a retention period must be in the top three.
    for question in ("How long do you keep my data?", "Combien de temps conservez-vous mes données ?"):
        answer = rag.ask("sensus", question, settings=sample_store, backend="extractive")
        assert answer.status == "answered"
        assert any(durations(c.text) for c in answer.citations[:3]), [c.text for c in answer.citations]


def test_answerability_is_learned_not_constant(sample_store):
    on = rag.ask("sensus", "How long do you keep my data?", settings=sample_store, backend="extractive")
    off = rag.ask("sensus", "Who won the football world cup in 2018?", settings=sample_store, backend="extractive")
    assert on.status == "answered" and off.status == "not_found"


def test_the_second_embedder_feeds_the_ranker_and_one_embedder_still_works(sample_store, tmp_path):
    import dataclasses

    from index.build import build_index
    from rag.features import candidate_features, view_question
    from rag.retrieve import PolicyRetriever

    alt = [FEATURES.index(n) for n in FEATURES if n.startswith("d_alt")]
    question = "How long do you keep my data?"
    two = PolicyRetriever(sample_store)
    assert two.manifest["embedders"] == ["use", "e5"]
    _, X = candidate_features(two, "sensus", view_question(two, question, "en"))
    assert np.isfinite(X[:, alt]).all() and X[:, alt].std() > 0

    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "sensus.txt").write_text((sample_store.policies_dir / "sensus.txt").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    one_settings = dataclasses.replace(sample_store, store_dir=tmp_path / "store", policies_dir=policies, embedder="use")
    build_index(one_settings, progress=False)
    one = PolicyRetriever(one_settings)
    _, X1 = candidate_features(one, "sensus", view_question(one, question, "en"))
    assert np.isnan(X1[:, alt]).all()  # missing, as the ranker was trained to expect
    answer = rag.ask("sensus", question, settings=one_settings, backend="extractive")
    assert answer.status == "answered" and any(durations(c.text) for c in answer.citations[:3])


def test_yes_no_questions_by_their_structure():
    from rag.lexicon import is_yes_no_question

    yes_no = [("nl", "Verstrekken jullie mijn gegevens aan derden?"), ("nl", "Sturen jullie mij een nieuwsbrief?"),
              ("de", "Bindet ihr Social-Media-Plugins auf eurer Website ein?"), ("de", "Werden über mich automatisierte Entscheidungen getroffen?"),
              ("fr", "Les informations que je vous envoie sont-elles chiffrées ?"), ("fr", "Est-ce que je peux retirer mon consentement ?"),
              ("fr", "Vous vendez mes données ?"), ("en", "If I delete my account, do my comments disappear too?"),
              ("en", "Do you sell my data?"), ("nl", "Als ik mijn account opzeg, bewaren jullie dan mijn gegevens?")]
    open_ = [("nl", "Met wie delen jullie mijn gegevens?"), ("nl", "Hoe lang bewaren jullie mijn gegevens?"),
             ("de", "In welchem Land werden meine Daten gespeichert?"), ("de", "An wen kann ich mich wenden?"),
             ("fr", "À quoi servent les pixels invisibles ?"), ("fr", "Combien de temps conservez-vous mes données ?"),
             ("en", "How long do you keep my data?"), ("en", "Who is the data controller?")]
    assert all(is_yes_no_question(q, lang) for lang, q in yes_no), [q for lang, q in yes_no if not is_yes_no_question(q, lang)]
    assert not any(is_yes_no_question(q, lang) for lang, q in open_), [q for lang, q in open_ if is_yes_no_question(q, lang)]


def test_privacy_questions_read_closer_to_the_domain_than_off_topic_ones(sample_store):
    # q_domain: the answerability model's policy-independent sense of "is this a privacy question"
    from rag.features import view_question
    from rag.retrieve import PolicyRetriever

    retriever = PolicyRetriever(sample_store)
    domain = {q: view_question(retriever, q, lang).domain for q, lang in [
        ("How long do you keep my data?", "en"), ("Wie kann ich meine Einwilligung widerrufen?", "de"),
        ("What is the recipe for a chocolate cake with strawberries?", "en"),
        ("Qui a gagné le Tour de France en 2019 ?", "fr")]}
    privacy, off = list(domain.values())[:2], list(domain.values())[2:]
    assert min(privacy) > max(off), domain
