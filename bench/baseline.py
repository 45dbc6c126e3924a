"""A plain LangChain RAG baseline on the same machine and embedder, for `make bench`.

    .venv/bin/python bench/baseline.py [--gold tests/data/dev.jsonl] [--policies policies] [--json]

What a LangChain tutorial would build: each policy file read as is, RecursiveCharacterTextSplitter
(chunk_size=800, chunk_overlap=80, add_start_index=True), langchain_chroma.Chroma over a temporary
PersistentClient with the same embeddings PlainPolicy uses (index.embed.UniversalSentenceEncoder),
and the top-3 chunks of a similarity search filtered by company as the citations. Scored like
rag/evaluate.py: evidence hit@3 (a gold evidence string inside a cited text, whitespace and case
folded) and exact spans (the chunk text equals the source slice at its start_index).
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.settings import get_settings  # noqa: E402,F401  (telemetry off before chromadb is imported)
from rag.evaluate import fold, load_gold, percentile  # noqa: E402

CHUNK_SIZE, CHUNK_OVERLAP, K = 800, 80, 3


def build(policies: Path, store: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from index.embed import UniversalSentenceEncoder

    started = time.perf_counter()
    sources = {p.stem: p.read_text(encoding="utf-8") for p in sorted(policies.glob("*.txt"))}
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
    docs = splitter.split_documents([Document(page_content=text, metadata={"company": company})
                                     for company, text in sources.items()])
    client = chromadb.PersistentClient(path=str(store), settings=ChromaSettings(anonymized_telemetry=False))
    db = Chroma(client=client, collection_name="baseline", embedding_function=UniversalSentenceEncoder())
    db.add_documents(docs)
    return db, sources, len(docs), time.perf_counter() - started


def evaluate(db, sources: dict[str, str], gold: list[dict], k: int = K) -> dict:
    if gold:  # warm-up, outside the timed questions
        db.similarity_search(gold[0]["question"], k=k, filter={"company": gold[0]["company"]})
    rows = []
    for g in gold:
        started = time.perf_counter()
        docs = db.similarity_search(g["question"], k=k, filter={"company": g["company"]})
        ms = (time.perf_counter() - started) * 1000
        source = sources[g["company"]]
        cited = [fold(d.page_content) for d in docs]
        evidence = [fold(e) for e in g.get("evidence", [])]
        hit = any(e in c for e in evidence for c in cited) if g.get("answerable", True) and evidence else None
        exact = all(source[d.metadata["start_index"]:d.metadata["start_index"] + len(d.page_content)] == d.page_content
                    and d.metadata["start_index"] >= 0 for d in docs)
        rows.append({"id": g.get("id"), "hit": hit, "exact": exact, "ms": ms, "cited_chars": sum(len(d.page_content) for d in docs)})
    return rows


def run(gold_path: Path, policies: Path) -> dict:
    gold = load_gold(gold_path)
    with tempfile.TemporaryDirectory(prefix="pp-baseline-") as tmp:
        db, sources, chunks, build_s = build(policies, Path(tmp))
        rows = evaluate(db, sources, gold)
    hits = [r["hit"] for r in rows if r["hit"] is not None]
    ms = [r["ms"] for r in rows]
    return {
        "name": "langchain-baseline", "chunks": chunks, "build_s": build_s, "n": len(rows),
        "hit": sum(hits), "hit_n": len(hits), "exact": sum(r["exact"] for r in rows), "exact_n": len(rows),
        "p50_ms": statistics.median(ms), "p95_ms": percentile(ms, 0.95),
        "cited_chars_mean": statistics.mean(r["cited_chars"] for r in rows),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "misses": [r["id"] for r in rows if r["hit"] is False],
    }


def main() -> int:
    p = argparse.ArgumentParser(description="plain LangChain baseline (800/80 splitter, Chroma, top-3 chunks)")
    p.add_argument("--gold", default=str(ROOT / "tests" / "data" / "dev.jsonl"))
    p.add_argument("--policies", default=str(ROOT / "policies"))
    p.add_argument("--json", action="store_true", help="one JSON object instead of a summary")
    args = p.parse_args()
    result = run(Path(args.gold), Path(args.policies))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"baseline: {result['chunks']} chunks in {result['build_s']:.1f} s; evidence hit@3 "
              f"{result['hit']}/{result['hit_n']}; exact spans {result['exact']}/{result['exact_n']}; "
              f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms; peak RSS {result['peak_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
