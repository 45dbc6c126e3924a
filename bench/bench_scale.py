"""`make bench-scale`: 10, 100 and 1,000 companies in a real `chroma run` server, one table from one run.

    .venv/bin/python bench/bench_scale.py [--sizes 10,100,1000] [--questions 40] [--json OUT]

The companies are real policies (the five samples, ../shared/eval/newpolicies-dev and the 20
PolicyQA dev policies), repeated under distinct company ids, each copy with a line of its own, so
that no two companies hold the same text. For each size, in a fresh server (free port, temp dir):
1. `python -m index build` (default embedders, use+e5) in a child process: wall time, policies/s,
   chunks/s, texts embedded, peak RSS; then the same build again, which must embed nothing;
2. the server's data folder size;
3. an answering child process: extractive `rag.ask` over random companies, first cold (the company's
   index not yet loaded) then warm (asked again), p50/p95 of each and the process's peak RSS.
Copies of one policy share their embeddings (the build embeds each distinct text once), which is
what makes 1,000 companies feasible on 2 cores: the new text per copy is one line. The sizes share
an embedding cache (PLAINPOLICY_EMBED_CACHE), so a larger size embeds only the texts the smaller ones
did not: its build time is parsing, Chroma writes and those texts ("embedded" column).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench import child_env, last_json, measured, percentile  # noqa: E402

SOURCES = [ROOT / "policies", ROOT.parent / "shared" / "eval" / "newpolicies-dev" / "policies",
           ROOT.parent / "shared" / "eval" / "policyqa-dev" / "policies"]
QUESTIONS = ["How long do you keep my data?", "Do you sell my data?", "Who can I contact about my privacy?",
             "Hoe lang bewaren jullie mijn gegevens?", "Delen jullie mijn gegevens met derden?",
             "Combien de temps conservez-vous mes données ?", "Puis-je faire supprimer mes données ?",
             "Do you use cookies?", "Can I get a copy of my data?", "Werden meine Daten verkauft?"]
GOALS = {"warm_p95_ms": 300.0, "growth_p95": 1.5, "answer_rss_mb": 2048.0}


def base_policies() -> list[Path]:
    found = []
    for folder in SOURCES:
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".md", ".html"))
    if not found:
        raise SystemExit("no policies found (policies/ and ../shared/eval)")
    return found


def make_corpus(folder: Path, n: int, bases: list[Path]) -> None:
    """n companies: base policy i % len(bases), with a line of its own at the end."""
    folder.mkdir(parents=True)
    for i in range(n):
        base = bases[i % len(bases)]
        text = base.read_text(encoding="utf-8")
        own = f"This copy of the policy is listed as company number {i} in the scale benchmark."
        if base.suffix == ".html" and "</body>" in text:
            text = text.replace("</body>", f"<p>{own}</p></body>", 1)
        else:
            text = text.rstrip("\n") + f"\n\n{own}\n"
        (folder / f"{base.stem[:40]}-c{i:04d}{base.suffix}").write_text(text, encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(data: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(data.parent / "chroma.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(data), "--host",
                             "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("chroma run did not start: see " + str(data.parent / "chroma.log"))


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024


def worker_answer(n_questions: int, seed: int) -> dict:
    """In the answering child: cold then warm questions over random companies."""
    import rag
    from index.settings import get_settings

    settings = get_settings()
    companies = sorted(rag.companies(settings))
    rng = random.Random(seed)
    picked = rng.sample(companies, min(n_questions, len(companies)))
    rag.ask(picked[0], "warm-up: how long do you keep my data?", settings=settings, backend="extractive")
    cold, warm, statuses = [], [], {}
    for i, company in enumerate(picked[1:], 1):
        question = QUESTIONS[i % len(QUESTIONS)]
        started = time.perf_counter()
        answer = rag.ask(company, question, settings=settings, backend="extractive")
        cold.append((time.perf_counter() - started) * 1000)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    for i, company in enumerate(picked[1:], 1):
        question = QUESTIONS[(i + 3) % len(QUESTIONS)]
        started = time.perf_counter()
        rag.ask(company, question, settings=settings, backend="extractive")
        warm.append((time.perf_counter() - started) * 1000)
    return {"cold_ms": cold, "warm_ms": warm, "statuses": statuses, "companies": len(companies)}


def one_size(n: int, bases: list[Path], questions: int, tmp: Path) -> dict:
    work = tmp / f"n{n}"
    make_corpus(work / "policies", n, bases)
    server, url = start_chroma(work / "chroma")
    try:
        env = {**child_env(work / "unused-local-store"), "PLAINPOLICY_CHROMA_URL": url,
               "PLAINPOLICY_EMBED_CACHE": str(tmp / "embed-cache")}
        build_cmd = [sys.executable, "-m", "index", "build", "--quiet", "--policies", str(work / "policies")]
        build = measured(build_cmd, env, timeout=7200)
        if build["rc"]:
            raise SystemExit(f"index build of {n} failed: {build['stderr'][-1500:]}")
        again = measured(build_cmd, env, timeout=7200)
        answer = measured([sys.executable, __file__, "--answer-child", str(questions)], env, timeout=3600)
        if answer["rc"]:
            raise SystemExit(f"answering over {n} failed: {answer['stderr'][-1500:]}")
        result = last_json(answer["stdout"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = build["stdout"].strip().splitlines()[0]
    chunks = int(summary.split(" policies, ")[1].split(" chunks")[0])
    embedded = int(summary.split("embedded ")[1].split(",")[0])
    return {
        "companies": n, "build_s": build["wall_s"], "build_rss_mb": build["rss_mb"], "chunks": chunks,
        "embedded": embedded, "policies_per_s": n / build["wall_s"], "chunks_per_s": chunks / build["wall_s"],
        "rebuild_s": again["wall_s"], "rebuild_summary": again["stdout"].strip().splitlines()[0],
        "store_mb": folder_mb(work / "chroma"), "answer_rss_mb": answer["rss_mb"],
        "cold_p50": percentile(result["cold_ms"], 0.5), "cold_p95": percentile(result["cold_ms"], 0.95),
        "warm_p50": percentile(result["warm_ms"], 0.5), "warm_p95": percentile(result["warm_ms"], 0.95),
        "questions": len(result["warm_ms"]), "statuses": result["statuses"],
    }


def table(rows: list[dict], loads: tuple) -> str:
    out = [f"PlainPolicy scale benchmark (chroma run server, embedders use+e5, extractive answers, one embedding "
           f"cache shared by the sizes: 'embedded' counts chunk texts new to it); "
           f"load average before {loads[0]:.2f}, after {loads[1]:.2f}", "",
           "| companies | build s | policies/s | chunks | chunks/s | embedded | build RSS MB | rebuild s (embedded) "
           "| store MB | cold p50/p95 ms | warm p50/p95 ms | answer RSS MB |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rebuilt = r["rebuild_summary"].split("embedded ")[1].split(",")[0]
        out.append(f"| {r['companies']} | {r['build_s']:.0f} | {r['policies_per_s']:.2f} | {r['chunks']} | "
                   f"{r['chunks_per_s']:.1f} | {r['embedded']} | {r['build_rss_mb']:.0f} | {r['rebuild_s']:.0f} ({rebuilt}) | "
                   f"{r['store_mb']:.0f} | {r['cold_p50']:.0f} / {r['cold_p95']:.0f} | "
                   f"{r['warm_p50']:.0f} / {r['warm_p95']:.0f} | {r['answer_rss_mb']:.0f} |")
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = last["warm_p95"] / first["warm_p95"] if first["warm_p95"] else float("nan")
        out += ["", f"growth {first['companies']} -> {last['companies']} companies: warm p95 x{growth:.2f} "
                    f"(goal <= {GOALS['growth_p95']}), cold p95 x{last['cold_p95'] / first['cold_p95']:.2f}, "
                    f"store x{last['store_mb'] / first['store_mb']:.1f}, answer RSS x{last['answer_rss_mb'] / first['answer_rss_mb']:.2f}",
                f"at {last['companies']}: warm p95 {last['warm_p95']:.0f} ms (goal <= {GOALS['warm_p95_ms']:.0f}), "
                f"answer RSS {last['answer_rss_mb']:.0f} MB (goal <= {GOALS['answer_rss_mb']:.0f})"]
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10,100,1000")
    p.add_argument("--questions", type=int, default=40, help="companies asked per size (cold, then warm)")
    p.add_argument("--json", help="also write the rows here")
    p.add_argument("--answer-child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.answer_child:
        print(json.dumps(worker_answer(args.answer_child, seed=15)))
        return 0
    bases = base_policies()
    before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="plainpolicy-scale-") as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            started = time.perf_counter()
            rows.append(one_size(n, bases, args.questions, Path(tmp)))
            print(f"[{n} companies done in {time.perf_counter() - started:.0f} s] {json.dumps(rows[-1])}",
                  file=sys.stderr, flush=True)
            shutil.rmtree(Path(tmp) / f"n{n}", ignore_errors=True)
    print(table(rows, (before[0], os.getloadavg()[0])))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
