"""What makes 1,000 companies work (issue 15): copies of one text are embedded once, an unchanged
corpus re-embeds nothing, and the per-company indexes kept in memory are bounded (LRU)."""
from __future__ import annotations

import dataclasses
import shutil

import rag
from conftest import POLICIES, make_settings
from index.build import build_index
from rag.retrieve import get_retriever


def copies(folder, n: int) -> None:
    folder.mkdir()
    text = (POLICIES / "zensor.txt").read_text(encoding="utf-8")
    for i in range(n):
        (folder / f"zensor-{i}.txt").write_text(text + f"\n\nThis copy is listed as company number {i}.\n",
                                                encoding="utf-8")


def test_copies_of_one_policy_are_embedded_once_and_a_rebuild_embeds_nothing(tmp_path):
    copies(tmp_path / "policies", 3)
    settings = make_settings(tmp_path / "store", tmp_path / "policies")
    first = build_index(settings, progress=False, warn=lambda line: None)
    per_copy = first.chunks // 3
    assert first.policies == 3 and first.chunks == 3 * per_copy
    # one copy's chunks, plus the chunk holding each copy's own line
    assert first.embedded <= per_copy + 2 * 2, (first.embedded, per_copy)
    again = build_index(settings, progress=False, warn=lambda line: None)
    assert again.unchanged and again.embedded == 0
    # a fourth copy costs only its own line's chunk
    shutil.copy(tmp_path / "policies" / "zensor-0.txt", tmp_path / "policies" / "zensor-3.txt")
    with open(tmp_path / "policies" / "zensor-3.txt", "a", encoding="utf-8") as fh:
        fh.write("One more line of its own.\n")
    fourth = build_index(settings, progress=False, warn=lambda line: None)
    assert 0 < fourth.embedded <= 2
    for i in range(4):
        answer = rag.ask(f"zensor-{i}", "Do you sell my data?", settings=settings, backend="extractive")
        assert answer.company == f"zensor-{i}" and answer.citations


def test_per_company_indexes_in_memory_are_bounded(tmp_path):
    copies(tmp_path / "policies", 3)
    settings = dataclasses.replace(make_settings(tmp_path / "store", tmp_path / "policies"), company_cache=2)
    build_index(settings, progress=False, warn=lambda line: None)
    answers = {}
    for i in (0, 1, 2, 0):
        answers.setdefault(i, []).append(rag.ask(f"zensor-{i}", "How long do you keep my data?", settings=settings,
                                                 backend="extractive"))
        assert len(get_retriever(settings)._companies) <= 2
    assert list(get_retriever(settings)._companies) == ["zensor-2", "zensor-0"]  # least recently used dropped
    first, again = answers[0]  # reloaded after it was dropped: the same answer
    assert (first.answer, [c.start for c in first.citations]) == (again.answer, [c.start for c in again.citations])


def test_embedding_cache_serves_a_build_into_a_new_store(tmp_path):
    copies(tmp_path / "policies", 1)
    cache = tmp_path / "embed-cache"
    first = dataclasses.replace(make_settings(tmp_path / "a", tmp_path / "policies"), embed_cache=str(cache))
    assert build_index(first, progress=False, warn=lambda line: None).embedded > 0
    second = dataclasses.replace(first, store_dir=tmp_path / "b")  # a new, empty store
    report = build_index(second, progress=False, warn=lambda line: None)
    assert report.embedded == 0 and not report.unchanged
    answer = rag.ask("zensor-0", "Do you sell my data?", settings=second, backend="extractive")
    assert answer.citations
    # the same vectors as a build without the cache
    plain = dataclasses.replace(first, store_dir=tmp_path / "c", embed_cache=None)
    build_index(plain, progress=False, warn=lambda line: None)
    again = rag.ask("zensor-0", "Do you sell my data?", settings=plain, backend="extractive")
    assert [c.start for c in again.citations] == [c.start for c in answer.citations]


def test_an_unchanged_folder_is_not_read_again(tmp_path, monkeypatch):
    copies(tmp_path / "policies", 2)
    (tmp_path / "policies" / "empty.txt").write_bytes(b"")
    settings = make_settings(tmp_path / "store", tmp_path / "policies")
    first = build_index(settings, progress=False, warn=lambda line: None)
    assert len(first.skipped) == 1
    import index.build

    def no_reading(*args, **kwargs):
        raise AssertionError("an unchanged folder was read again")

    monkeypatch.setattr(index.build, "read_folder", no_reading)
    lines: list[str] = []
    again = build_index(settings, progress=False, warn=lines.append)
    assert again.unchanged and again.embedded == 0 and again.chunks == first.chunks and again.policies == 2
    assert again.skipped == first.skipped and len(lines) == 1  # the bad file is still named
    monkeypatch.undo()
    (tmp_path / "policies" / "zensor-1.txt").write_text("Changed. " * 20 + "We keep data one year.\n", encoding="utf-8")
    changed = build_index(settings, progress=False, warn=lambda line: None)
    assert not changed.unchanged and changed.embedded > 0
