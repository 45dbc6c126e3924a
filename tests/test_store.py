"""The persistent Chroma index: reopen, filter by company, incremental rebuilds, atomic switch."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import POLICIES, ROOT, make_settings
from index.build import build_index
from index.store import PolicyStore, StoreError
from rag.chain import search as rag_search
from rag.retrieve import PolicyRetriever


def test_reopen_and_filter_by_company(sample_store):
    store = PolicyStore(sample_store)
    manifest = store.require_manifest()
    assert set(manifest["companies"]) == {"engcode", "intersentia", "selligent", "sensus", "zensor"}
    assert manifest["companies"]["zensor"]["language"] == "en"
    coll = store.chunk_collection(manifest["collections"]["use"])
    got = coll.get(where={"company": "sensus"}, include=["metadatas"])
    assert got["ids"] and all(m["company"] == "sensus" for m in got["metadatas"])
    # A fresh process view (new retriever) answers from what is on disk.
    retriever = PolicyRetriever(sample_store)
    passages = rag_search("sensus", "bewaartermijn", settings=sample_store, k=3)
    assert passages and all(p.company == "sensus" for p in passages)
    source = retriever.source_text("sensus")
    assert all(source[p.start:p.end] == p.text for p in passages)


def _copy_policies(tmp_path: Path, names=("sensus", "selligent")) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    for n in names:
        shutil.copy(POLICIES / f"{n}.txt", folder)
    return folder


def test_unchanged_rebuild_embeds_nothing_and_edits_embed_only_changes(tmp_path):
    folder = _copy_policies(tmp_path)
    settings = make_settings(tmp_path / "store", folder)
    first = build_index(settings, progress=False)
    assert first.embedded == first.chunks > 0
    again = build_index(settings, progress=False)
    assert again.unchanged and again.embedded == 0
    # Append a paragraph to one policy: only its new or changed chunks are embedded.
    with open(folder / "sensus.txt", "a", encoding="utf-8") as fh:
        fh.write("\n\nNieuwe paragraaf\n\nWij bewaren back-ups maximaal dertig dagen.\n")
    edited = build_index(settings, progress=False)
    assert 0 < edited.embedded <= 3
    # Deleting a policy removes its chunks.
    (folder / "selligent.txt").unlink()
    removed = build_index(settings, progress=False)
    assert removed.embedded == 0
    store = PolicyStore(settings)
    manifest = store.require_manifest()
    assert set(manifest["companies"]) == {"sensus"}
    coll = store.chunk_collection(manifest["collections"]["use"])
    assert not coll.get(where={"company": "selligent"})["ids"]
    assert [n for n in store.collection_names() if n.startswith("chunks_")] == [manifest["collections"]["use"]]


def test_failed_rebuild_leaves_the_old_index_answering(tmp_path, monkeypatch):
    folder = _copy_policies(tmp_path)
    settings = make_settings(tmp_path / "store", folder)
    build_index(settings, progress=False)
    before = PolicyStore(settings).require_manifest()
    (folder / "engcode.txt").write_text((POLICIES / "engcode.txt").read_text(encoding="utf-8"), encoding="utf-8")

    from index import embed

    calls = {"n": 0}
    real = embed.UniversalSentenceEncoder.embed_documents

    def dies_half_way(self, texts):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("power cut")
        return real(self, texts)

    monkeypatch.setattr(embed.UniversalSentenceEncoder, "embed_documents", dies_half_way)
    with pytest.raises(RuntimeError):
        build_index(settings, progress=False)
    monkeypatch.undo()
    after = PolicyStore(settings).require_manifest()
    assert after == before and "engcode" not in after["companies"]
    assert rag_search("sensus", "hoe lang bewaren", settings=settings, k=2)


def test_killed_build_process_leaves_the_old_index_answering(tmp_path):
    folder = _copy_policies(tmp_path, ("sensus",))
    store_dir = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PLAINPOLICY_EMBEDDER": "use"}
    cmd = [sys.executable, "-m", "index", "build", "--policies", str(folder), "--store", str(store_dir)]
    subprocess.run(cmd, check=True, env=env, capture_output=True, cwd=ROOT)
    before = json.dumps(PolicyStore(make_settings(store_dir, folder)).require_manifest(), sort_keys=True)
    for name in ("intersentia", "engcode"):  # a big change: the rebuild takes seconds
        shutil.copy(POLICIES / f"{name}.txt", folder)
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd=ROOT)
    seen = b""
    deadline = time.time() + 120
    while b"embedding" not in seen and time.time() < deadline and proc.poll() is None:
        seen += os.read(proc.stderr.fileno(), 4096)
    assert proc.poll() is None, "the build finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    result = subprocess.run([sys.executable, "-m", "rag", "ask", "--store", str(store_dir), "--company", "sensus",
                             "--json", "--backend", "extractive", "Hoe lang bewaren jullie mijn gegevens?"],
                            env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "answered"
    after = json.dumps(PolicyStore(make_settings(store_dir, folder)).require_manifest(), sort_keys=True)
    assert after == before
    # The next build cleans up what the killed one left and switches.
    subprocess.run(cmd, check=True, env=env, capture_output=True, cwd=ROOT)
    store = PolicyStore(make_settings(store_dir, folder))
    assert set(store.require_manifest()["companies"]) == {"sensus", "intersentia", "engcode"}
    assert len([n for n in store.collection_names() if n.startswith("chunks_")]) == 1


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="index build"):
        PolicyStore(make_settings(tmp_path / "nothing-here"))
