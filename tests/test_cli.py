"""`python -m rag` and `python -m index` as a user runs them: JSON shapes, batch files, clear errors."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

CITATION_KEYS = {"n", "text", "source", "start", "end", "section", "score"}


def run(*args, store=None, ok=True):
    cmd = [sys.executable, "-m", *args]
    if store is not None:
        cmd += ["--store", str(store)]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".cache"),
                                 "PLAINPOLICY_BACKEND": "extractive"})
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def test_companies_json(sample_store):
    out = json.loads(run("rag", "companies", "--json", store=sample_store.store_dir).stdout)
    assert {c["id"] for c in out} == {"engcode", "intersentia", "selligent", "sensus", "zensor"}
    assert all({"name", "language", "source"} <= set(c) for c in out)


def test_ask_json_contract(sample_store):
    out = json.loads(run("rag", "ask", "--company", "sensus", "--json", "--backend", "extractive",
                         "How long do you keep my data?", store=sample_store.store_dir).stdout)
    assert {"id", "company", "question", "language", "status", "answer", "citations", "backend", "timings_ms"} <= set(out)
    assert out["status"] == "answered" and out["language"] == "en" and out["backend"] == "extractive"
    assert out["citations"] and all(CITATION_KEYS <= set(c) for c in out["citations"])
    source = (ROOT / out["citations"][0]["source"]).read_text(encoding="utf-8")
    assert all(source[c["start"]:c["end"]] == c["text"] for c in out["citations"])
    assert {"retrieve", "generate"} <= set(out["timings_ms"])


def test_search_json_contract(sample_store):
    out = json.loads(run("rag", "search", "--company", "zensor", "--k", "4", "--json", "do you sell my data",
                         store=sample_store.store_dir).stdout)
    assert set(out) == {"id", "company", "question", "passages"}
    assert len(out["passages"]) == 4 and all(CITATION_KEYS <= set(p) for p in out["passages"])
    scores = [p["score"] for p in out["passages"]]
    assert scores == sorted(scores, reverse=True)


def test_batch_in_out(sample_store, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"id": "a", "company": "engcode", "question": "Do you sell my personal information?"},
        {"id": "b", "company": "nope", "question": "Do you sell my data?"},
        {"id": "c", "company": "selligent", "question": "Vendez-vous mes données personnelles ?"},
    ]) + "\n")
    for command in ("ask", "search"):
        out = tmp_path / f"{command}.jsonl"
        result = run("rag", command, "--in", str(questions), "--out", str(out), store=sample_store.store_dir)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["id"] for r in rows] == ["a", "b", "c"]
        assert "error" in rows[1] and "unknown company" in rows[1]["error"]
        assert "1 of 3" in result.stderr
    rows = [json.loads(line) for line in (tmp_path / "ask.jsonl").read_text().splitlines()]
    assert rows[2]["language"] == "fr" and rows[2]["status"] == "answered"


@pytest.mark.parametrize("args,message", [
    (("ask", "--company", "nope", "Do you sell my data?"), "unknown company"),
    (("ask", "--company", "../x", "Do you sell my data?"), "invalid company id"),
    (("ask", "--company", "sensus", "   "), "empty"),
    (("search", "--company", "sensus", ""), "empty"),
])
def test_errors_are_one_line_and_json(sample_store, args, message):
    for as_json in (False, True):
        extra = ("--json",) if as_json else ()
        result = run("rag", *args[:-1], *extra, args[-1], store=sample_store.store_dir, ok=False)
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr
        if as_json:
            assert message in json.loads(result.stdout)["error"]


def test_missing_store(tmp_path):
    result = run("rag", "ask", "--company", "sensus", "--json", "hello there?", store=tmp_path / "none", ok=False)
    assert result.returncode != 0 and "index build" in json.loads(result.stdout)["error"]
    assert len(result.stderr.strip().splitlines()) == 1


def test_long_question_is_cut_with_notice(sample_store):
    question = "How long do you keep my data? " + "blah " * 12000
    out = json.loads(run("rag", "ask", "--company", "sensus", "--json", "--backend", "extractive", question,
                         store=sample_store.store_dir).stdout)
    assert len(out["question"]) <= 2000 and "2000" in out["notice"]


def test_eval_on_tiny_gold_file(sample_store, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(g) for g in [
        {"id": "t1", "company": "engcode", "lang": "en", "question": "How can I contact you about privacy?",
         "answerable": True, "evidence": ["info@engcode.be"], "answer_must_contain": [["info@engcode.be"]]},
        {"id": "t2", "company": "zensor", "lang": "en", "question": "Does Zensor have an office in France?",
         "answerable": False, "evidence": [], "answer_must_contain": []},
    ]) + "\n")
    out = run("rag", "eval", str(gold), store=sample_store.store_dir).stdout
    assert "evidence hit@3" in out and "p50" in out
    all_row = next(line for line in out.splitlines() if line.startswith("all"))
    assert "100.0% (1/1)" in all_row and "100.0% (2/2)" in all_row


def test_index_cli_build_and_list(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "sensus.txt").write_text((ROOT / "policies" / "sensus.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    result = run("index", "build", "--policies", str(folder), store=tmp_path / "s")
    assert "indexed 1 policies" in result.stdout and "skipped 1 file(s)" in result.stdout
    assert "broken.pdf" in result.stdout + result.stderr
    listing = run("index", "list", store=tmp_path / "s").stdout
    assert "sensus" in listing
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = run("index", "build", "--policies", str(empty), store=tmp_path / "s", ok=False)
    assert bad.returncode != 0 and "no usable policy" in bad.stderr and "Traceback" not in bad.stderr
