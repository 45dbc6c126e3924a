"""The fact card, the card matrix and the compare table in the Streamlit page (AppTest, small store
of three sample policies, extractive answers), with their download buttons."""
from __future__ import annotations

import csv
import io

import pytest

pytest.importorskip("streamlit.testing.v1")

from test_app import page_html, select, start, ui_env, ui_store  # noqa: E402,F401  (fixtures)


def downloads(at) -> list:
    return at.get("download_button")


def test_fact_card_view_groups_rows_and_marks_not_stated(ui_env):
    at = start()
    select(at, "mode__widget", "Privacy fact card")
    at.selectbox(key="company__widget").set_value("Sensus BPM Online").run()
    assert not at.exception and not at.error
    labels = [e.label for e in at.expander]
    rows = [label for label in labels if "Stated" in label or "Not stated" in label]
    assert len(rows) == 19
    assert any("Not stated" in label for label in rows) and any("**Stated**" in label for label in rows)
    headings = [m.value for m in at.markdown if m.value.startswith("####")]
    assert headings == ["#### Who is responsible", "#### What happens to your data", "#### Your rights",
                        "#### Other points"]
    # a stated row holds its quotes, highlighted in their context
    text = page_html(at)
    assert 'class="pp-n">1<' in text and "<mark>" in text
    assert len(downloads(at)) == 3
    from rag.card import computed

    before = computed["sensus"]  # the next run reads the card from the disk cache
    at.run()
    assert not at.exception and len([e for e in at.expander if "tated" in e.label]) == 19
    assert computed["sensus"] == before


def test_card_matrix_lists_every_company(ui_env):
    at = start()
    select(at, "mode__widget", "Privacy fact card")
    at.radio(key="card_view__widget").set_value("All companies side by side").run()
    assert not at.exception and not at.error
    table = next(m.value for m in at.markdown if m.value.startswith('<table class="pp-table"'))
    for name in ("Sensus BPM Online", "Zensor NV", "Selligent"):
        assert name.split()[0] in table
    assert table.count("<tr>") == 1 + 19 + 4  # header, one row per item, one per group
    assert "Not stated" in table or "Stated" in table
    assert len(downloads(at)) == 3


def test_compare_is_a_table_with_downloads(ui_env):
    at = start()
    select(at, "mode__widget", "Compare companies")
    at.multiselect(key="compare_companies__widget").set_value(["Sensus BPM Online", "Zensor NV", "Selligent NV"]).run()
    at.text_input(key="compare_question").input("How long do you keep my data?")
    next(b for b in at.button if b.label == "Compare").click().run()
    assert not at.exception
    shown = at.session_state.compare
    assert list(shown["results"]) == shown["ids"] and len(shown["ids"]) == 3
    table = next(m.value for m in at.markdown if m.value.startswith('<table class="pp-table"'))
    assert table.count("<tr>") == 1 + 3
    for header in ("Company", "Status", "Verdict", "Short answer", "Quotes"):
        assert f"<th>{header}</th>" in table.replace("&#32;", " ")
    assert "waiting" not in table  # every row filled in
    assert len(downloads(at)) == 3
    assert len(at.tabs) == 3  # the quotes in context, one tab per company
    from rag.export import export_compare

    triples = [(c, shown["results"][c]["answer"], shown["results"][c]["error"]) for c in shown["ids"]]
    rows = list(csv.DictReader(io.StringIO(export_compare("csv", shown["question"], triples))))
    assert {r["company"] for r in rows} == set(shown["ids"])
