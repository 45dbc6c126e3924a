"""Plain-language answers from a chat model, verified against the cited passages before release.

    generate_answer(chat_model, question, language, citations, fallback, backend_name) -> Answer
    stream_answer(chat_model, question, language, citations, fallback, backend_name) -> Iterator[str | Answer]

The model sees only the numbered evidence passages and the question (prompts/answer.txt), with the
target language named in English and in itself. Its answer is checked by rag.verify; on failure it
gets one retry that states the problems (prompts/rewrite.txt); if that fails too, the extractive
``fallback`` Answer is returned with ``backend="extractive-fallback"`` and a ``notice`` saying why.
When ``fallback.status == "not_found"`` (or there are no citations) the model is not called at all.

The lead: when the extractive step found a direct answer (``fallback.lead``: a yes/no verdict on
clear evidence, the periods, dates or e-mail addresses asked for, in the question's language), that
text is true by construction. It is released at once as the first piece, and the model writes the
plain-words explanation that follows it (at most MAX_SENTENCES_AFTER_LEAD sentences, over the
MAX_PASSAGES_AFTER_LEAD best passages and those the lead cites, one attempt). The answer is the lead
plus the verified explanation; what the model repeats of the lead, and a yes/no opener agreeing
with it, are dropped; a yes/no opener contradicting it fails verification.

Streaming contract (``stream_answer``)
--------------------------------------
The iterator yields zero or more ``str`` pieces, then exactly one ``Answer`` (always last).

- A piece is released only after it passed every check that can be decided on it: text is held
  back until a sentence carrying a ``[n]`` marker completes, then that group of sentences is
  checked (markers valid, numbers/durations/dates/e-mails/URLs present in the passages, language,
  no invented names, yes/no agreeing with the negations of the cited passages) and released as one
  piece. The last group is released only after the whole-answer check passed too. So no text that
  failed verification is ever yielded.
- Pieces are meant to be appended in order (each piece carries its own leading space).
- Shown text is never taken back: the final ``Answer.answer`` always starts with the concatenated
  pieces. When the whole-answer check fails after some groups were released, the answer is what
  was released (each group passed its own checks); what failed after it is dropped. When it fails
  before anything of the model was released, the answer is the extractive one (typed facts and
  quotes), yielded as a piece of its own, with ``backend == "extractive-fallback"``.
- Why the model's text was not used goes to the log only: never into ``notice`` or onto a screen.
- A retry is made only when nothing of the model was released.

``Answer.status`` is always the fallback's status; ``Answer.citations`` are the given citations.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from functools import lru_cache
from typing import Iterator, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from index.settings import PROJECT_DIR
from rag.schema import Answer, Citation
from rag.factcheck import extract_facts, fact_problems
from rag.polarity import answer_polarity, polarity_problems
from rag.sentences import marker_numbers, sentence_spans, split_sentences, strip_markers
from rag.verify import (
    register_problems,
    completeness_problems,
    entity_problems,
    verify_answer,
    verify_sentence,
    without_instructions,
)

log = logging.getLogger(__name__)

PROMPTS_DIR = PROJECT_DIR / "prompts"
MAX_SENTENCES = 3  # of the model's text (the prompt asks for 1 to 3)
MAX_SENTENCES_AFTER_LEAD = 2  # the direct answer is already there: 1 or 2 sentences explain it
# After a lead the model sees only the best passages and those the lead cites: every passage is
# prompt the 2-core CPU must read before the first word (~60 tokens/s).
MAX_PASSAGES_AFTER_LEAD = 3
MAX_PASSAGE_CHARS = 900
# A retry is started only this soon after the question: a first attempt that took longer is followed
# by the extractive answer (typed facts and quotes) instead of a second wait as long (issue 12's
# goals on 2 cores: p50 <= 6 s, p95 <= 20 s per answer).
RETRY_BUDGET_S = 5.0


# ---------------------------------------------------------------------------------------------
# Prompts
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _template(name: str) -> dict[str, str]:
    """A prompt file split into its '### name' blocks (system, user, ...)."""
    text = (PROMPTS_DIR / name).read_text(encoding="utf-8")
    blocks: dict[str, str] = {}
    for m in re.finditer(r"^### (\w+)\s*\n(.*?)(?=^### |\Z)", text, re.S | re.M):
        blocks[m.group(1)] = m.group(2).strip()
    return blocks


@lru_cache(maxsize=1)
def language_names() -> dict[str, dict[str, str]]:
    data = json.loads((PROMPTS_DIR / "languages.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _language_fields(language: str) -> dict[str, str]:
    names = language_names().get(language) or language_names()["en"]
    return {"language_en": names["en"], "language_native": names["native"]}


def format_passages(citations: Sequence[Citation]) -> str:
    lines = []
    for c in citations:
        text = " ".join(without_instructions(c.text).split()) or "(no usable text)"
        if len(text) > MAX_PASSAGE_CHARS:
            text = text[: MAX_PASSAGE_CHARS - 1] + "…"
        lines.append(f"[{c.n}] {text}")
    return "\n".join(lines)


def build_messages(question: str, language: str, citations: Sequence[Citation], lead: str = "") -> list[BaseMessage]:
    """System + user message of prompts/answer.txt: the numbered passages and the question only.
    With a ``lead`` (the verified direct answer the reader already sees) the model is asked for
    1 or 2 sentences; it is not shown the lead (measured: a 1.5B model told about it mostly copies
    it), its repeats of the lead are dropped instead (``_Attempt.text``)."""
    tpl = _template("answer.txt")
    asked = " ".join(without_instructions(question).split()) or "(no question: only an instruction to an assistant)"
    fields = {"passages": format_passages(citations), "question": asked,
              "sentences": "1 or 2" if lead else "1 to 3", **_language_fields(language)}
    messages: list[BaseMessage] = []
    if tpl.get("system"):
        messages.append(SystemMessage(content=tpl["system"].format(**fields)))
    messages.append(HumanMessage(content=tpl["user"].format(**fields)))
    return messages


def warm_up(chat_model: BaseChatModel) -> None:
    """Load the model and have it read the fixed system prompt once: a local runtime keeps that
    prefix cached (llama.cpp cache_prompt), so no question pays for it. Best effort."""
    tpl = _template("answer.txt")
    if not tpl.get("system"):
        return
    system = tpl["system"].format(passages="", question="", sentences="", **_language_fields("en"))
    try:
        chat_model.invoke([SystemMessage(content=system)], max_tokens=1)
    except Exception as exc:  # the first question will load it and report any problem
        log.warning("warm-up of the chat model failed: %s", exc)


def build_retry_messages(first: list[BaseMessage], previous_answer: str, problems: Sequence[str],
                         language: str) -> list[BaseMessage]:
    """The first conversation, the rejected answer, and prompts/rewrite.txt stating the problems."""
    tpl = _template("rewrite.txt")
    fields = {"problems": "\n".join(f"- {p}" for p in problems), **_language_fields(language)}
    return [*first, AIMessage(content=previous_answer or "(no answer)"),
            HumanMessage(content=tpl["user"].format(**fields))]


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


_MARKER_VARIANTS = re.compile(
    r"\[\s*(?:passage|passages|bron|source|quelle|passage n°|n°|#)\s*(\d{1,2})\s*\]"
    r"|\(\s*(?:passage|bron|source|quelle)?\s*\[?(\d{1,2})\]?\s*\)"
    r"|【(\d{1,2})】",
    re.IGNORECASE,
)


def clean_text(text: str) -> str:
    """Model output as shown: no markdown emphasis, no 'Answer:' label, single spaces, and citation
    markers in the one form the verifier and the UI read ("(passage 2)", "[Passage 2]" -> "[2]")."""
    text = text.replace("**", "").replace("__", "")
    text = _MARKER_VARIANTS.sub(lambda m: f"[{next(g for g in m.groups() if g)}]", text)
    text = re.sub(r"^\s*(?:answer|antwoord|réponse|reponse|antwort)\s*:\s*", "", text, flags=re.I)
    # a marker before the first word cites nothing ("[1] U kunt een klacht indienen ... [2].")
    text = re.sub(r"^\s*(?:\[\d{1,2}\]\s*)+(?=[^\W\d_])", "", text)
    text = re.sub(r"^\s*[-*•]\s+", "", text, flags=re.M)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    # list enumerators ("vous pouvez: 1. Se connecter ... 2. Envoyer") are layout, not facts
    text = re.sub(r"(^|[:;.!?]\]?\s*)\d{1,2}[.)]\s+(?=[^\W\d_])", r"\1", text)
    return text


def _group_problems(group: str, language: str, citations: Sequence[Citation], question: str,
                    company: str) -> list[str]:
    problems = verify_sentence(group, language, citations, question=question, company=company)
    problems += entity_problems(group, language, citations, question, company)
    problems += register_problems(group, language)
    if marker_numbers(group):
        problems += polarity_problems(group, citations)
    return list(dict.fromkeys(problems))


class _Attempt:
    """One model call, consumed incrementally; releases groups of sentences that pass their checks."""

    def __init__(self, language: str, citations: Sequence[Citation], question: str, company: str,
                 lead: str = "", verdict: str | None = None):
        self.language, self.citations, self.question, self.company = language, citations, question, company
        self.verdict = verdict
        self.lead_sentences = [lead[a:b].strip() for a, b in sentence_spans(lead)] if lead else []
        self.max_sentences = MAX_SENTENCES_AFTER_LEAD if lead else MAX_SENTENCES
        self.raw = ""
        self.released: list[str] = []  # groups released (checked), in order
        self.consumed = 0  # chars of the cleaned text covered by released groups
        self.problems: list[str] = []

    def text(self, final: bool = False) -> str:
        """The cleaned model output, without its opening sentences that only repeat the lead (or a
        bare "Yes."/"No." after it): the reader already sees them. ``final``: the output is complete,
        so its last sentence counts as a sentence too."""
        text = clean_text(self.raw)
        if not self.lead_sentences:
            return text
        while True:
            spans = sentence_spans(text, final=final)
            if not spans or not repeats_lead(text[spans[0][0]:spans[0][1]], self.lead_sentences):
                break
            text = text[spans[0][1]:].lstrip()
        if text and any(_fold(lead).startswith(_fold(text)) for lead in self.lead_sentences):
            return ""  # still writing out a repeat of the lead
        # "Yes, Sensus uses ..." after the lead "Yes: the policy says so [1]." -> "Sensus uses ..."
        opener = _OPENER.match(text)
        if opener and answer_polarity(text) == lead_verdict(self.lead_sentences):
            rest = text[opener.end():]
            text = rest[:1].upper() + rest[1:]
        return text

    def feed(self, piece: str) -> list[str]:
        """Add model output; return the groups that became releasable. Sets self.problems on a failure.

        A group is a run of complete sentences ending with one that carries a [n] marker; only the
        first ``max_sentences`` sentences are ever released.
        """
        self.raw += piece
        text = self.text()
        out = []
        spans = sentence_spans(text, final=False)[:self.max_sentences]
        group_start = self.consumed
        for a, b in spans:
            if b <= self.consumed or not marker_numbers(text[a:b]):
                continue  # already released, or held until a marked sentence completes the group
            group = text[group_start:b].strip()
            problems = _group_problems(group, self.language, self.citations, self.question, self.company)
            problems += verdict_problems(group, self.verdict)
            if problems:
                self.problems = problems
                return out
            out.append(group)
            self.released.append(group)
            self.consumed = group_start = b
        return out

    def answer_text(self) -> str:
        """The whole answer cut to ``max_sentences`` sentences, without a sentence cut off by max_tokens,
        with markers attributed to unmarked sentences whose facts all come from one passage."""
        text = self.text(final=True)
        spans = sentence_spans(text)
        if len(spans) > self.max_sentences:
            spans = spans[:self.max_sentences]
        if len(spans) > 1 and not re.search(r"[.!?]['\"”»)]*(?:\s*\[[\d,\s–-]+\])*\s*$", text[spans[-1][0]:spans[-1][1]]):
            spans = spans[:-1]  # unfinished last sentence (the token limit cut it)
        if spans:
            text = text[: spans[-1][1]]
        return attribute_markers(text.strip(), self.citations, self.language)

    def unreleased_tail(self, text: str) -> str | None:
        """What of ``text`` is not released yet, or None if it does not extend the released text."""
        done = " ".join(self.released)
        if not text.startswith(done):
            return None
        return text[len(done):].strip()

    def too_long(self) -> bool:
        return len(sentence_spans(self.text(), final=False)) > self.max_sentences


_OPENER = re.compile(r"(?:yes|ja|oui|nee|neen|no|non|nein)\s*[,:.!;]\s*(?=\S)", re.IGNORECASE)


def _fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", strip_markers(text).lower()))


def repeats_lead(sentence: str, lead_sentences: Sequence[str]) -> bool:
    """A sentence that says again what a lead sentence says: the same words give or take a few
    (Jaccard >= 0.6: "Non: la politique l'exclut" = "Non : la politique l'exclut"), or only the
    yes/no word of a verdict lead ("Ja [1].")."""
    words = set(_fold(sentence).split())
    if not words:
        return True
    for lead in lead_sentences:
        lead_words = set(_fold(lead).split())
        if lead_words and len(words & lead_words) / len(words | lead_words) >= 0.6:
            return True
    verdict = lead_verdict(lead_sentences)
    return bool(verdict) and len(words) <= 2 and answer_polarity(sentence) == verdict


def lead_verdict(lead_sentences: Sequence[str]) -> str | None:
    """'yes' / 'no' when the lead opens with a verdict."""
    return answer_polarity(lead_sentences[0]) if lead_sentences else None


def verdict_problems(text: str, verdict: str | None) -> list[str]:
    """The verdict is the evidence's (rag/verdict.py), never the model's: a sentence opening with
    yes or no is refused unless it states that same verdict ("No [1]. Yes, we sell your data [2]."),
    and when the evidence gives no plain yes/no (None, or conditional) no sentence may open with one."""
    problems = []
    for sentence in split_sentences(text):
        said = answer_polarity(sentence)
        if said and said != verdict:
            problems.append(f"the sentence '{sentence[:70]}' says {said}, but the passages do not say {said} "
                            "plainly: do not start with yes or no")
    return problems


def attribute_markers(text: str, citations: Sequence[Citation], language: str) -> str:
    """Add [n] to an unmarked sentence whose facts (numbers, periods, dates, e-mail addresses, URLs)
    all occur in passage n. Small models often drop markers; where the sentence's facts pin down the
    passage the marker is a fact, not a guess. Sentences without such facts stay unmarked."""
    out, last = [], 0
    for a, b in sentence_spans(text):
        sentence = text[a:b]
        out.append(text[last:a])
        last = b
        facts = extract_facts(sentence, language)
        has_facts = facts.numbers or facts.durations or facts.dates or facts.emails or facts.urls or facts.phones
        if not marker_numbers(sentence) and has_facts:
            for c in citations:
                if not fact_problems(sentence, [c.text], language):
                    m = re.search(r"\s*([.!?]['\"”»)]*)\s*$", sentence)
                    sentence = (sentence[: m.start()] + f" [{c.n}]" + m.group(1)) if m else f"{sentence} [{c.n}]"
                    break
        out.append(sentence)
    out.append(text[last:])
    return "".join(out)


def _run_attempt(chat_model: BaseChatModel, messages: list[BaseMessage], attempt: _Attempt,
                 release: bool) -> Iterator[str]:
    stream = chat_model.stream(messages)
    try:
        for chunk in stream:
            piece = chunk.content if isinstance(chunk.content, str) else "".join(
                p.get("text", "") if isinstance(p, dict) else str(p) for p in chunk.content)
            groups = attempt.feed(piece)
            if attempt.problems:
                return
            if release:
                yield from groups
            if attempt.too_long():
                break
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()  # stops the generation early when we stopped reading


def stream_answer(chat_model: BaseChatModel, question: str, language: str, citations: list[Citation],
                  fallback: Answer, backend_name: str, *, company: str | None = None) -> Iterator[str | Answer]:
    """Yield verified text pieces as they become safe to show, then the final Answer (see module doc).

    When the extractive step found a direct answer (``fallback.lead``: a yes/no verdict, the periods,
    dates or addresses asked for), it is true by construction, so it is yielded at once and the model
    only writes the plain-words explanation that follows it."""
    company = company if company is not None else (fallback.company or "")
    if fallback.status == "not_found" or not citations:
        yield fallback
        return
    load = getattr(chat_model, "load", None)  # a local model loads once per process: not a question's time
    if callable(load):
        load()
    started = time.perf_counter()
    lead = fallback.lead.strip()
    # what the model sees and may cite: after a lead, the best passages and those the lead rests on
    lead_refs = set(marker_numbers(lead))
    given = [c for i, c in enumerate(citations) if not lead or i < MAX_PASSAGES_AFTER_LEAD or c.n in lead_refs]
    messages = build_messages(question, language, given, lead)
    problems: list[str] = []
    released_model = False  # model text already shown: it stays, and no retry follows
    shown: list[str] = []  # every piece yielded so far, in order
    lead_ms = first_model_words_ms = None
    if lead:
        lead_ms = int((time.perf_counter() - started) * 1000)
        shown.append(lead)
        yield lead
    # After a lead the reader already has the direct answer: a failed explanation falls back at
    # once instead of costing a second generation (measured: the small model's retries there
    # mostly repeat the same fault).
    attempts = 1 if lead else 2
    for attempt_no in range(attempts):
        attempt = _Attempt(language, given, question, company, lead, fallback.verdict)
        try:
            for group in _run_attempt(chat_model, messages, attempt, release=True):
                if first_model_words_ms is None:
                    first_model_words_ms = int((time.perf_counter() - started) * 1000)
                piece = " " + group if (released_model or lead) else group
                released_model = True
                shown.append(piece)
                yield piece
        except Exception as exc:  # the model server failed: keep what was shown, else the extractive answer
            yield from _without_model(fallback, shown, f"the {backend_name} generator failed "
                                      f"({type(exc).__name__}: {exc})", started, backend_name)
            return
        model_text = attempt.answer_text()
        text = f"{lead} {model_text}".strip() if lead else model_text
        only_repeats = lead and not model_text and attempt.raw.strip()
        problems = (attempt.problems
                    or (["the answer only repeats the short answer the reader already sees: explain in other words "
                         "what the passages say about the question"] if only_repeats else [])
                    or verify_answer(model_text, language, given, question=question, company=company)
                    + verdict_problems(model_text, fallback.verdict)
                    or completeness_problems(text, fallback.answer, language))
        log.info("%s attempt %d (%s): %r -> %s", backend_name, attempt_no + 1, language, attempt.raw,
                 problems or "ok")
        if not problems:
            tail = attempt.unreleased_tail(model_text)
            if tail:
                if first_model_words_ms is None:
                    first_model_words_ms = int((time.perf_counter() - started) * 1000)
                piece = (" " if (released_model or lead) else "") + tail
                shown.append(piece)
                yield piece
            timings = {**fallback.timings_ms, "generate": int((time.perf_counter() - started) * 1000)}
            first_words_ms = lead_ms if lead_ms is not None else first_model_words_ms
            if first_words_ms is not None:
                timings["first_words"] = first_words_ms
            if first_model_words_ms is not None:
                timings["first_model_words"] = first_model_words_ms
            yield dataclasses.replace(
                fallback, answer="".join(shown), citations=list(citations), backend=backend_name, timings_ms=timings,
            )
            return
        if released_model:
            break  # what was shown stays; the rest is dropped, not retried
        if time.perf_counter() - started > RETRY_BUDGET_S:
            problems = problems + ["no time left for a second attempt"]
            break  # a second generation would double a wait the reader already had
        messages = build_retry_messages(messages, attempt.text() or model_text, problems, language)
    yield from _without_model(fallback, shown, "the generated answer failed verification ("
                              + "; ".join(problems[:3]) + ")", started, backend_name)


def _without_model(fallback: Answer, shown: list[str], why: str, started: float,
                   backend_name: str) -> Iterator[str | Answer]:
    """The end of an answer whose (remaining) model text is not used. The reason goes to the log;
    the reader sees a normal answer: what was already shown (kept as it is), or else the
    extractive answer (typed facts and quotes), which is then yielded as a piece too."""
    log.info("model text not used: %s", why)
    timings = {**fallback.timings_ms, "generate": int((time.perf_counter() - started) * 1000)}
    released_model = len(shown) > (1 if fallback.lead.strip() else 0)
    if released_model:
        yield dataclasses.replace(fallback, answer="".join(shown), backend=backend_name, timings_ms=timings)
        return
    if shown and fallback.answer.startswith(shown[0]):
        rest = fallback.answer[len(shown[0]):]
        if rest:
            yield rest
    elif not shown:
        yield fallback.answer
    else:  # the lead differs from the extractive answer's opening (not expected): keep what was shown
        yield dataclasses.replace(fallback, answer="".join(shown), backend="extractive-fallback", timings_ms=timings)
        return
    yield dataclasses.replace(fallback, backend="extractive-fallback", timings_ms=timings)


def generate_answer(chat_model: BaseChatModel, question: str, language: str, citations: list[Citation],
                    fallback: Answer, backend_name: str, *, company: str | None = None) -> Answer:
    """The verified generated Answer, or ``fallback`` marked "extractive-fallback" (see module doc)."""
    final = None
    for item in stream_answer(chat_model, question, language, citations, fallback, backend_name,
                              company=company):
        if isinstance(item, Answer):
            final = item
    assert final is not None
    return final
