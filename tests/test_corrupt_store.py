"""A damaged store (issue 15): each kind of damage is one clear line with the fix, in the CLI
(`rag ask/search/companies`: non-zero exit, one line on stderr, {"error"} with --json) and in the
UI (an st.error, no traceback); `index build` then rebuilds it."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import POLICIES, ROOT, make_settings

HINT = "python -m index build"


@pytest.fixture(scope="module")
def base_store(tmp_path_factory):
    from index.build import build_index

    base = tmp_path_factory.mktemp("corrupt-base")
    folder = base / "policies"
    folder.mkdir()
    shutil.copy(POLICIES / "zensor.txt", folder)
    settings = make_settings(base / "store", folder)
    build_index(settings, progress=False, warn=lambda line: None)
    return settings


def _rewrite_manifest(store_dir, change) -> None:
    """Edit the manifest record in place, through a client of our own (then forgotten)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(store_dir), settings=ChromaSettings(anonymized_telemetry=False))
    meta = client.get_collection("plainpolicy_meta")
    manifest = json.loads(meta.get(ids=["manifest"], include=["documents"])["documents"][0])
    document = change(manifest, client)
    meta.upsert(ids=["manifest"], documents=[document], embeddings=[[1.0]])


def _manifest_points_nowhere(manifest, client):
    manifest["collections"] = {k: v + "_gone" for k, v in manifest["collections"].items()}
    return json.dumps(manifest)


def _collection_deleted(manifest, client):
    client.delete_collection(manifest["collections"]["units:use"])
    return json.dumps(manifest)


def _manifest_not_json(manifest, client):
    return "{not json"


def _manifest_missing_keys(manifest, client):
    del manifest["embedders"]
    return json.dumps(manifest)


DAMAGE = {
    "truncated-sqlite": lambda d: (d / "chroma.sqlite3").write_bytes((d / "chroma.sqlite3").read_bytes()[:100_000]),
    "manifest-points-nowhere": lambda d: _rewrite_manifest(d, _manifest_points_nowhere),
    "collection-deleted": lambda d: _rewrite_manifest(d, _collection_deleted),
    "manifest-not-json": lambda d: _rewrite_manifest(d, _manifest_not_json),
    "manifest-missing-keys": lambda d: _rewrite_manifest(d, _manifest_missing_keys),
}
COMMANDS = {
    "ask": ["ask", "--company", "zensor", "--backend", "extractive", "Do you sell my data?"],
    "search": ["search", "--company", "zensor", "Do you sell my data?"],
    "companies": ["companies"],
}


def damaged_copy(base_store, tmp_path, kind):
    store = tmp_path / "store"
    shutil.copytree(base_store.store_dir, store)
    DAMAGE[kind](store)
    return store


def run_cli(args: list[str], store) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".cache"), "PYTHONPATH": str(ROOT),
           "PLAINPOLICY_EMBEDDER": "use", "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.run([sys.executable, "-m", "rag", *args, "--store", str(store)], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=180)


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_store_is_one_line_with_the_fix_in_the_cli(base_store, tmp_path, kind):
    store = damaged_copy(base_store, tmp_path, kind)
    for name, args in COMMANDS.items():
        for as_json in (False, True):
            result = run_cli(args + (["--json"] if as_json else []), store)
            lines = result.stderr.strip().splitlines()
            assert result.returncode != 0 and len(lines) == 1, (kind, name, result.stderr[-800:])
            assert "damaged" in lines[0] and HINT in lines[0] and "Traceback" not in result.stderr, lines
            if as_json:
                error = json.loads(result.stdout)["error"]
                assert "damaged" in error and HINT in error


def test_deleted_sqlite_says_there_is_no_index(base_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(base_store.store_dir, store)
    (store / "chroma.sqlite3").unlink()
    result = run_cli(COMMANDS["ask"] + ["--json"], store)
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "no index" in result.stderr and HINT in result.stderr
    assert HINT in json.loads(result.stdout)["error"]


@pytest.mark.parametrize("kind", ["truncated-sqlite", "manifest-points-nowhere"])
def test_index_build_repairs_a_damaged_store(base_store, tmp_path, kind):
    import dataclasses

    import rag
    from index.build import build_index

    store = damaged_copy(base_store, tmp_path, kind)
    settings = dataclasses.replace(base_store, store_dir=store)
    warnings: list[str] = []
    report = build_index(settings, progress=False, warn=warnings.append)
    assert report.policies == 1 and not report.unchanged
    if kind == "truncated-sqlite":  # moved aside, kept, and said so
        assert any("damaged" in w and "moved aside" in w for w in warnings), warnings
        assert list(tmp_path.glob("store.damaged-*"))
    answer = rag.ask("zensor", "Do you sell my data?", settings=settings, backend="extractive")
    assert answer.citations


@pytest.mark.parametrize("kind", ["truncated-sqlite", "manifest-not-json", "collection-deleted"])
def test_damaged_store_in_the_ui_is_one_error_with_the_fix(base_store, tmp_path, monkeypatch, kind):
    from test_app import page_html, start

    store = damaged_copy(base_store, tmp_path, kind)
    monkeypatch.setenv("PLAINPOLICY_STORE", str(store))
    monkeypatch.setenv("PLAINPOLICY_POLICIES", str(base_store.policies_dir))
    monkeypatch.setenv("PLAINPOLICY_EMBEDDER", "use")
    monkeypatch.setenv("PLAINPOLICY_BACKEND", "extractive")
    monkeypatch.delenv("PLAINPOLICY_CHROMA_URL", raising=False)
    at = start()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "damaged" in errors[0] and "index build" in errors[0], errors
    assert "Traceback" not in page_html(at)
