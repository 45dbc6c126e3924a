"""The privacy fact card (rag card), the compare table (rag compare) and their exports: the JSON
contract of design.md, CSV parsed with the csv module, Markdown rows, every quote exact in its
source, the on-disk cache (a second call computes nothing; a corrupt entry is recomputed), and
one-line errors."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, make_settings

from rag.schema import Answer, Citation

ITEM_IDS = ["controller", "dpo", "purposes", "legal_basis", "recipients", "transfers", "retention", "right_access",
            "right_rectification", "right_erasure", "right_restriction", "right_portability", "right_object",
            "withdraw_consent", "complaint", "automated_decisions", "sells_data", "cookies", "children"]
COMPARE_COLUMNS = ["company", "status", "verdict", "answer", "quote", "translation", "source", "start", "end", "section"]
NEWPOLICIES = ROOT.parent / "shared" / "eval" / "newpolicies-dev" / "policies"


@pytest.fixture(scope="session")
def card_store(tmp_path_factory):
    """The AppTest store (three sample policies, the fast embedder), built once per session and
    shared with tests/test_app.py: the card's figures are measured elsewhere, these tests check shapes."""
    from test_app import build_ui_store

    policies, store = build_ui_store(tmp_path_factory.getbasetemp() / "ui-store")
    return make_settings(store, policies)


IDS = ["selligent", "sensus", "zensor"]


def cli(store, *args, ok=True):
    """`python -m rag ...` in-process, as the CLI runs it; returns (exit code, stdout, stderr)."""
    from rag.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main([*args, "--store", str(store)])
    finally:
        sys.stdout, sys.stderr = saved
    if ok:
        assert code == 0, err.getvalue()
    return code, out.getvalue(), err.getvalue()


def sources_of(settings, companies):
    import rag

    return {c: rag.source_text(c, settings) for c in companies}


# -- exports, no store needed ------------------------------------------------------------------------
def _answer(company, status, quotes):
    cites = [Citation(n=i + 1, text=q, source=f"policies/{company}.txt", start=10 * i, end=10 * i + len(q),
                      section="Sec | tion", score=0.5) for i, q in enumerate(quotes)]
    return Answer(company=company, question="q", language="en", status=status, answer="A | b [1]\nc",
                  citations=cites, verdict="no" if quotes else None)


def test_export_formats_keep_hostile_cells_intact():
    from rag.export import export_compare

    quotes = ['We "never" sell | share, data;\nsee <b>below</b>', "Second, quote"]
    results = [("acme", _answer("acme", "answered", quotes), None), ("zed", _answer("zed", "not_found", []), None),
               ("bad", None, "unknown company 'bad'")]
    rows = list(csv.DictReader(io.StringIO(export_compare("csv", "Do you | sell?", results))))
    assert list(rows[0]) == COMPARE_COLUMNS
    assert [r["quote"] for r in rows if r["company"] == "acme"] == quotes  # commas, quotes, newlines survive
    assert [r["quote"] for r in rows if r["company"] == "zed"] == [""]  # not_found: one row, empty quote
    assert rows[0]["translation"] == ""  # a citation without the translation field
    md = export_compare("md", "Do you | sell?", results).splitlines()
    table = [line for line in md if line.startswith("|")]
    assert len(table) == 2 + 3  # header, separator, one row per company
    for line in table:  # escaped pipes never split a cell: 5 columns in every row
        assert len([p for p in line.replace("\\|", "").split("|")[1:-1]]) == 5
    assert "<b>" not in "\n".join(md)
    data = json.loads(export_compare("json", "Do you | sell?", results))
    assert [r["company"] for r in data["results"]] == ["acme", "zed", "bad"] and "error" in data["results"][2]


# -- CLI over the sample store ----------------------------------------------------------------------
def test_card_json_contract_exact_quotes_and_cache(card_store, monkeypatch):
    import rag.card as card_module

    result = subprocess.run([sys.executable, "-m", "rag", "card", "--company", "sensus", "--lang", "nl", "--json",
                             "--store", str(card_store.store_dir)], capture_output=True, text=True, cwd=ROOT,
                            timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                              "HOME": str(ROOT / ".cache")})
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert {"company", "language", "items"} <= set(card) and card["company"] == "sensus" and card["language"] == "nl"
    assert [item["id"] for item in card["items"]] == ITEM_IDS
    source = sources_of(card_store, ["sensus"])["sensus"]
    for item in card["items"]:
        assert {"id", "status", "answer", "citations"} <= set(item)
        assert item["status"] in ("stated", "not_stated") and item["answer"].strip()
        assert (item["status"] == "stated") == bool(item["citations"])
        assert all(source[c["start"]:c["end"]] == c["text"] for c in item["citations"])
    assert 0 < sum(item["status"] == "stated" for item in card["items"]) < len(ITEM_IDS)

    # the CLI cached it: the same card comes back in-process without asking the core anything
    cached = list((Path(card_store.store_dir) / "cards" / "sensus").glob("*-nl-extractive-*.json"))
    assert len(cached) == 1
    before = card_module.computed["sensus"]
    monkeypatch.setattr(card_module, "ask", lambda *a, **k: pytest.fail("a cached card was recomputed"))
    again = card_module.company_card("sensus", card_store, "nl")
    assert again["items"] == card["items"] and card_module.computed["sensus"] == before

    # a corrupt entry is recomputed (and written back whole)
    monkeypatch.undo()
    cached[0].write_text('{"company": "sensus", "items": [', encoding="utf-8")
    fresh = card_module.company_card("sensus", card_store, "nl")
    assert card_module.computed["sensus"] == before + 1
    assert [i["status"] for i in fresh["items"]] == [i["status"] for i in card["items"]]
    assert json.loads(cached[0].read_text(encoding="utf-8"))["items"] == fresh["items"]


def test_card_all_three_formats(card_store, tmp_path):
    store = card_store.store_dir
    ids = IDS
    sources = sources_of(card_store, ids)
    out = tmp_path / "cards.json"
    cli(store, "card", "--all", "--format", "json", "--out", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [c["company"] for c in data["cards"]] == ids
    assert all([i["id"] for i in c["items"]] == ITEM_IDS for c in data["cards"])
    _, text, _ = cli(store, "card", "--all", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert set(rows[0]) == {"company", "item", *COMPARE_COLUMNS[1:]}
    assert {(r["company"], r["item"]) for r in rows} == {(c, i) for c in ids for i in ITEM_IDS}
    for r in rows:
        if r["quote"]:
            assert sources[r["company"]][int(r["start"]):int(r["end"])] == r["quote"]
        else:
            assert r["status"] == "not_stated"
    _, md, _ = cli(store, "card", "--all", "--format", "md")
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(ITEM_IDS)
    assert all(len(line.replace("\\|", "").split("|")) == len(ids) + 3 for line in table)  # Item + a column each


def test_compare_three_formats(card_store, tmp_path):
    store, ids = card_store.store_dir, ["sensus", "zensor", "selligent"]
    sources = sources_of(card_store, ids)
    question = "Do you sell my personal data?"
    out = tmp_path / "compare.csv"
    cli(store, "compare", "--companies", ",".join(ids), "--question", question, "--format", "csv", "--out", str(out))
    with open(out, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COMPARE_COLUMNS
        rows = list(reader)
    assert [r["company"] for r in rows] == sorted((r["company"] for r in rows), key=ids.index)
    for company in ids:
        mine = [r for r in rows if r["company"] == company]
        assert mine and len({r["status"] for r in mine}) == 1
        if mine[0]["status"] == "not_found":
            assert len(mine) == 1 and mine[0]["quote"] == ""
        else:
            assert all(sources[company][int(r["start"]):int(r["end"])] == r["quote"] for r in mine)
    _, text, _ = cli(store, "compare", "--companies", ",".join(ids), "--question", question, "--json")
    data = json.loads(text)
    assert data["question"] == question and [r["company"] for r in data["results"]] == ids
    for r in data["results"]:
        assert {"status", "verdict", "answer", "citations"} <= set(r) and r["status"] in ("answered", "not_found")
    _, md, _ = cli(store, "compare", "--companies", ",".join(ids), "--question", question, "--format", "md")
    assert len([line for line in md.splitlines() if line.startswith("|")]) == 2 + len(ids)


@pytest.mark.parametrize("args,message", [
    (("card", "--company", "nope"), "unknown company"),
    (("card", "--company", "sensus", "--lang", "xx"), "unknown language"),
    (("card", "--all", "--format", "xlsx"), "unknown format"),
    (("card", "--all", "--lang", "es"), "unknown language"),
    (("compare", "--companies", "sensus,zensor", "--question", "Do you sell?", "--lang", "es"), "unknown language"),
    (("compare", "--companies", "sensus,nope", "--question", "Do you sell my data?"), "unknown company"),
    (("compare", "--companies", "sensus,zensor", "--question", "Do you sell?", "--format", "pdf"), "unknown format"),
])
def test_card_compare_errors_are_one_line(card_store, args, message):
    for extra in ((), ("--json",)):
        code, out, err = cli(card_store.store_dir, *args, *extra, ok=False)
        assert code != 0 and len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
        if extra:
            assert message in json.loads(out)["error"]


def test_card_items_have_a_question_in_every_language():
    from rag.card import card_definition
    from rag.language import detect_question_language

    definition = card_definition()
    assert [item["id"] for item in definition["items"]] == ITEM_IDS
    for item in definition["items"]:
        assert item["group"] in definition["groups"]
        assert set(item["question"]) == {"en", "nl", "fr", "de"} and all(q.strip() for q in item["question"].values())
        for lang, question in item["question"].items():  # the answer is written in the question's language
            assert detect_question_language(question, None) == lang, (item["id"], lang)


@pytest.mark.skipif(not NEWPOLICIES.is_dir(), reason="../shared/eval/newpolicies-dev is not checked out here")
def test_card_gold_evidence_is_verbatim():
    """Every evidence substring of the gold checklist occurs in its policy (the .md files directly;
    the HTML one after tag removal, checked in full by `rag eval-card` against the indexed text)."""
    from rag.card_eval import check_gold
    from rag.evaluate import load_gold

    gold = load_gold(ROOT / "tests" / "data" / "card_gold.jsonl")
    assert len(gold) == 95 and {(r["company"], r["item"]) for r in gold} == {
        (c, i) for c in {r["company"] for r in gold} for i in ITEM_IDS}
    sources = {p.stem: p.read_text(encoding="utf-8") for p in NEWPOLICIES.glob("*.md")}
    problems = check_gold([r for r in gold if r["company"] in sources], sources)
    assert problems == []


def test_card_and_compare_labels_agree_in_every_language():
    """The labels this feature added: the same nested keys and the same {placeholders} in en/nl/fr/de,
    and a label for every card item and group."""
    import string

    from rag.card import card_definition

    table = json.loads((ROOT / "prompts" / "ui.json").read_text(encoding="utf-8"))
    keys = [k for k in table["en"] if k.startswith(("card_", "compare_col_", "download_")) or
            k in ("mode_card", "compare_status", "verdicts", "compare_waiting", "compare_details", "compare_timing")]

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for lang in ("nl", "fr", "de"):
        for key in keys:
            en, other = table["en"][key], table[lang][key]
            if isinstance(en, dict):
                assert set(en) == set(other), (lang, key)
            else:
                assert fields(en) == fields(other), (lang, key)
    for lang in ("en", "nl", "fr", "de"):
        assert set(table[lang]["card_items"]) == set(ITEM_IDS)
        assert set(table[lang]["card_groups"]) == set(card_definition()["groups"])


def test_a_card_states_the_same_items_in_every_language(card_store):
    """Each item's evidence is ranked with its question in the policy's own language, so the card of
    one policy states the same items, on the same quotes, whatever language it is read in; only the
    words of the answers change."""
    from rag.card import card_items, company_card

    cards = {lang: company_card("sensus", card_store, lang, refresh=True) for lang in ("en", "nl", "fr", "de")}
    def shape(card):
        return [(row["id"], row["status"], [c["start"] for c in row["citations"]]) for row in card["items"]]
    assert shape(cards["en"]) == shape(cards["nl"]) == shape(cards["fr"]) == shape(cards["de"])
    assert cards["en"]["policy_language"] == "nl"
    stated = [row for row in cards["fr"]["items"] if row["status"] == "stated"]
    french = {item["question"]["fr"] for item in card_items()}
    assert stated and all(row["question"] in french for row in stated)  # the rows ask in the card's language
