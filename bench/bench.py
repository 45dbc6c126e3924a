"""`make bench`: one run, one table. PlainPolicy beside a plain LangChain baseline (bench/baseline.py)
on the same machine, the default embedders (PlainPolicy: use+e5; the baseline: USE multilingual) and the same gold questions.

    .venv/bin/python bench/bench.py [--fast] [--gold tests/data/dev.jsonl] [--load-n 50] [--json OUT]

Every measured step runs in a fresh process, so that its peak RSS (from the kernel's rusage of that
child) and its cold start are its own:
1. cold build: `python -m index build` of the five sample policies into an empty store;
2. warm latency per backend: rag/evaluate.py over the gold file (one warm-up question first, then
   every question timed), scored with its own helpers; `local` when installed (skipped by --fast),
   `openai` when configured;
3. the LangChain baseline: build + top-3 similarity search, scored the same way;
4. load: 50 questions at once through the Python API (extractive, one thread each), errors counted.
The load average is printed before and after: numbers from a busy machine are not comparable.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GOLD = ROOT / "tests" / "data" / "dev.jsonl"
POLICIES = ROOT / "policies"
GOALS = {"build_s": 30.0, "p50_ms": 300.0, "rss_mb": 1536.0}


# -- measuring a child process -------------------------------------------------------------------

def measured(cmd: list[str], env: dict, timeout: float = 3600) -> dict:
    """Run cmd; its wall time, exit code, stdout, stderr and peak RSS (os.wait4 rusage of that child)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"rc": proc.returncode, "wall_s": wall, "rss_mb": usage.ru_maxrss / 1024,
                "stdout": out.read().decode(errors="replace"), "stderr": err.read().decode(errors="replace")}


def child_env(store: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PLAINPOLICY_CHROMA_URL"}
    env.update(PYTHONPATH=str(ROOT), ANONYMIZED_TELEMETRY="False")  # the default embedders, as users run them
    if store is not None:
        env["PLAINPOLICY_STORE"] = str(store)
    return env


def percentile(values: list[float], q: float) -> float:
    from rag.evaluate import percentile as p  # lazily: rag loads the embedders' stack

    return p(values, q)


def last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in the worker's output")


# -- workers (run in their own process) ----------------------------------------------------------

def worker_eval(store: Path, backend: str, gold: Path) -> dict:
    from index.settings import get_settings
    from rag.evaluate import evaluate

    settings = get_settings().with_store(store)
    rows = evaluate(gold, settings, backend=backend)["rows"]
    ms = [r["ms"] for r in rows]

    def count(key):
        vals = [r[key] for r in rows if r[key] is not None]
        return [sum(vals), len(vals)]

    return {"backend": backend, "n": len(rows), "p50_ms": statistics.median(ms), "p95_ms": percentile(ms, 0.95),
            "hit": count("hit"), "status": count("status"), "language": count("language"),
            "facts": count("facts"), "exact": count("exact"),
            "generated": sum(r["backend"] == backend for r in rows),
            "first_p50_ms": statistics.median(r["first_ms"] for r in rows),
            "model_first_p50_ms": (statistics.median(m) if (m := [r["model_first_ms"] for r in rows
                                                                   if r.get("model_first_ms") is not None]) else None),
            "misses": [r["id"] for r in rows if r["hit"] is False]}


def worker_load(store: Path, n: int, gold: Path) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    import rag
    from index.settings import get_settings
    from rag.evaluate import load_gold

    settings = get_settings().with_store(store)
    questions = load_gold(gold)
    rag.ask(questions[0]["company"], questions[0]["question"], settings=settings, backend="extractive")  # warm
    cases = [questions[i % len(questions)] for i in range(n)]

    def one(g):
        started = time.perf_counter()
        try:
            answer = rag.ask(g["company"], g["question"], settings=settings, backend="extractive")
            ok = answer.status in ("answered", "not_found")
            error = None if ok else f"bad status {answer.status!r}"
        except Exception as exc:  # counted, not raised
            error = f"{type(exc).__name__}: {exc}"
        return (time.perf_counter() - started) * 1000, error

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:  # all n in flight at once
        results = list(pool.map(one, cases))
    wall = time.perf_counter() - started
    ms = [r[0] for r in results]
    errors = [r[1] for r in results if r[1]]
    return {"n": n, "errors": len(errors), "first_errors": errors[:3], "wall_s": wall, "qps": n / wall,
            "p50_ms": statistics.median(ms), "p95_ms": percentile(ms, 0.95)}


# -- the run -------------------------------------------------------------------------------------

def cold_build(tmp: Path) -> dict:
    policies, store = tmp / "policies", tmp / "store"
    policies.mkdir()
    for p in POLICIES.iterdir():
        if p.suffix in (".txt", ".md", ".html", ".pdf", ".json"):
            shutil.copy(p, policies)
    cmd = [sys.executable, "-m", "index", "build", "--quiet", "--policies", str(policies), "--store", str(store)]
    run = measured(cmd, child_env())
    if run["rc"] != 0:
        raise SystemExit(f"index build failed: {run['stderr'].strip()[-500:]}")
    m = re.search(r"indexed (\d+) policies, (\d+) chunks, embedded (\d+), ([\d.]+) s", run["stdout"])
    if not m:
        raise SystemExit(f"unexpected build output: {run['stdout']!r}")
    policies_n, chunks, embedded, seconds = int(m[1]), int(m[2]), int(m[3]), float(m[4])
    return {"store": store, "policies": policies_n, "chunks": chunks, "embedded": embedded, "build_s": seconds,
            "wall_s": run["wall_s"], "rss_mb": run["rss_mb"]}


def worker_cmd(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--worker", *args]


def pct(pair) -> str:
    hit, n = pair
    return f"{100 * hit / n:.0f}% ({hit}/{n})" if n else "n/a"


def ratio(a, b, digits=2) -> str:
    return f"{a / b:.{digits}f}x" if a is not None and b else "-"


def goal(value: float, limit: float, unit: str) -> str:
    return f"<= {limit:g} {unit}: {'met' if value <= limit else 'MISSED'}"


def table(build: dict, backends: list[dict], skipped: list[dict], base: dict, load: dict, loads: tuple, gold: Path) -> str:
    ext = next(b for b in backends if b["backend"] == "extractive")
    pp_hit = ext["hit"][0] / ext["hit"][1] if ext["hit"][1] else None
    base_hit = base["hit"] / base["hit_n"] if base["hit_n"] else None
    rows = [
        ("cold build, 5 policies: process wall (imports, model load, build)", f"{build['wall_s']:.1f} s", "-", "-",
         goal(build["wall_s"], GOALS["build_s"], "s")),
        ("build time reported in-process (baseline: split + embed + add)", f"{build['build_s']:.1f} s",
         f"{base['build_s']:.1f} s", ratio(build["build_s"], base["build_s"]), ""),
        ("chunks", f"{build['chunks']}", f"{base['chunks']}", ratio(build["chunks"], base["chunks"]), ""),
        ("chunks/s (in-process build)", f"{build['chunks'] / build['build_s']:.1f}",
         f"{base['chunks'] / base['build_s']:.1f}", ratio(build["chunks"] / build["build_s"], base["chunks"] / base["build_s"]), ""),
        ("peak RSS of the build process", f"{build['rss_mb']:.0f} MB", "-", "-", ""),
        (f"evidence hit@3 ({gold.name}, answerable)", pct(ext["hit"]), pct((base["hit"], base["hit_n"])),
         ratio(pp_hit, base_hit), ""),
        ("exact spans (every citation == its source slice)", pct(ext["exact"]), pct((base["exact"], base["exact_n"])),
         ratio(ext["exact"][0] / ext["exact"][1], base["exact"] / base["exact_n"]), ""),
        ("warm p50 per question, extractive (baseline: top-3 search)", f"{ext['p50_ms']:.0f} ms",
         f"{base['p50_ms']:.0f} ms", ratio(ext["p50_ms"], base["p50_ms"]), goal(ext["p50_ms"], GOALS["p50_ms"], "ms")),
        ("warm p95 per question, extractive", f"{ext['p95_ms']:.0f} ms", f"{base['p95_ms']:.0f} ms",
         ratio(ext["p95_ms"], base["p95_ms"]), ""),
        ("peak RSS, extractive process (baseline: build + queries)", f"{ext['rss_mb']:.0f} MB", f"{base['rss_mb']:.0f} MB",
         ratio(ext["rss_mb"], base["rss_mb"]), goal(ext["rss_mb"], GOALS["rss_mb"], "MB")),
        ("status right (answered / not_found), extractive", pct(ext["status"]), "- (no abstention)", "-", ""),
        ("answer in the question's language, extractive", pct(ext["language"]), "- (no answer text)", "-", ""),
    ]
    for b in backends:
        if b["backend"] == "extractive":
            continue
        name = b["backend"]
        rows += [
            (f"warm p50 / p95 per question, {name}", f"{b['p50_ms']:.0f} / {b['p95_ms']:.0f} ms", "-", "-", ""),
            (f"first words shown p50 / first model-written words p50, {name}",
             f"{b['first_p50_ms']:.0f} / {b['model_first_p50_ms'] or 0:.0f} ms", "-", "-", ""),
            (f"peak RSS, {name} process", f"{b['rss_mb']:.0f} MB", "-", "-", ""),
            (f"{name}: generated answers that passed verification (rest: extractive fallback)",
             f"{b['generated']}/{b['n']}", "-", "-", ""),
            (f"{name}: evidence hit@3 / status / language / exact", f"{pct(b['hit'])} / {pct(b['status'])} / "
             f"{pct(b['language'])} / {pct(b['exact'])}", "-", "-", ""),
        ]
    for b in skipped:
        rows.append((b["name"], b["skipped"], "-", "-", ""))
    rows.append((f"load: {load['n']} concurrent questions, Python API, extractive",
                 f"{load['errors']} errors, p50 {load['p50_ms']:.0f} ms, p95 {load['p95_ms']:.0f} ms, "
                 f"{load['wall_s']:.1f} s wall ({load['qps']:.1f} q/s), peak RSS {load['rss_mb']:.0f} MB", "-", "-",
                 "0 errors: " + ("met" if load["errors"] == 0 else "MISSED")))
    out = ["| measure | PlainPolicy | LangChain baseline | PlainPolicy / baseline | goal |",
           "|---|---|---|---|---|"]
    out += [f"| {' | '.join(r)} |" for r in rows]
    cpu = os.cpu_count()
    out.append("")
    out.append(f"Machine: {cpu} cores; load average (1/5/15 min) before {loads[0][0]:.2f}/{loads[0][1]:.2f}/{loads[0][2]:.2f}, "
               f"after {loads[1][0]:.2f}/{loads[1][1]:.2f}/{loads[1][2]:.2f}. Embedders: PlainPolicy the default (use+e5), baseline USE multilingual. "
               f"Baseline: RecursiveCharacterTextSplitter(800, 80), langchain_chroma.Chroma, top-3 chunks as citations.")
    if ext["misses"] or base["misses"]:
        out.append(f"Evidence misses: PlainPolicy {', '.join(ext['misses']) or 'none'}; baseline {', '.join(base['misses']) or 'none'}.")
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description="PlainPolicy benchmark beside a plain LangChain baseline")
    p.add_argument("--fast", action="store_true", help="skip the local model backend")
    p.add_argument("--gold", default=str(GOLD))
    p.add_argument("--load-n", type=int, default=50)
    p.add_argument("--json", help="also write every number to this file")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    gold = Path(args.gold)

    if args.worker:  # internal: one measured step in its own process
        kind, *rest = args.worker
        if kind == "eval":
            result = worker_eval(Path(rest[0]), rest[1], gold)
        elif kind == "load":
            result = worker_load(Path(rest[0]), int(rest[1]), gold)
        else:
            raise SystemExit(f"unknown worker {kind}")
        print(json.dumps(result))
        return 0

    from index.settings import get_settings
    from rag.llm import available_backends

    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} "
          f"({os.cpu_count()} cores)", file=sys.stderr)
    backends_wanted = [b for b in available_backends(get_settings()) if not (args.fast and b == "local")]
    skipped = [] if not args.fast else [{"name": "local backend", "skipped": "skipped (--fast)"}]
    if "local" not in available_backends(get_settings()) and not args.fast:
        skipped.append({"name": "local backend", "skipped": "not installed"})

    with tempfile.TemporaryDirectory(prefix="pp-bench-") as tmp:
        tmp = Path(tmp)
        print("1/4 cold build ...", file=sys.stderr)
        build = cold_build(tmp)
        results = []
        for backend in backends_wanted:
            print(f"2/4 warm questions, {backend} ...", file=sys.stderr)
            run = measured(worker_cmd("eval", str(build["store"]), backend, "--gold", str(gold)), child_env(build["store"]))
            if run["rc"] != 0:
                skipped.append({"name": f"{backend} backend", "skipped": "failed: " + (run["stderr"].strip().splitlines() or ["?"])[-1][:200]})
                continue
            results.append({**last_json(run["stdout"]), "rss_mb": run["rss_mb"]})
        print("3/4 LangChain baseline ...", file=sys.stderr)
        run = measured([sys.executable, str(ROOT / "bench" / "baseline.py"), "--json", "--gold", str(gold),
                        "--policies", str(tmp / "policies")], child_env())
        if run["rc"] != 0:
            raise SystemExit(f"baseline failed: {run['stderr'].strip()[-500:]}")
        base = {**last_json(run["stdout"]), "rss_mb": run["rss_mb"]}
        print(f"4/4 load: {args.load_n} concurrent questions ...", file=sys.stderr)
        run = measured(worker_cmd("load", str(build["store"]), str(args.load_n), "--gold", str(gold)), child_env(build["store"]))
        if run["rc"] != 0:
            raise SystemExit(f"load test failed: {run['stderr'].strip()[-500:]}")
        load = {**last_json(run["stdout"]), "rss_mb": run["rss_mb"]}
    load_after = os.getloadavg()
    print(table(build, results, skipped, base, load, (load_before, load_after), gold))
    if args.json:
        build.pop("store", None)
        Path(args.json).write_text(json.dumps({"build": build, "backends": results, "skipped": skipped, "baseline": base, "load": load,
                                               "load_average": [load_before, load_after]}, indent=2, default=str))
    return 0 if load["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
