"""Shared fixtures: one real index of the sample policies (persistent Chroma in a temp folder),
built once per test session with the real bundled embedder."""
from __future__ import annotations

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

    settings = make_settings(tmp_path_factory.mktemp("store"))
    report = build_index(settings, progress=False)
    assert report.policies == 5 and report.chunks > 100
    return settings


@pytest.fixture(scope="session")
def gold() -> list[dict]:
    from rag.evaluate import load_gold

    return load_gold(GOLD)
