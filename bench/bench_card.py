"""Time the privacy fact card and the compare table (extractive), as the browser sees them.

    .venv/bin/python bench/bench_card.py --store DIR [--company ID] [--lang en] [--question Q]

1. process start + models loaded: the first ask of a fresh process (what a cold `rag card` pays once;
   another question than the compare's, so the compare embeds its own question);
2. card cold: every item computed (the cache entry of this policy version removed first), models warm;
3. card cached: the same card again, read from <store>/cards/;
4. compare of every company in the store (or --companies): time to the first row and to the last,
   as rag.compare.compare_answers yields them (the compare page redraws its table at each).
The load average is printed: numbers from a busy machine are not comparable.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.settings import get_settings  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True)
    p.add_argument("--company", help="default: the first company id")
    p.add_argument("--companies", help="comma-separated ids to compare (default: every company)")
    p.add_argument("--lang", default="en")
    p.add_argument("--question", default="How long do you keep my personal data?")
    args = p.parse_args()
    settings = get_settings().with_store(args.store)
    print(f"load average before: {os.getloadavg()[0]:.2f}")

    import rag
    from rag.card import cache_path, company_card
    from rag.compare import compare_answers

    known = rag.companies(settings)
    company = args.company or sorted(known)[0]
    started = time.perf_counter()
    rag.ask(company, "Who can I contact about my privacy?", settings=settings, backend="extractive")
    print(f"first ask of the process (models loaded): {time.perf_counter() - started:.2f} s")

    path = cache_path(settings, company, known[company]["sha256"], args.lang, "extractive")
    Path(path).unlink(missing_ok=True)
    started = time.perf_counter()
    card = company_card(company, settings, args.lang)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    company_card(company, settings, args.lang)
    cached = time.perf_counter() - started
    stated = sum(item["status"] == "stated" for item in card["items"])
    print(f"card {company} ({args.lang}, {len(card['items'])} items, {stated} stated): cold {cold:.2f} s, "
          f"cached {cached * 1000:.1f} ms")

    ids = args.companies.split(",") if args.companies else sorted(known)
    started = time.perf_counter()
    marks = []
    for name, answer, error in compare_answers(ids, args.question, settings, "extractive", args.lang):
        marks.append((name, time.perf_counter() - started, answer.status if answer else f"error: {error}"))
    print(f"compare of {len(ids)} companies: first row {marks[0][1]:.2f} s, last row {marks[-1][1]:.2f} s")
    for name, seconds, status in marks:
        print(f"  {seconds:6.2f} s  {name:16} {status}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
