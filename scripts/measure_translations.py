"""Measure quote translations on the cross-language questions of a question set (README figures).

    .venv/bin/python scripts/measure_translations.py --store /tmp/stores/np-tr \
        --questions ../shared/eval/newpolicies-dev/questions.jsonl --out /tmp/translations.jsonl

For every question asked in another language than its policy's: the answer's citations come from
`rag.chain` (retrieval, evidence, status: the same for every backend, a model backend keeps them),
then `rag.chain.with_translations` translates the top 3 with the local model, exactly as
`rag ask --backend local` does after its explanation. The translation cache under the store is
emptied first, so the latencies are of real model calls. Prints: share of the top-3 foreign
citations with a translation, right language, numbers and addresses kept (an independent test:
every digit group, e-mail address and web address of the quote written the same in the
translation), latency per answer and per quote (p50/p95), and why the others were rejected.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIGITS_AND_ADDRESSES = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:https?://|www\.)\S+|\d+(?:[.,]\d+)*")


def kept_verbatim(source: str, translation: str) -> bool:
    """Every digit group, e-mail address and URL of the source occurs as written in the translation
    (not the checker's own normalisation: "twee jaar" -> "two years" counts as nothing to keep)."""
    return all(token.rstrip(".,;:)") in translation for token in DIGITS_AND_ADDRESSES.findall(source))


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--backend", default="local")
    parser.add_argument("--out", default="/tmp/translations.jsonl")
    parser.add_argument("--keep-cache", action="store_true", help="do not empty the translation cache first")
    args = parser.parse_args()

    from index.language import identify
    from index.settings import get_settings
    from rag.chain import ask, companies, with_translations
    from rag.llm import load_chat_model
    from rag.sentences import split_sentences
    from rag.translate import TOP_QUOTES, TranslationCache, cache_for, model_id, needs_translation, translation_problems

    settings = get_settings().with_store(args.store)
    cache = cache_for(settings)
    if not args.keep_cache:
        shutil.rmtree(cache.folder, ignore_errors=True)
    chat_model = load_chat_model(args.backend, settings)
    chat_model.invoke("Hi", max_tokens=1)  # load the model before the clock runs
    languages = {k: v.get("language") for k, v in companies(settings).items()}
    questions = [json.loads(line) for line in Path(args.questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    cross = [q for q in questions if q["lang"] != languages.get(q["company"])]
    rows, per_answer_ms = [], []
    for q in cross:
        answer = ask(q["company"], q["question"], settings, backend="extractive")
        if answer.status != "answered":
            continue
        started = time.perf_counter()
        answer = with_translations(answer, chat_model, settings)
        per_answer_ms.append((time.perf_counter() - started) * 1000)
        for c in answer.citations[:TOP_QUOTES]:
            if not needs_translation(c, answer.language):
                continue
            raw, reasons = [], []
            for sentence in split_sentences(" ".join(c.text.split())) or [c.text]:
                said = cache.get(TranslationCache.key(model_id(chat_model), answer.language, sentence))
                raw.append(said or "")
                reasons += translation_problems(sentence, said or "", c.language, answer.language)
            rows.append({"id": q["id"], "n": c.n, "source_language": c.language, "target_language": answer.language,
                         "source": c.text, "translation": c.translation, "model_output": " ".join(raw),
                         "rejected_because": reasons})
        print(f"{q['id']}: {answer.timings_ms.get('translate', 0)} ms, "
              f"{sum(1 for c in answer.citations[:TOP_QUOTES] if c.translation)} translated", flush=True)
    Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    shown = [r for r in rows if r["translation"]]
    raw_language = [identify(r["model_output"])[0] == r["target_language"] for r in rows if r["model_output"]]
    reasons = Counter(re.sub(r"'[^']*'|\d+(?:\.\d+)?", "…", why.split(":")[0] if why.startswith(("dropped", "added")) else why)
                      for r in rows for why in r["rejected_because"][:1])
    sentences = sum(len(split_sentences(" ".join(r["source"].split())) or [1]) for r in rows)
    print(f"\ncross-language questions: {len(cross)}, answered: {len(per_answer_ms)}; "
          f"top-{TOP_QUOTES} citations in another language: {len(rows)} ({sentences} sentences)")
    print(f"with a translation: {len(shown)}/{len(rows)} = {len(shown) / max(1, len(rows)):.1%}")
    print(f"right language (shown): {sum(identify(r['translation'])[0] == r['target_language'] for r in shown)}/{len(shown)}; "
          f"model outputs before the checks: {sum(raw_language)}/{len(raw_language)}")
    print(f"digits, e-mail and web addresses kept verbatim (shown): {sum(kept_verbatim(r['source'], r['translation']) for r in shown)}/{len(shown)}")
    print(f"translation latency per answer ({'translations cached' if args.keep_cache else 'cold cache'}): p50 {percentile(per_answer_ms, 0.5) / 1000:.1f} s, "
          f"p95 {percentile(per_answer_ms, 0.95) / 1000:.1f} s, max {max(per_answer_ms, default=0) / 1000:.1f} s")
    print(f"first reason of each rejection: {dict(reasons.most_common())}")
    started = time.perf_counter()
    for q in cross[:10]:
        answer = ask(q["company"], q["question"], settings, backend="extractive")
        if answer.status == "answered":
            with_translations(answer, chat_model, settings)
    print(f"the first 10 questions again (translations cached; retrieval included): "
          f"{(time.perf_counter() - started) / 10 * 1000:.0f} ms per question")


if __name__ == "__main__":
    main()
