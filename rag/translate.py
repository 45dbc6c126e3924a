"""Verified machine translations of the quoted policy sentences into the answer's language.

    translate_citations(chat_model, citations, language, cache) -> citations with ``translation`` set
    translation_problems(source, translation, source_language, target_language) -> [] when it may be shown

A quote is translated one sentence at a time by the answering backend's chat model (the local GGUF
model or the openai backend; prompts/translate.txt, temperature 0). A translation is shown only when
every sentence of it passes every check, else the citation's ``translation`` stays None and the
reason is logged (never shown):

- facts kept: the numbers, periods, dates, e-mail addresses, URLs and phone numbers of the source are
  all in the translation and it has none of its own (rag/factcheck.py, both ways);
- negation kept: the source has a negation word <=> the translation has one (rag/data/lexicon.json
  through rag/lexicon.py);
- language: index/language.py identifies the translation as the target language;
- meaning: the cross-lingual embedding similarity of source and translation reaches the threshold
  calibrated on labelled translations by scripts/calibrate_translation.py (rag/models/translation.json).

The model's raw translations are cached on disk per (model, prompt, target language, sentence)
(``TranslationCache``); the checks run again on every use, so a new calibration applies at once.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from index.embed import load_embedder
from index.language import identify
from index.settings import PROJECT_DIR, Settings
from rag.factcheck import fact_problems
from rag.lexicon import word_pattern
from rag.schema import Citation
from rag.sentences import split_sentences

log = logging.getLogger(__name__)

PROMPT_FILE = PROJECT_DIR / "prompts" / "translate.txt"
CALIBRATION_FILE = Path(__file__).resolve().parent / "models" / "translation.json"
TOP_QUOTES = 3  # the quotes a reader looks at; each costs the 2-core CPU about a second
# A unit longer than this (a long list block) is not translated: it would cost the reader seconds
# for text they can open in context anyway.
MAX_SOURCE_CHARS = 700


# ---------------------------------------------------------------------------------------------
# The prompt and the model call
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _prompt() -> tuple[dict[str, str], str]:
    """The '### system' / '### user' blocks of prompts/translate.txt and a short hash of the file
    (part of the cache key: a changed prompt translates again)."""
    text = PROMPT_FILE.read_text(encoding="utf-8")
    blocks = {m.group(1): m.group(2).strip()
              for m in re.finditer(r"^### (\w+)\s*\n(.*?)(?=^### |\Z)", text, re.S | re.M)}
    return blocks, hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def build_messages(sentence: str, source_language: str, target_language: str) -> list[BaseMessage]:
    # the system prompt names no language, so it is the same for every call and a local runtime
    # reads it once (llama.cpp keeps the KV cache of the shared prefix)
    from rag.generate import language_names

    names = language_names()
    source, target = names.get(source_language, names["en"]), names.get(target_language, names["en"])
    blocks, _ = _prompt()
    fields = {"source_en": source["en"], "target_en": target["en"], "target_native": target["native"],
              "sentence": " ".join(sentence.split())}
    return [SystemMessage(content=blocks["system"].format(**fields)),
            HumanMessage(content=blocks["user"].format(**fields))]


_LABEL = re.compile(r"^\s*(?:translation|vertaling|traduction|übersetzung|uebersetzung)\s*(?:\([^)]*\))?\s*:\s*",
                    re.IGNORECASE)
_QUOTED = re.compile(r"[\"'“”„«‘`]\s*(.+?)\s*[\"'“”»’`]\s*([.!?]?)", re.S)


def clean_translation(raw: str) -> str:
    """The model's text as a translation: its first non-empty line after any introduction ("Here is
    the English translation:"), without a "Translation:" label or quotes around it (small models add
    all three despite the prompt)."""
    lines = [line.strip() for line in (raw or "").splitlines() if line.strip()]
    while len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[1:]
    text = _LABEL.sub("", lines[0]) if lines else ""
    quoted = _QUOTED.fullmatch(text)
    if quoted:  # «...». -> ...
        inner, stop = quoted.groups()
        text = inner if inner.endswith((".", "!", "?")) else inner + stop
    return " ".join(text.split())


def _max_tokens(sentence: str) -> int:
    # about 3.5 characters per token in these languages; a translation runs up to ~1.5x longer
    return min(400, 24 + len(sentence) // 2)


def model_id(chat_model: BaseChatModel) -> str:
    """What makes two models' translations differ: the GGUF file, or the server and model name."""
    for attr in ("model_path", "model_name", "model"):
        value = getattr(chat_model, attr, None)
        if isinstance(value, str) and value:
            name = Path(value).name if attr == "model_path" else value
            base = getattr(chat_model, "openai_api_base", None) or ""
            return f"{name}@{base}" if base else name
    return type(chat_model).__name__


def warm_up(chat_model: BaseChatModel) -> None:
    """Have the model read the translation system prompt once (it names no language, so it is the
    same for every call): a local runtime keeps that prefix (rag/runtimes.py). Best effort."""
    system = build_messages("", "nl", "en")[0]  # the system message every translation starts with
    try:
        chat_model.invoke([system], max_tokens=1, temperature=0)
    except Exception as exc:  # the first translation will load it and report any problem
        log.warning("warm-up of the translation prompt failed: %s", exc)


def model_output(chat_model: BaseChatModel, sentence: str, source_language: str, target_language: str) -> str:
    """The model's reply to the translation prompt, as it said it (temperature 0)."""
    message = chat_model.invoke(build_messages(sentence, source_language, target_language),
                                max_tokens=_max_tokens(sentence), temperature=0)
    return message.content if isinstance(message.content, str) else "".join(
        p.get("text", "") if isinstance(p, dict) else str(p) for p in message.content)


def model_translation(chat_model: BaseChatModel, sentence: str, source_language: str, target_language: str) -> str:
    return clean_translation(model_output(chat_model, sentence, source_language, target_language))


# ---------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------


_NUMBER_SIGN = re.compile(r"\bno\.?\s*(?=\d)", re.IGNORECASE)  # "Regulation No. 2016/679" is no negation


def has_negation(text: str) -> bool:
    """Any negation word of the lexicon (rag/data/lexicon.json, every language). Plain presence, not
    rag.polarity.is_negated's reading: a translation carries the source's "niet" over whatever it
    means there ("niet langer dan" -> "not longer than", "does not keep ... longer than"), while
    "niet langer dan" -> "longer than" loses it."""
    return bool(word_pattern("negation_words").search(_NUMBER_SIGN.sub(" ", text)))


@lru_cache(maxsize=1)
def calibration() -> dict:
    """{"embedders": [...], "threshold": float, ...} written by scripts/calibrate_translation.py."""
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=4096)
def _vector(embedder: str, text: str) -> np.ndarray:
    # kept: a repeated question checks its cached translations again without embedding them again
    vector = np.asarray(load_embedder(embedder).embed_query(text), dtype=float)
    return vector / (np.linalg.norm(vector) or 1.0)


def similarity(source: str, translation: str, embedders: Sequence[str]) -> float:
    """Mean cosine similarity of the two texts over ``embedders`` (symmetric: both as queries)."""
    return float(np.mean([_vector(name, source) @ _vector(name, translation) for name in embedders]))


def translation_problems(source: str, translation: str, source_language: str, target_language: str,
                         settings: dict | None = None) -> list[str]:
    """Why ``translation`` may not be shown as the translation of ``source`` ([] when it may).
    ``settings``: the calibration (default: rag/models/translation.json)."""
    if not translation.strip():
        return ["the translation is empty"]
    problems = [f"dropped: {p}" for p in fact_problems(source, [translation], source_language or None)]
    problems += [f"added: {p}" for p in fact_problems(translation, [source], target_language)]
    if has_negation(source) != has_negation(translation):
        problems.append("the source has a negation and the translation has none" if has_negation(source)
                        else "the translation has a negation and the source has none")
    language, probability = identify(translation)
    if language != target_language:
        problems.append(f"the translation reads as {language} ({probability:.2f}), not {target_language}")
    if not problems:  # the embedders are the slow part: only for an otherwise good translation
        cal = settings or calibration()
        score = similarity(source, translation, cal["embedders"])
        if score < cal["threshold"]:
            problems.append(f"similarity {score:.3f} to the source is below the calibrated {cal['threshold']:.3f}")
    return problems


# ---------------------------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------------------------


class TranslationCache:
    """The model's raw translations on disk, one small JSON file per (model, prompt, target language,
    sentence). Writes are atomic (a temporary file in the same folder, then a rename), so concurrent
    answers in several threads or processes never see half a file; the last writer of the same key
    writes the same content."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(model: str, target_language: str, sentence: str) -> str:
        _, prompt_hash = _prompt()
        return hashlib.sha256(json.dumps([model, prompt_hash, target_language, sentence]).encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        try:
            value = json.loads(self._path(key).read_text(encoding="utf-8"))["translation"]
        except (OSError, ValueError, KeyError, TypeError):
            value = None
        with self._lock:
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
        return value

    def put(self, key: str, record: dict) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only store: translate again next time
            log.warning("translation cache not written (%s): %s", path, exc)


def cache_for(settings: Settings) -> TranslationCache:
    """Next to the local index (<store>/translations); with a Chroma server, in .cache/translations."""
    folder = PROJECT_DIR / ".cache" / "translations" if settings.chroma_url else Path(settings.store_dir) / "translations"
    return TranslationCache(folder)


# ---------------------------------------------------------------------------------------------
# Citations
# ---------------------------------------------------------------------------------------------


def translate_text(chat_model: BaseChatModel, text: str, source_language: str, target_language: str,
                   cache: TranslationCache | None) -> str | None:
    """The verified translation of one quote (each of its sentences translated and checked on its
    own), or None with the reason logged."""
    if len(text) > MAX_SOURCE_CHARS:
        log.info("translation skipped: the quote is %d characters long", len(text))
        return None
    model = model_id(chat_model)
    out = []
    for sentence in split_sentences(" ".join(text.split())) or [text]:
        key = TranslationCache.key(model, target_language, sentence)
        translation = cache.get(key) if cache else None
        if translation is None:
            translation = model_translation(chat_model, sentence, source_language, target_language)
            if cache:
                cache.put(key, {"model": model, "target": target_language, "source": sentence,
                                "translation": translation})
        problems = translation_problems(sentence, translation, source_language, target_language)
        if problems:
            log.info("translation into %s rejected (%s): %r -> %r", target_language, "; ".join(problems),
                     sentence, translation)
            return None
        out.append(translation)
    return " ".join(out)


def needs_translation(citation: Citation, language: str) -> bool:
    return bool(citation.language) and citation.language != language


def translate_citations(chat_model: BaseChatModel, citations: Sequence[Citation], language: str,
                        cache: TranslationCache | None = None, top: int = TOP_QUOTES) -> list[Citation]:
    """The citations, the first ``top`` of them in another language than ``language`` given a
    verified ``translation`` (None when none passed the checks). A failing model leaves them None."""
    out = []
    for i, citation in enumerate(citations):
        translation = None
        if i < top and needs_translation(citation, language):
            try:
                translation = translate_text(chat_model, citation.text, citation.language, language, cache)
            except Exception as exc:  # the model server failed: the quotes stand on their own
                log.warning("translation failed (%s: %s)", type(exc).__name__, exc)
                top = i  # and no more waiting on a server that just failed
        out.append(replace(citation, translation=translation))
    return out
