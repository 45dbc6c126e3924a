"""The privacy fact card: the GDPR Art. 13 checklist of one company's policy, item by item.

The items are data (rag/data/card_items.json: per item a question in each language and the kind of
fact that answers it). Each item is answered by asking its question through the answering core
(rag.chain.ask: learned ranking, answerability, verdict, extractive answer); `stated` is the core's
`answered`. The evidence is ranked with the item's question in the policy's own language and the
answer written in the card's, so a card states the same items whatever language it is read in.
No rule here looks at an item: a better core makes a better card.

A card is cached on disk per policy version (the company's sha256 in the manifest), language and
backend, under <store>/cards/<company>/. The cache key also holds a fingerprint of what shapes an
answer (the code and data of rag/, the learned models, the answer phrasing), so a change there is
never served from an old card. Writes are atomic (temp file + rename); an unreadable or malformed entry is
recomputed and overwritten.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Callable

from index.settings import Settings, get_settings
from index.store import StoreError

from .chain import QuestionError, ask, check_company_id, companies
from .lexicon import DATA_DIR, LANGUAGES
from .schema import Answer, Citation

log = logging.getLogger("plainpolicy.card")
ITEMS_FILE = DATA_DIR / "card_items.json"
RAG_DIR = Path(__file__).resolve().parent
PROMPTS_DIR = RAG_DIR.parent / "prompts"
CACHE_FORMAT = 1

# How many cards were computed (not read from the cache) in this process: lets a test see a cache
# hit without timing anything.
computed = Counter()


@lru_cache(maxsize=1)
def card_definition() -> dict:
    return json.loads(ITEMS_FILE.read_text(encoding="utf-8"))


def card_items() -> list[dict]:
    return card_definition()["items"]


def item_ids() -> list[str]:
    return [item["id"] for item in card_items()]


def item_question(item: dict, language: str) -> str:
    return item["question"].get(language) or item["question"]["en"]


def _answer_shapers() -> list[Path]:
    """Every file whose content shapes a card's answers (the answering code, its data and learned
    models, the answer phrasing): a change in any of them makes every cached card stale."""
    return sorted([*RAG_DIR.glob("*.py"), *RAG_DIR.glob("*.json"), *(RAG_DIR / "data").glob("*.json"),
                   *(RAG_DIR / "models").glob("*"), PROMPTS_DIR / "phrases.json"])


@lru_cache(maxsize=1)
def fingerprint() -> str:
    h = hashlib.sha256(f"card-{CACHE_FORMAT}".encode())
    for path in _answer_shapers():
        if path.is_file():
            h.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise QuestionError(f"unknown language {language!r}: choose one of {', '.join(LANGUAGES)}")
    return language


def company_info(company: str, settings: Settings) -> dict:
    check_company_id(company)
    known = companies(settings)
    if company not in known:
        raise StoreError(f"unknown company {company!r} (known: {', '.join(sorted(known))})")
    return known[company]


def cache_path(settings: Settings, company: str, sha256: str, language: str, backend: str) -> Path:
    return (Path(settings.store_dir) / "cards" / company
            / f"{sha256[:16]}-{language}-{backend}-{fingerprint()[:12]}.json")


def item_from_answer(item: dict, answer: Answer) -> dict:
    """One card row from the core's Answer: its status, verdict, text and citations as they are."""
    return {
        "id": item["id"],
        "group": item["group"],
        "fact": item["fact"],
        "question": answer.question,
        "status": "stated" if answer.status == "answered" else "not_stated",
        "verdict": answer.verdict,
        "answer": answer.answer,
        "citations": [c.to_json() for c in answer.citations],
    }


def answer_of_item(card: dict, row: dict) -> Answer:
    """A card row back as an Answer, for the views that render answers (ui/answer_view.py)."""
    fields = set(Citation.__dataclass_fields__)
    citations = [Citation(**{k: v for k, v in c.items() if k in fields}) for c in row["citations"]]
    return Answer(company=card["company"], question=row["question"], language=card["language"],
                  status="answered" if row["status"] == "stated" else "not_found", answer=row["answer"],
                  citations=citations, backend=card.get("backend", "extractive"), verdict=row.get("verdict"))


def _valid(card, company: str, sha256: str, language: str) -> bool:
    try:
        return (card["company"] == company and card["policy_sha256"] == sha256 and card["language"] == language
                and [row["id"] for row in card["items"]] == item_ids()
                and all(row["status"] in ("stated", "not_stated") and isinstance(row["citations"], list)
                        for row in card["items"]))
    except (KeyError, TypeError):
        return False


def read_cached(path: Path, company: str, sha256: str, language: str) -> dict | None:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("card cache %s unreadable (%s): computing it again", path, exc)
        return None
    if not _valid(card, company, sha256, language):
        log.warning("card cache %s does not match its key: computing it again", path)
        return None
    return card


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # a reader sees the old entry or the new one, never half of one
    finally:
        tmp.unlink(missing_ok=True)


def cached_card(company: str, settings: Settings | None = None, language: str = "en",
                backend: str = "extractive") -> dict | None:
    """The cached card of the company's live policy version, or None (nothing computed)."""
    settings = settings or get_settings()
    info = company_info(company, settings)
    path = cache_path(settings, company, info["sha256"], check_language(language), backend)
    return read_cached(path, company, info["sha256"], language)


def company_card(company: str, settings: Settings | None = None, language: str = "en", backend: str = "extractive",
                 refresh: bool = False, on_item: Callable[[int, dict], None] | None = None) -> dict:
    """`{"company", "name", "language", "policy_sha256", "backend", "items": [...]}` for the live
    policy version: from the cache when it holds this version, else computed item by item
    (`on_item(i, row)` after each) and cached."""
    settings = settings or get_settings()
    check_language(language)
    if backend not in ("extractive", "local", "openai"):
        raise QuestionError(f"unknown backend {backend!r}: choose extractive, local or openai")
    info = company_info(company, settings)
    sha256 = info["sha256"]
    path = cache_path(settings, company, sha256, language, backend)
    card = None if refresh else read_cached(path, company, sha256, language)
    if card is not None:
        if on_item:
            for i, row in enumerate(card["items"]):
                on_item(i, row)
        return card
    started = time.perf_counter()
    rows = []
    policy_language = info.get("language", "")
    for i, item in enumerate(card_items()):
        # The evidence is ranked with the item's question in the policy's own language: on the gold
        # checklist (tests/data/card_gold.jsonl) same-language items score status 89.5 / hit@3 83.3
        # against 87.7 / 79.6 across languages; so a card also states the same items whatever
        # language it is read in. The answer is written in the card's language.
        native = item["question"].get(policy_language)
        answer = ask(company, item_question(item, language), settings=settings, backend=backend,
                     interface_language=language,
                     evidence_question=(native, policy_language) if native and policy_language != language else None)
        rows.append(item_from_answer(item, answer))
        if on_item:
            on_item(i, rows[-1])
    card = {"company": company, "name": info.get("name", company), "language": language, "policy_sha256": sha256,
            "policy_language": info.get("language", ""), "backend": backend, "items": rows,
            "computed_ms": int((time.perf_counter() - started) * 1000)}
    computed[company] += 1
    try:
        write_atomic(path, json.dumps(card, ensure_ascii=False))
    except OSError as exc:  # a read-only store still gets its card, just not cached
        log.warning("card of %s not cached: %s", company, exc)
    return card


def all_cards(settings: Settings | None = None, language: str = "en", backend: str = "extractive",
              ids: list[str] | None = None, on_card: Callable[[dict], None] | None = None,
              refresh: bool = False) -> list[dict]:
    """The card of every (or each given) indexed company, in id order: the card matrix."""
    settings = settings or get_settings()
    check_language(language)
    ids = ids if ids is not None else sorted(companies(settings))
    cards = []
    for company in ids:
        cards.append(company_card(company, settings, language, backend, refresh=refresh))
        if on_card:
            on_card(cards[-1])
    return cards


def public_card(card: dict) -> dict:
    """The card as the CLI prints it (design.md): the contract keys and each item's rows."""
    keep = ("company", "name", "language", "policy_sha256", "backend", "items")
    return {k: card[k] for k in keep if k in card}
