"""The question-answering pipeline as a LangChain (LCEL) runnable:

    prepare (language, limits) -> retrieve (hybrid) -> evidence (sentences, status) -> generate

`generate` is the only step that differs between backends: the extractive answer is always built
(it is the fallback and the `not_found` decision), and a chat model, when chosen, rewrites it in
plain words under verification (rag/generate.py).
"""
from __future__ import annotations

import time
from typing import Iterator

from langchain_core.runnables import Runnable, RunnableLambda

from index.load import COMPANY_ID
from index.settings import Settings, get_settings
from index.store import StoreError

from .answer import build_extractive, phrase
from .evidence import rank_evidence, ranked_paragraphs
from .language import detect_question_language
from .long_question import pick_question
from .retrieve import get_retriever
from .schema import Answer, Citation


class QuestionError(ValueError):
    """Bad input from the user (empty question, malformed company id): say so, in one line."""


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def check_company_id(company: str) -> str:
    if not isinstance(company, str) or not COMPANY_ID.match(company):
        raise QuestionError(f"invalid company id {company!r}: use the id shown by `python -m rag companies`")
    return company


def prepare(settings: Settings, company: str, question: str, interface_language: str | None = None) -> dict:
    check_company_id(company)
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("the question is empty: type a question about the policy")
    limit = settings.max_question_chars
    # Over the limit, the text keeps its question (the last sentence that asks), and says so.
    picked = pick_question(question, limit)
    question = picked.question
    language = detect_question_language(question, interface_language)
    notice = None
    if picked.shortened:
        notice = (phrase(language, "question_picked", n=limit, question=question) if picked.found
                  else phrase(language, "shortened", n=limit))
    return {"company": company, "question": question, "language": language, "notice": notice, "timings": {}}


def _retriever_for(settings: Settings, company: str):
    retriever = get_retriever(settings)
    if company not in retriever.companies():
        raise StoreError(f"unknown company {company!r} (known: {', '.join(sorted(retriever.companies()))})")
    return retriever


def _retrieve(settings: Settings):
    def step(state: dict) -> dict:
        started = time.perf_counter()
        retriever = _retriever_for(settings, state["company"])
        # the same question worded in the policy's language, when the caller has it (the fact card's
        # items): same-language ranking and answerability are stronger than across languages
        asked, asked_language = state.get("evidence_question") or (state["question"], state["language"])
        ranking = rank_evidence(retriever, state["company"], asked, asked_language)
        info = retriever.companies()[state["company"]]
        state.update(retriever=retriever, ranking=ranking, company_info=info)
        state["timings"]["retrieve"] = _ms(time.perf_counter() - started)
        return state
    return step


def _extract(state: dict) -> dict:
    started = time.perf_counter()
    info = state["company_info"]
    answer = build_extractive(state["question"], state["language"], state["company"], info["name"],
                              info["source"], info.get("language", ""), state["ranking"])
    answer.notice = state["notice"]
    state["extractive"] = answer
    state["timings"]["evidence"] = _ms(time.perf_counter() - started)
    return state


def _generate(backend: str, settings: Settings):
    def step(state: dict) -> Answer:
        started = time.perf_counter()
        fallback: Answer = state["extractive"]
        if backend == "extractive":
            answer = fallback
        else:
            from .generate import generate_answer
            from .llm import load_chat_model

            chat_model = load_chat_model(backend, settings)
            answer = generate_answer(chat_model, state["question"], state["language"], fallback.citations,
                                     fallback, backend)
        answer.timings_ms = {**answer.timings_ms, **state["timings"], "generate": _ms(time.perf_counter() - started)}
        return answer if backend == "extractive" else with_translations(answer, chat_model, settings)
    return step


def with_translations(answer: Answer, chat_model, settings: Settings) -> Answer:
    """The answer with verified translations of its top quotes when they are in another language
    (rag/translate.py). Model backends only: the extractive backend has no model to translate with."""
    from .translate import TOP_QUOTES, cache_for, needs_translation, translate_citations

    if answer.status != "answered" or not any(needs_translation(c, answer.language)
                                              for c in answer.citations[:TOP_QUOTES]):
        return answer
    started = time.perf_counter()
    answer.citations = translate_citations(chat_model, answer.citations, answer.language, cache_for(settings))
    answer.timings_ms = {**answer.timings_ms, "translate": _ms(time.perf_counter() - started)}
    return answer


def build_chain(settings: Settings | None = None, backend: str = "extractive") -> Runnable:
    settings = settings or get_settings()
    return (RunnableLambda(_retrieve(settings)) | RunnableLambda(_extract)
            | RunnableLambda(_generate(backend, settings))).with_config(run_name="plainpolicy")


def resolve_backend(settings: Settings, backend: str | None) -> str:
    backend = backend or settings.backend
    if backend in (None, "", "auto"):
        try:
            from .llm import default_backend

            return default_backend(settings)
        except ImportError:
            return "extractive"
    if backend not in ("extractive", "local", "openai"):
        raise QuestionError(f"unknown backend {backend!r}: choose extractive, local or openai")
    return backend


def warm_retrieval(settings: Settings) -> None:
    """Load the store's embedders and the question-domain prototypes (rag/features.py
    domain_prototypes: 76 card questions to embed, ~0.9 s), so the first question pays for neither."""
    from .features import domain_prototypes

    retriever = get_retriever(settings)
    unit = retriever.unit_embedder_name
    domain_prototypes(unit, retriever.embedders()[unit])


def warm_backend(settings: Settings, backend: str | None = None) -> str:
    """Load the retrieval side and the generator of ``backend`` (resolved as ``ask`` does), and have
    the generator read its fixed system prompt, so the first question pays for none of it. Returns
    the backend's name."""
    warm_retrieval(settings)
    name = resolve_backend(settings, backend)
    if name != "extractive":
        from . import translate
        from .generate import warm_up
        from .llm import load_chat_model

        chat_model = load_chat_model(name, settings)
        translate.warm_up(chat_model)  # first: the answer's prompt is then the one read last
        warm_up(chat_model)
    return name


def ask(company: str, question: str, settings: Settings | None = None, backend: str | None = None,
        interface_language: str | None = None, id: str | None = None,
        evidence_question: tuple[str, str] | None = None) -> Answer:
    """Answer one question about one company's policy. ``evidence_question``: (the same question
    in another language, that language), to rank the evidence with instead; the answer is still
    written for ``question`` in its language (rag/card.py asks each item in the policy's language)."""
    settings = settings or get_settings()
    state = prepare(settings, company, question, interface_language)
    state["evidence_question"] = evidence_question
    answer = build_chain(settings, resolve_backend(settings, backend)).invoke(state)
    answer.id = id
    return answer


def stream_ask(company: str, question: str, settings: Settings | None = None, backend: str | None = None,
               interface_language: str | None = None) -> Iterator[str | Answer]:
    """Text pieces as they become safe to show, then the final Answer, whose text always starts with
    the pieces: nothing shown is ever taken back (rag/generate.py, "Streaming contract").

    With a model backend the quotes' translations are made after the last text piece and arrive
    with the final Answer (its citations' ``translation``): the answer text is on screen first."""
    settings = settings or get_settings()
    backend = resolve_backend(settings, backend)
    state = prepare(settings, company, question, interface_language)
    state = RunnableLambda(_extract).invoke(RunnableLambda(_retrieve(settings)).invoke(state))
    fallback: Answer = state["extractive"]
    if backend == "extractive" or fallback.status == "not_found":
        fallback.timings_ms = dict(state["timings"])
        yield fallback.answer
        yield fallback
        return
    from .generate import stream_answer
    from .llm import load_chat_model

    started = time.perf_counter()
    chat_model = load_chat_model(backend, settings)
    for piece in stream_answer(chat_model, state["question"], state["language"],
                               fallback.citations, fallback, backend):
        if isinstance(piece, Answer):
            piece.timings_ms = {**piece.timings_ms, **state["timings"], "generate": _ms(time.perf_counter() - started)}
            piece = with_translations(piece, chat_model, settings)
        yield piece


def search(company: str, question: str, settings: Settings | None = None, k: int = 5) -> list[Citation]:
    """The k best passages (paragraphs around the best-ranked sentences), in the citation shape, best first."""
    settings = settings or get_settings()
    state = prepare(settings, company, question)
    retriever = _retriever_for(settings, company)
    info = retriever.companies()[company]
    ranking = rank_evidence(retriever, company, state["question"], state["language"])
    source = retriever.source_text(company)
    return [Citation(n=i + 1, text=source[start:end], source=info["source"], start=start, end=end, section=section,
                     score=round(score, 4), language=info.get("language", ""), company=company)
            for i, (start, end, section, score) in enumerate(ranked_paragraphs(ranking, k))]


def companies(settings: Settings | None = None) -> dict[str, dict]:
    settings = settings or get_settings()
    return get_retriever(settings).companies()


def source_text(company: str, settings: Settings | None = None) -> str:
    """The text citations of this company point into (the policy file, or its extracted text)."""
    settings = settings or get_settings()
    return get_retriever(settings).source_text(check_company_id(company))
