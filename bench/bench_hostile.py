"""Hostile files, measured: `index build` (a subprocess, as a user runs it) over the folder of
tests/hostile_files.py beside the sample policies, with the default per-file time limit; then the
time to read, clean and chunk the 2 MB one-line policy alone (in the worker, as the build does).

    .venv/bin/python bench/bench_hostile.py
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from hostile_files import hostile_files  # noqa: E402
from index.file_worker import FileWorker  # noqa: E402


def main() -> int:
    files = hostile_files()
    with tempfile.TemporaryDirectory(prefix="plainpolicy-hostile-") as tmp:
        folder = Path(tmp) / "policies"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        for p in (ROOT / "policies").glob("*.txt"):
            shutil.copy(p, folder)
        env = {**os.environ, "PLAINPOLICY_EMBEDDER": os.environ.get("PLAINPOLICY_EMBEDDER", "use"),
               "PLAINPOLICY_STORE": str(Path(tmp) / "store")}
        env.pop("PLAINPOLICY_CHROMA_URL", None)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "index", "build", "--quiet", "--policies", str(folder)],
                              capture_output=True, text=True, cwd=ROOT, env=env)
        build_s = time.perf_counter() - started
        skipped = [line for line in done.stdout.splitlines() if line.startswith("  skipped: ")]
        crashed = done.returncode != 0 or "Traceback" in done.stderr
        print(f"files tried: {len(files) + 5} ({len(files)} hostile + 5 sample policies)")
        print(done.stdout.splitlines()[0] if done.stdout else done.stderr.strip()[-500:])
        print(f"skipped with a message: {len(skipped)}; crashes: {int(crashed)}; build wall time {build_s:.1f} s")
        for line in skipped:
            print(line[:140])
        worker = FileWorker(timeout=600)
        try:
            started = time.perf_counter()
            parsed = worker.parse(folder / "one-2mb-line.txt", None, 180)
            print(f"2 MB single-line policy: read+clean+chunk {time.perf_counter() - started:.1f} s, "
                  f"{len(parsed.chunks)} chunks (worker process)")
        finally:
            worker.close()
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
