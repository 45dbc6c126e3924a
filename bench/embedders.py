"""Which embedder? Build the sample index once per embedder setting and measure retrieval on the
dev questions: passage hit@3 (the top-3 chunks of `rag search`) and evidence hit@3 (the top-3
citations of `rag ask`), with the cold build time. Usage: .venv/bin/python bench/embedders.py [use e5 use+e5]
"""
from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.build import build_index  # noqa: E402
from index.settings import Settings  # noqa: E402
from rag.chain import ask, search  # noqa: E402
from rag.evaluate import fold, load_gold  # noqa: E402

GOLD = Path(__file__).resolve().parent.parent / "tests" / "data" / "dev.jsonl"


def hit(texts: list[str], evidence: list[str]) -> bool:
    return any(fold(e) in fold(t) for e in evidence for t in texts)


def measure(spec: str) -> dict:
    store = Path(tempfile.mkdtemp(prefix=f"emb-{spec}-"))
    settings = dataclasses.replace(Settings(), store_dir=store, embedder=spec, chroma_url=None)
    started = time.perf_counter()
    report = build_index(settings, progress=False)
    build_s = time.perf_counter() - started
    gold = [g for g in load_gold(GOLD) if g["answerable"]]
    passages = sum(hit([p.text for p in search(g["company"], g["question"], settings=settings, k=3)], g["evidence"])
                   for g in gold)
    evidence = sum(hit([c.text for c in ask(g["company"], g["question"], settings=settings,
                                            backend="extractive").citations[:3]], g["evidence"]) for g in gold)
    return {"embedder": spec, "build_s": build_s, "chunks": report.chunks,
            "passage_hit3": passages / len(gold), "evidence_hit3": evidence / len(gold), "n": len(gold)}


def main(specs: list[str]) -> None:
    print("| embedder | cold build s | passage hit@3 | evidence hit@3 |\n|---|---|---|---|")
    for spec in specs:
        r = measure(spec)
        print(f"| {r['embedder']} | {r['build_s']:.1f} | {r['passage_hit3']:.1%} | {r['evidence_hit3']:.1%} (n={r['n']}) |",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["use", "e5", "use+e5"])
