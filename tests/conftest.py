"""Shared fixtures: one real index of the sample policies (persistent Chroma in a temp folder),
built once per test session with the real bundled embedder."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from index.settings import Settings  # noqa: E402

POLICIES = ROOT / "policies"
GOLD = ROOT / "tests" / "data" / "dev.jsonl"  # a copy of ../shared/eval/dev.jsonl: CI has no ../shared


def make_settings(store: Path, policies: Path = POLICIES, **extra) -> Settings:
    return dataclasses.replace(Settings(), store_dir=Path(store), policies_dir=Path(policies), chroma_url=None,
                               embedder="use", **extra)


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> Settings:
    from index.build import build_index

    # the default embedders (use+e5), as users have them; other tests' own stores use one, faster
    settings = dataclasses.replace(make_settings(tmp_path_factory.mktemp("store")), embedder=Settings().embedder)
    report = build_index(settings, progress=False)
    assert report.policies == 5 and report.chunks > 100
    return settings


@pytest.fixture(scope="session")
def gold() -> list[dict]:
    from rag.evaluate import load_gold

    return load_gold(GOLD)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url_answers(url: str, expect: bytes | None = None) -> bool:
    """True when a GET of url returns 200 (and, if given, exactly `expect` as its stripped body)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200 and (expect is None or r.read().strip() == expect)
    except OSError:
        return False


@contextlib.contextmanager
def running_server(cmd: list[str], ready, what: str, log_path: Path, timeout: float, **popen):
    """Start a real server process, wait until ready() is true, yield, then stop it. A server that
    exits or stays silent past the timeout fails the test with the tail of its log."""
    import subprocess
    import time

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            deadline = time.time() + timeout
            while not ready():
                if proc.poll() is not None or time.time() > deadline:
                    log.flush()
                    pytest.fail(f"{what} did not start:\n" + log_path.read_text(errors="replace")[-2000:])
                time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
