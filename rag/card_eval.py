"""Score privacy fact cards against a gold checklist (tests/data/card_gold.jsonl):
`{"company", "item", "status": "stated"|"not_stated", "evidence": [verbatim substrings of the policy]}`.

Measures, overall, per policy language, per card language and per item:
- status accuracy: the card's stated / not_stated equals the gold's
- F1 of "stated" (precision: of the items the card calls stated, how many the gold does; recall: the converse)
- evidence hit@k: on gold-stated items, one of the card's first k citations contains an evidence
  substring (whitespace and case folded, as rag eval does); an item the card calls not_stated misses
- exact spans: every citation is source_text[start:end]
The gold itself is checked first: every evidence substring must occur in its policy's source text.
"""
from __future__ import annotations

import time
from collections import defaultdict

from index.settings import Settings

from .card import company_card, item_ids
from .chain import companies, source_text
from .evaluate import fold, load_gold


def check_gold(gold: list[dict], sources: dict[str, str]) -> list[str]:
    """Problems with the gold file: unknown items, bad status, evidence not verbatim in the policy."""
    problems, known = [], set(item_ids())
    for row in gold:
        where = f"{row.get('company')}/{row.get('item')}"
        if row.get("item") not in known:
            problems.append(f"{where}: unknown item")
        if row.get("status") not in ("stated", "not_stated"):
            problems.append(f"{where}: status must be stated or not_stated")
        if (row.get("status") == "stated") != bool(row.get("evidence")):
            problems.append(f"{where}: a stated item needs evidence, a not_stated one none")
        text = sources.get(row.get("company"), "")
        problems += [f"{where}: evidence not in the policy: {e!r}" for e in row.get("evidence", []) if e not in text]
    return problems


def score_item(gold: dict, item: dict, source: str, k: int = 3) -> dict:
    stated = item["status"] == "stated"
    cited = [fold(c["text"]) for c in item["citations"][:k]]
    evidence = [fold(e) for e in gold["evidence"]]
    return {
        "gold_stated": gold["status"] == "stated",
        "card_stated": stated,
        "status": stated == (gold["status"] == "stated"),
        "hit": (stated and any(e in c for e in evidence for c in cited)) if gold["status"] == "stated" else None,
        "exact": all(source[c["start"]:c["end"]] == c["text"] for c in item["citations"]),
        "spans": len(item["citations"]),
    }


def summarise(scores: list[dict]) -> dict:
    n = len(scores)
    tp = sum(s["gold_stated"] and s["card_stated"] for s in scores)
    fp = sum(not s["gold_stated"] and s["card_stated"] for s in scores)
    fn = sum(s["gold_stated"] and not s["card_stated"] for s in scores)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    hits = [s["hit"] for s in scores if s["hit"] is not None]
    return {
        "items": n,
        "status_accuracy": 100 * sum(s["status"] for s in scores) / n if n else 0.0,
        "precision_stated": precision, "recall_stated": recall,
        "f1_stated": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "hit_at_k": 100 * sum(hits) / len(hits) if hits else 0.0, "hit_n": f"{sum(hits)}/{len(hits)}",
        "exact_spans": 100 * sum(s["exact"] for s in scores) / n if n else 0.0,
        "citations": sum(s["spans"] for s in scores),
    }


def evaluate_cards(gold_path: str, settings: Settings, languages: list[str], k: int = 3,
                   refresh: bool = False) -> dict:
    gold = load_gold(gold_path)
    known = companies(settings)
    missing = sorted({row["company"] for row in gold} - set(known))
    if missing:
        raise ValueError(f"companies of the gold file not in the store: {', '.join(missing)}")
    sources = {c: source_text(c, settings) for c in {row["company"] for row in gold}}
    problems = check_gold(gold, sources)
    if problems:
        raise ValueError(f"gold file has {len(problems)} problem(s); first: {problems[0]}")
    groups: dict[str, list[dict]] = defaultdict(list)
    timings = {}
    for language in languages:
        for company in sorted(sources):
            started = time.perf_counter()
            card = company_card(company, settings, language, refresh=refresh)
            timings[f"{company}/{language}"] = round(time.perf_counter() - started, 2)
            by_id = {item["id"]: item for item in card["items"]}
            for row in (r for r in gold if r["company"] == company):
                s = score_item(row, by_id[row["item"]], sources[company], k)
                s["row"] = {"company": company, "item": row["item"], "language": language,
                            "gold": row["status"], "card": by_id[row["item"]]["status"], "hit": s["hit"]}
                for key in ("all", f"card language {language}", f"policy language {known[company].get('language', '?')}",
                            f"item {row['item']}"):
                    groups[key].append(s)
    return {"k": k, "groups": {key: summarise(v) for key, v in groups.items()},
            "rows": [s["row"] for s in groups["all"]], "seconds": timings}


def report(result: dict) -> str:
    lines = [f"{'':26} {'items':>5} {'status acc':>10} {'P stated':>8} {'R stated':>8} {'F1 stated':>9} "
             f"{'hit@' + str(result['k']):>14} {'exact':>6}"]
    order = {"all": 0, "card": 1, "policy": 2, "item": 3}
    for key, m in sorted(result["groups"].items(), key=lambda kv: (order[kv[0].split()[0]], kv[0])):
        if key.startswith("item ") and not lines[-1].startswith("item "):
            lines.append("")
        lines.append(f"{key:26} {m['items']:5} {m['status_accuracy']:9.1f}% {m['precision_stated']:8.2f} "
                     f"{m['recall_stated']:8.2f} {m['f1_stated']:9.2f} {m['hit_at_k']:6.1f}% {m['hit_n']:>7} "
                     f"{m['exact_spans']:5.0f}%")
    wrong = [r for r in result["rows"] if r["gold"] != r["card"]]
    if wrong:
        lines.append("\nstatus differs from the gold:")
        lines += [f"  {r['company']:14} {r['item']:20} {r['language']}  gold {r['gold']:10} card {r['card']}"
                  for r in wrong]
    return "\n".join(lines)
