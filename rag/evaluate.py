"""Evaluate answers against a gold file (design.md, "Evaluation"), overall and per question language."""
from __future__ import annotations

import json
import resource
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from index.language import identify
from index.settings import Settings

from .chain import ask, source_text, stream_ask, warm_backend
from .schema import Answer


def fold(text: str) -> str:
    return " ".join(text.split()).lower()


def load_gold(path: str | Path) -> list[dict]:
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise ValueError(f"{path}:{i}: not a JSON line") from None
    return rows


def score_answer(gold: dict, answer: Answer, source: str, k: int = 3) -> dict:
    cited = [fold(c.text) for c in answer.citations[:k]]
    evidence = [fold(e) for e in gold.get("evidence", [])]
    status_ok = answer.status == ("answered" if gold.get("answerable", True) else "not_found")
    detected, _ = identify(answer.answer)
    groups = gold.get("answer_must_contain") or []
    return {
        "hit": any(e in c for e in evidence for c in cited) if gold.get("answerable", True) and evidence else None,
        "status": status_ok,
        "language": detected == gold.get("lang", answer.language),
        "facts": all(any(fold(alt) in fold(answer.answer) for alt in group) for group in groups) if groups else None,
        "exact": all(source[c.start:c.end] == c.text for c in answer.citations),
    }


def _pct(values: list) -> str:
    values = [v for v in values if v is not None]
    return f"{100 * sum(values) / len(values):5.1f}% ({sum(values)}/{len(values)})" if values else "    n/a"


def evaluate(gold_path: str | Path, settings: Settings, backend: str | None = None, k: int = 3,
             progress=None) -> dict:
    gold = load_gold(gold_path)
    if gold:  # warm-up, as a running app is warm: embedders, index and evidence code loaded (the
        # extractive path never touches the chat model), and the chat model read its system prompt
        # only (a gold question's whole prompt would stay cached)
        ask(gold[0]["company"], gold[0]["question"], settings=settings, backend="extractive")
        warm_backend(settings, backend)
    rows = []
    for g in gold:
        answer, first = _timed_ask(g, settings, backend)
        row = score_answer(g, answer, source_text(g["company"], settings), k)
        row.update(lang=g.get("lang", answer.language), ms=answer.timings_ms["total"], first_ms=first,
                   model_first_ms=answer.timings_ms.get("first_model_words"),
                   # the answer's text is final before its quotes' translations are made (they arrive
                   # with the final Answer): the time a reader waits for the answer itself
                   text_ms=answer.timings_ms["total"] - answer.timings_ms.get("translate", 0),
                   translate_ms=answer.timings_ms.get("translate"), id=g.get("id"),
                   backend=answer.backend, status_name=answer.status, answer=answer.answer)
        rows.append(row)
        if progress:
            progress(len(rows), len(gold))
    return {"rows": rows, "k": k, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _timed_ask(g: dict, settings: Settings, backend: str | None) -> tuple[Answer, float]:
    """The final Answer of the streamed question and the ms until its first words were shown."""
    started = time.perf_counter()
    first = None
    answer = None
    for item in stream_ask(g["company"], g["question"], settings, backend=backend):
        if first is None:
            first = (time.perf_counter() - started) * 1000
        if isinstance(item, Answer):
            answer = item
    answer.id = g.get("id")
    answer.timings_ms["total"] = int((time.perf_counter() - started) * 1000)
    return answer, first


def percentile(values: list[float], q: float) -> float:
    """Nearest rank on the sorted values (the rule of every p95 this project reports)."""
    ms = sorted(values)
    return ms[min(len(ms) - 1, int(round(q * (len(ms) - 1))))] if ms else float("nan")


def report(result: dict) -> str:
    rows, k = result["rows"], result["k"]
    groups = defaultdict(list)
    for r in rows:
        groups["all"].append(r)
        groups[r["lang"]].append(r)
    header = f"{'':6} {'n':>3}  {'evidence hit@' + str(k):>20}  {'status':>16}  {'language':>16}  {'facts':>14}  {'exact spans':>16}  {'p50 ms':>7}  {'p95 ms':>7}"
    lines = [header]
    for name in ["all"] + sorted(g for g in groups if g != "all"):
        rs = groups[name]
        ms = [r["ms"] for r in rs]
        p95 = percentile(ms, 0.95)
        lines.append(f"{name:6} {len(rs):3}  {_pct([r['hit'] for r in rs]):>20}  {_pct([r['status'] for r in rs]):>16}  "
                     f"{_pct([r['language'] for r in rs]):>16}  {_pct([r['facts'] for r in rs]):>14}  "
                     f"{_pct([r['exact'] for r in rs]):>16}  {statistics.median(ms):7.0f}  {p95:7.0f}")
    firsts = [r["first_ms"] for r in rows if r.get("first_ms") is not None]
    model_firsts = [r["model_first_ms"] for r in rows if r.get("model_first_ms") is not None]
    if firsts:
        lines.append(f"first words shown: p50 {statistics.median(firsts):.0f} ms, p95 {percentile(firsts, 0.95):.0f} ms"
                     + (f"; first model-written words ({len(model_firsts)} answers): p50 "
                        f"{statistics.median(model_firsts):.0f} ms, p95 {percentile(model_firsts, 0.95):.0f} ms"
                        if model_firsts else ""))
    texts = [r["text_ms"] for r in rows if r.get("text_ms") is not None]
    if any(r.get("text_ms") != r["ms"] for r in rows if r.get("text_ms") is not None):
        lines.append(f"answer text final (before the quotes' translations): p50 {statistics.median(texts):.0f} ms, "
                     f"p95 {percentile(texts, 0.95):.0f} ms; p50/p95 above include the translations")
    made_by = Counter("not_found" if r.get("status_name") == "not_found" else r["backend"] for r in rows)
    lines.append("answers by: " + ", ".join(f"{name} {n}" for name, n in made_by.most_common())
                 + (f"; peak RSS {result['peak_rss_mb']} MB" if result.get("peak_rss_mb") else ""))
    misses = [r["id"] for r in rows if r["hit"] is False or not r["status"] or not r["language"] or r["facts"] is False]
    if misses:
        lines.append("not perfect: " + ", ".join(str(m) for m in misses))
    return "\n".join(lines)
