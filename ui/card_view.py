"""The privacy fact card in the browser: one company's GDPR Art. 13 checklist, grouped (who / what /
rights / other), each row opening onto its quotes highlighted in their context; and the card
matrix, every company side by side, with CSV / Markdown / JSON downloads.

Cards come from rag.card (cached on disk per policy version): an indexed policy's card opens at once.
"""
from __future__ import annotations

import streamlit as st

from rag.card import answer_of_item, card_definition, company_card
from rag.export import export_cards

from .answer_view import answer_html, context_html
from .common import choice, company_name, error_line, html, md_plain, safe, settings, source_text_for, t, ui_language

CARD_CSS = """
<style>
.pp-table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
.pp-table th, .pp-table td { border: 1px solid rgba(128,128,128,0.35); padding: 0.35rem 0.5rem; vertical-align: top; text-align: left; }
.pp-table th { background: rgba(28,95,184,0.08); }
.pp-stated { color: #1b6e2a; font-weight: 600; white-space: nowrap; }
.pp-not-stated { color: #a4262c; font-weight: 600; white-space: nowrap; }
.pp-group { font-weight: 700; background: rgba(128,128,128,0.08); }
.pp-small { font-size: 0.85rem; opacity: 0.85; }
</style>
"""


def item_label(item_id: str) -> str:
    return t("card_items").get(item_id, item_id)


def status_mark(status: str) -> str:
    """The status as a coloured word: "not stated" must be visible at a glance, not an empty cell."""
    if status == "stated":
        return f'<span class="pp-stated">✓ {safe(t("card_stated"))}</span>'
    return f'<span class="pp-not-stated">✗ {safe(t("card_not_stated"))}</span>'


def download_buttons(make, stem: str, key: str) -> None:
    """CSV, Markdown and JSON of the same table; `make(fmt)` renders one."""
    columns = st.columns(3)
    for column, (fmt, mime) in zip(columns, (("csv", "text/csv"), ("md", "text/markdown"),
                                             ("json", "application/json"))):
        column.download_button(t(f"download_{fmt}"), data=make(fmt), file_name=f"{stem}.{fmt}", mime=mime,
                               key=f"{key}_{fmt}", width="stretch")


def load_card(company: str) -> dict | None:
    """The card in the interface language; computed with a progress bar when it is not cached yet."""
    total = len(card_definition()["items"])
    progress = st.progress(0.0, text=t("card_computing", done=0, total=total))

    def step(i: int, row: dict) -> None:
        progress.progress((i + 1) / total, text=t("card_computing", done=i + 1, total=total))

    try:
        return company_card(company, settings(), ui_language(), on_item=step)
    except Exception as exc:
        st.error(error_line(exc))
        return None
    finally:
        progress.empty()


def render_item(card: dict, row: dict, source: str | None) -> None:
    stated = row["status"] == "stated"
    mark = ":green[:material/check_circle: " if stated else ":red[:material/cancel: "
    word = t("card_stated") if stated else t("card_not_stated")
    verdict = f" · {t('verdicts')[row['verdict']]}" if row.get("verdict") in t("verdicts") else ""
    with st.expander(f"{mark}**{md_plain(word)}**] {md_plain(item_label(row['id']))}{md_plain(verdict)}"):
        if not stated:
            st.caption(t("card_no_quotes"))
            return
        answer = answer_of_item(card, row)
        html(answer_html(answer.answer))
        for c in answer.citations:
            section = f' <span class="pp-sec">{safe(c.section)}</span>' if c.section else ""
            context = context_html(source, c) if source else None
            html(f'<div class="pp-cite"><span class="pp-n">{c.n}</span>{section}</div>'
                 + (context or f'<div class="pp-quote">{safe(c.text)}</div>'))
            translation = getattr(c, "translation", None)  # the citation field is being added
            if translation:
                st.caption(":material/translate: " + md_plain(translation))


def company_card_view(company: str) -> None:
    card = load_card(company)
    if card is None:
        return
    items = card["items"]
    stated = sum(row["status"] == "stated" for row in items)
    st.caption(t("card_count", stated=stated, total=len(items)))
    source = source_text_for(company)
    groups = card_definition()["groups"]
    for group in groups:
        rows = [row for row in items if row.get("group") == group]
        if rows:
            st.markdown(f"#### {md_plain(t('card_groups')[group])}")
            for row in rows:
                render_item(card, row, source)
    labels = {row["id"]: item_label(row["id"]) for row in items}
    download_buttons(lambda fmt: export_cards(fmt, [card], labels), f"privacy-card-{company}", "card_download")


def matrix_html(cards: list[dict]) -> str:
    groups = card_definition()["groups"]
    head = "".join(f"<th>{safe(company_name(card['company']))}</th>" for card in cards)
    body = []
    for group in groups:
        body.append(f'<tr><td class="pp-group" colspan="{len(cards) + 1}">{safe(t("card_groups")[group])}</td></tr>')
        for i, row in enumerate(cards[0]["items"]):
            if row.get("group") != group:
                continue
            cells = []
            for card in cards:
                cell = card["items"][i]
                verdict = (f'<div class="pp-small">{safe(t("verdicts")[cell["verdict"]])}</div>'
                           if cell.get("verdict") in t("verdicts") else "")
                cells.append(f"<td>{status_mark(cell['status'])}{verdict}</td>")
            body.append(f"<tr><td>{safe(item_label(row['id']))}</td>{''.join(cells)}</tr>")
    return (f'<table class="pp-table"><thead><tr><th>{safe(t("card_item"))}</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def matrix_view(ids: list[str]) -> None:
    cards = []
    progress = st.progress(0.0)
    for i, company in enumerate(ids):
        progress.progress(i / len(ids), text=t("card_matrix_computing", company=company_name(company)))
        try:
            cards.append(company_card(company, settings(), ui_language()))
        except Exception as exc:
            st.error(f"{md_plain(company_name(company))}: {error_line(exc)}")
    progress.empty()
    if not cards:
        return
    html(matrix_html(cards))
    labels = {item["id"]: item_label(item["id"]) for item in card_definition()["items"]}
    st.write("")
    download_buttons(lambda fmt: export_cards(fmt, cards, labels), "privacy-card-matrix", "matrix_download")


def card_page(ids: list[str], company: str) -> None:
    html(CARD_CSS)
    st.subheader(t("card_title"))
    st.caption(t("card_intro"))
    st.session_state.setdefault("card_view", "one")
    view = choice(st.radio, t("card_view"), {"one": t("card_view_one"), "matrix": t("card_view_matrix")},
                  "card_view", horizontal=True)
    if view == "matrix":
        matrix_view(ids)
    else:
        st.markdown(f"### {md_plain(company_name(company))}")
        company_card_view(company)
