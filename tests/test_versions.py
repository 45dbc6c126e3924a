"""Policy versions kept by `index build`, and `rag versions` / `rag diff` over them.

A tmp copy of two sample policies is indexed (fast embedder), one of them is edited the way a
company edits its policy (a retention period changes, a sentence goes, a sentence comes), and the
index is rebuilt: the diff must find exactly those three edits, as exact spans of each version,
and answers must come from the new text only.
"""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import POLICIES, make_settings
from test_cli import run

OLD_PERIOD = "worden zeven jaar bewaard (wettelijke bewaarplicht)."
NEW_PERIOD = "worden tien jaar bewaard (wettelijke bewaarplicht)."
REMOVED = "In overleg kunnen wij hier uiteraard een verdere toelichting op geven, in dat geval kunt u contact met ons opnemen."
ADDED = "Camerabeelden van ons kantoor worden na vier weken automatisch gewist."
ADD_AFTER = "Bewaartermijn\n"


def edit_policy(text: str) -> str:
    assert text.count(OLD_PERIOD) == 1 and text.count(REMOVED) == 1 and text.count(ADD_AFTER) == 1
    text = text.replace(OLD_PERIOD, NEW_PERIOD).replace(" " + REMOVED, "")
    return text.replace(ADD_AFTER, ADD_AFTER + "\n" + ADDED + "\n", 1)


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """(settings, old text, new text, build reports) after: build, unchanged rebuild, edit, rebuild, rebuild."""
    from index.build import build_index
    from index.versions import list_versions

    base = tmp_path_factory.mktemp("versions")
    policies = base / "policies"
    policies.mkdir()
    for name in ("sensus", "zensor"):
        shutil.copy(POLICIES / f"{name}.txt", policies / f"{name}.txt")
    settings = make_settings(base / "store", policies)
    quiet = dict(progress=False, warn=lambda line: None)
    reports = [build_index(settings, **quiet)]
    assert [v.n for v in list_versions(settings, "sensus")] == [1]
    reports.append(build_index(settings, **quiet))  # unchanged: no new version
    assert reports[-1].unchanged and [v.n for v in list_versions(settings, "sensus")] == [1]
    old = (policies / "sensus.txt").read_text(encoding="utf-8")
    new = edit_policy(old)
    (policies / "sensus.txt").write_text(new, encoding="utf-8")
    reports.append(build_index(settings, **quiet))
    reports.append(build_index(settings, **quiet))  # idempotent after the change too
    return settings, old, new, reports


def test_build_keeps_one_version_per_distinct_text(edited):
    from index.versions import list_versions, version_text

    settings, old, new, reports = edited
    assert not reports[2].unchanged and reports[3].unchanged
    kept = list_versions(settings, "sensus")
    assert [v.n for v in kept] == [1, 2]
    assert version_text(settings, kept[0]) == old and version_text(settings, kept[1]) == new
    assert [v.n for v in list_versions(settings, "zensor")] == [1]  # untouched policy: still one
    folder = settings.store_dir / "versions" / "sensus"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == \
        sorted([kept[0].file, kept[1].file, "versions.json"])  # no temp files left behind


def test_versions_cli(edited):
    settings = edited[0]
    out = json.loads(run("rag", "versions", "--company", "sensus", "--json", store=settings.store_dir).stdout)
    assert out["company"] == "sensus"
    assert [(v["n"], v["live"]) for v in out["versions"]] == [(1, False), (2, True)]
    assert all(len(v["sha256"]) == 64 and v["date"].endswith("Z") for v in out["versions"])
    text = run("rag", "versions", "--company", "zensor", store=settings.store_dir).stdout
    assert len(text.strip().splitlines()) == 1 and "(live)" in text


def test_diff_finds_exactly_the_three_edits(edited):
    settings, old, new, _ = edited
    out = json.loads(run("rag", "diff", "--company", "sensus", "--json", store=settings.store_dir).stdout)
    assert (out["company"], out["from"], out["to"]) == ("sensus", 1, 2)
    assert (len(out["changed"]), len(out["removed"]), len(out["added"])) == (1, 1, 1), out
    pair = out["changed"][0]
    assert OLD_PERIOD in pair["old"]["text"] and NEW_PERIOD in pair["new"]["text"]
    assert pair["old"]["section"] == pair["new"]["section"] == "Bewaartermijn"
    assert out["removed"][0]["text"] == REMOVED
    assert out["added"][0]["text"] == ADDED
    spans = [(old, pair["old"]), (new, pair["new"]), (old, out["removed"][0]), (new, out["added"][0])]
    for source, span in spans:  # exact in its own version's source text
        assert set(span) == {"text", "start", "end", "section"}
        assert source[span["start"]:span["end"]] == span["text"]
    assert "went from 7 years to 10 years [1]" in out["summary"]
    assert "1 changed, 1 added and 1 removed" in out["summary"]


@pytest.mark.parametrize("lang,words", [("nl", ["7 jaar", "10 jaar", "gewijzigde"]),
                                        ("fr", ["7 ans", "10 ans", "modifiée"]),
                                        ("de", ["7 Jahre", "10 Jahre", "geänderte"])])
def test_diff_summary_in_the_users_language(edited, lang, words):
    from index.language import identify

    out = json.loads(run("rag", "diff", "--company", "sensus", "--lang", lang, "--json",
                         store=edited[0].store_dir).stdout)
    assert all(w in out["summary"] for w in words), out["summary"]
    assert identify(out["summary"])[0] == lang


def test_answers_use_the_newest_version(edited):
    settings = edited[0]
    out = json.loads(run("rag", "ask", "--company", "sensus", "--json", "--backend", "extractive",
                         "How long do you keep the data of your debtor and creditor administration?",
                         store=settings.store_dir).stdout)
    assert out["status"] == "answered"
    quotes = " ".join(c["text"] for c in out["citations"])
    assert "tien jaar" in quotes and "zeven jaar" not in quotes
    assert "10 years" in out["answer"] and "7 years" not in out["answer"]
    new = edited[2]
    assert all(new[c["start"]:c["end"]] == c["text"] for c in out["citations"])


@pytest.mark.parametrize("args,message", [
    (("diff", "--company", "nope"), "unknown company"),
    (("versions", "--company", "nope"), "unknown company"),
    (("diff", "--company", "zensor"), "only one version"),
    (("diff", "--company", "sensus", "--from", "7"), "unknown version 7"),
    (("diff", "--company", "sensus", "--lang", "xx"), "unknown language"),
    (("diff", "--company", "../etc"), "invalid company id"),
])
def test_diff_and_versions_errors_are_one_line(edited, args, message):
    for extra in ((), ("--json",)):
        result = run("rag", *args, *extra, store=edited[0].store_dir, ok=False)
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0 and len(lines) == 1 and message in lines[0], result.stderr
        if extra:
            assert message in json.loads(result.stdout)["error"]


# -- the alignment itself, on small texts (no index) ------------------------------------------------
OLD = ("Retention\n\nWe keep invoices for 7 years after the sale. We keep support tickets for 2 years after the "
       "ticket was closed, in case you come back with the same problem. Marketing data is kept until you object."
       "\n\nContact\n\nWrite to privacy@example.com with any question.\n")  # a long line: pysbd cuts it


def test_edit_is_a_changed_pair_not_a_removal_plus_an_addition():
    from rag.diff import diff_texts

    new = OLD.replace("for 7 years", "for 10 years")
    result = diff_texts(OLD, new)
    assert not result["added"] and not result["removed"] and len(result["changed"]) == 1
    pair = result["changed"][0]
    assert OLD[pair["old"]["start"]:pair["old"]["end"]] == pair["old"]["text"]
    assert new[pair["new"]["start"]:pair["new"]["end"]] == pair["new"]["text"] == "We keep invoices for 10 years after the sale."


def test_unrelated_replacement_is_removed_and_added_and_whitespace_is_no_change():
    from rag.diff import diff_texts

    new = OLD.replace("Marketing data is kept until you object.", "Our office has a cafeteria on the ground floor.")
    result = diff_texts(OLD, new)
    assert not result["changed"]
    assert [s["text"] for s in result["removed"]] == ["Marketing data is kept until you object."]
    assert [s["text"] for s in result["added"]] == ["Our office has a cafeteria on the ground floor."]
    assert diff_texts(OLD, OLD.replace("We keep support", "We  keep\tsupport")) == {"added": [], "removed": [], "changed": []}


def test_a_store_built_before_versions_were_kept_gets_its_old_text_as_version_1(tmp_path):
    """Upgrade path: the previous source text still in Chroma becomes version 1 at the first change."""
    from index.build import build_index
    from index.versions import list_versions, version_text

    policies = tmp_path / "p"
    policies.mkdir()
    text = (POLICIES / "sensus.txt").read_text(encoding="utf-8")
    (policies / "sensus.txt").write_text(text, encoding="utf-8")
    settings = make_settings(tmp_path / "s", policies)
    build_index(settings, progress=False, warn=lambda line: None)
    shutil.rmtree(settings.store_dir / "versions")  # as an index built before this feature
    (policies / "sensus.txt").write_text(edit_policy(text), encoding="utf-8")
    build_index(settings, progress=False, warn=lambda line: None)
    kept = list_versions(settings, "sensus")
    assert [v.n for v in kept] == [1, 2] and version_text(settings, kept[0]) == text


def test_concurrent_builds_record_each_text_once(tmp_path):
    """A CLI build and an upload in the app may record at the same moment: the lock file keeps the
    list whole, numbered without gaps, with one version per distinct text in a row."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    from index.versions import list_versions, record_version, version_text

    settings = make_settings(tmp_path / "store")
    texts = [f"Policy text number {i}, long enough to be a policy." for i in range(3)]

    def record(text):
        return record_version(settings, "acme", text, hashlib.sha256(text.encode()).hexdigest(), "acme.txt", "txt")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(record, [texts[0]] * 8))
    assert [v.n for v in list_versions(settings, "acme")] == [1]
    for text in texts[1:]:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(record, [text] * 4))
    kept = list_versions(settings, "acme")
    assert [v.n for v in kept] == [1, 2, 3]
    assert [version_text(settings, v) for v in kept] == texts
    with pytest.raises(ValueError, match="invalid company id"):
        list_versions(settings, "../etc")
