"""Benchmark the verified generator with the real local model on realistic (question, citations) cases.

    .venv/bin/python bench/bench_generate.py [--backend local] [--out bench/generate.json] [--cases N]

Citations are real exact spans of the sample policies (Dutch), found by their opening words; the
questions are in English, Dutch and French. Reports per answer: total time, time to the first released
words, whether the generated answer passed verification (else the extractive fallback is shown),
and the process's peak RSS. Numbers depend on the machine being otherwise idle: the load average
at start is printed too.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.settings import get_settings  # noqa: E402
from rag.generate import stream_answer  # noqa: E402
from rag.llm import load_chat_model  # noqa: E402
from rag.schema import Answer, Citation  # noqa: E402
from rag.sentences import sentence_spans  # noqa: E402

RETENTION = ["De persoonsgegevens die wij nodig hebben voor het administreren",
             "De gegevens van bezoekers van onze website die het contactformulier",
             "De persoonsgegevens die wij nodig hebben voor het voeren"]
CASES = [
    ("sensus", "en", "How long do you keep my data?", RETENTION),
    ("sensus", "nl", "Hoe lang bewaren jullie mijn gegevens?", RETENTION),
    ("sensus", "fr", "Combien de temps conservez-vous mes données ?", RETENTION),
    ("engcode", "en", "Do you sell my personal information?",
     ["Wij beschouwen uw persoonlijke informatie als een essentieel onderdeel"]),
    ("intersentia", "fr", "Vendez-vous mes données à des tiers ?",
     ["Intersentia verkoopt geen persoonsgegevens.", "Wij verkopen uw gegevens niet aan derden."]),
    ("engcode", "nl", "Hoe lang blijven cookies op mijn computer staan?",
     ["Met uitzondering van essentiële cookies, vervallen alle cookies"]),
    ("engcode", "en", "How can I contact you with questions about my data?",
     ["Vragen of opmerkingen met betrekking tot ons gebruik of openbaarmaking"]),
    ("intersentia", "fr", "Comment puis-je supprimer mes données ?",
     ["Als u een van de volgende zaken wilt doen: toegang krijgen tot profielgegevens"]),
    ("sensus", "en", "Can I have my data deleted?",
     ["U heeft het recht op inzage, rectificatie of verwijdering"]),
    ("sensus", "fr", "Utilisez-vous Google Analytics ?",
     ["Daarnaast maken wij gebruik van analytische cookies via Google Analytics."]),
]


def sentence_span(text: str, needle: str) -> tuple[int, int]:
    """From the needle to the end of its sentence (or line): an exact span of the policy."""
    start = text.index(needle)
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    spans = sentence_spans(text[start:line_end])
    return start, start + spans[0][1]


def build_citations(company: str, needles: list[str]) -> list[Citation]:
    source = ROOT / "policies" / f"{company}.txt"
    text = source.read_text(encoding="utf-8")
    out = []
    for n, needle in enumerate(needles, 1):
        start, end = sentence_span(text, needle)
        out.append(Citation(n=n, text=text[start:end], source=f"policies/{company}.txt", start=start, end=end,
                            section="", score=1.0, language="nl", company=company))
        assert text[start:end] == out[-1].text
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="local")
    parser.add_argument("--out", default=None)
    parser.add_argument("--cases", type=int, default=len(CASES))
    parser.add_argument("--only", default="", help="comma-separated case numbers (1-based)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every attempt and its problems")
    args = parser.parse_args()
    if args.verbose:
        import logging
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    only = {int(x) for x in args.only.split(",") if x}
    cases = [c for i, c in enumerate(CASES[: args.cases], 1) if not only or i in only]
    load_avg = os.getloadavg()
    settings = get_settings()
    t0 = time.perf_counter()
    model = load_chat_model(args.backend, settings)
    if hasattr(model, "load"):
        model.load()
    load_s = time.perf_counter() - t0
    rows = []
    for company, lang, question, needles in cases:
        citations = build_citations(company, needles)
        fallback = Answer(company=company, question=question, language=lang, status="answered",
                          answer="(extractive)", citations=citations)
        started = time.perf_counter()
        first = None
        pieces = []
        final = None
        for item in stream_answer(model, question, lang, citations, fallback, args.backend):
            now = time.perf_counter() - started
            if first is None:
                first = now  # first words on screen: a released piece, or the final answer
            if isinstance(item, Answer):
                final = item
            else:
                pieces.append(item)
        total = time.perf_counter() - started
        row = {"company": company, "lang": lang, "question": question, "backend": final.backend,
               "passed": final.backend == args.backend, "total_s": round(total, 2),
               "first_words_s": round(first, 2), "streamed_pieces": len(pieces),
               "answer": final.answer if final.backend == args.backend else None, "notice": final.notice}
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    totals = [r["total_s"] for r in rows]
    firsts = [r["first_words_s"] for r in rows]
    summary = {
        "backend": args.backend, "cases": len(rows), "model_load_s": round(load_s, 1),
        "passed_verification": sum(r["passed"] for r in rows),
        "p50_total_s": round(statistics.median(totals), 2), "max_total_s": max(totals),
        "p50_first_words_s": round(statistics.median(firsts), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average_at_start": [round(x, 2) for x in load_avg], "cpus": os.cpu_count(),
    }
    print(json.dumps(summary))
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
