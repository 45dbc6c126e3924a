"""Cross-validated PolicyQA figures through the product: for each fold of `make train`, run the real
`python -m rag search --k 10` on that fold's held-out policies with the ranker trained without them,
then score all answers with ../shared/eval/policyqa-dev/score.py (which computes BM25 in the same run).

    .venv/bin/python scripts/cv_policyqa.py [--cache .cache/train] [--out .cache/pqa-cv.jsonl]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ROOT = PROJECT.parent / "shared" / "eval" / "policyqa-dev"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=str(PROJECT / ".cache" / "train"))
    ap.add_argument("--out", default=str(PROJECT / ".cache" / "pqa-cv.jsonl"))
    args = ap.parse_args()
    cache, out = Path(args.cache), Path(args.out)
    questions = [json.loads(line) for line in (ROOT / "questions.jsonl").read_text().splitlines() if line.strip()]
    folds = sorted((cache / "folds").glob("fold*"))
    if not folds:
        sys.exit("no fold models: run `make train` first")
    parts = []
    for fold in folds:
        heldout = {c.split("/", 1)[1] for c in json.loads((fold / "heldout.json").read_text()) if c.startswith("policyqa/")}
        mine = [q for q in questions if q["company"] in heldout]
        if not mine:
            continue
        qfile, part = fold / "pqa-questions.jsonl", fold / "pqa-results.jsonl"
        qfile.write_text("".join(json.dumps(q) + "\n" for q in mine))
        env = {**os.environ, "PLAINPOLICY_MODELS_DIR": str(fold)}
        subprocess.run([sys.executable, "-m", "rag", "search", "--store", str(cache / "policyqa"), "--in", str(qfile),
                        "--out", str(part), "--k", "10"], check=True, env=env, cwd=PROJECT)
        parts.append(part)
        print(f"{fold.name}: {len(mine)} questions over {len(heldout)} held-out policies", file=sys.stderr)
    out.write_text("".join(p.read_text() for p in parts))
    return subprocess.run([sys.executable, str(ROOT / "score.py"), str(out)] + sys.argv[len(sys.argv):]).returncode


if __name__ == "__main__":
    sys.exit(main())
