"""One question asked of several companies, as a table: one row per company (status, verdict, short
answer, quotes with their translation when there is one), filled in company by company as each
answer is ready, then the quotes in their context per company and CSV / Markdown / JSON downloads.

The table shows the extractive step of the answering core (well under a second per company), so the
first row appears at once instead of after every company's model answer.
"""
from __future__ import annotations

import time

import streamlit as st

from rag.compare import compare_answers
from rag.export import export_compare

from .answer_view import answer_html, render_turn
from .card_view import CARD_CSS, download_buttons
from .chat import maybe_follow_question_language
from .common import choice, company_name, error_line, html, md_plain, safe, settings, t, ui_language


TABLE_QUOTE_CHARS = 280  # a quote's start in the table; the whole quote, in context, is in the tabs below


def _fill_compare(text: str) -> None:
    st.session_state.compare_question = text


def _quotes_html(answer) -> str:
    parts = []
    for c in answer.citations:
        translation = getattr(c, "translation", None)  # the citation field is being added
        extra = f'<div class="pp-small"><i>{safe(translation)}</i></div>' if translation else ""
        section = f' <span class="pp-small">({safe(c.section)})</span>' if c.section else ""
        quote = " ".join(c.text.split())
        quote = quote if len(quote) <= TABLE_QUOTE_CHARS else quote[:TABLE_QUOTE_CHARS - 1].rstrip() + "…"
        parts.append(f'<div style="margin-bottom:0.3rem"><span class="pp-n">{c.n}</span>{safe(quote)}{section}{extra}</div>')
    return "".join(parts)


def table_html(ids: list[str], results: dict[str, dict]) -> str:
    """Rows for every chosen company; one without a result yet says it is waiting."""
    head = "".join(f"<th>{safe(t(k))}</th>" for k in ("compare_col_company", "compare_col_status",
                                                     "compare_col_verdict", "compare_col_answer", "compare_col_quotes"))
    rows = []
    for company in ids:
        name = f"<td><b>{safe(company_name(company))}</b></td>"
        result = results.get(company)
        if result is None:
            rows.append(f'{name}<td colspan="4" class="pp-muted">{safe(t("compare_waiting"))}</td>')
            continue
        answer = result["answer"]
        if answer is None:
            rows.append(f'{name}<td class="pp-not-stated">{safe(t("compare_status")["error"])}</td>'
                        f'<td></td><td colspan="2">{safe(result["error"] or "")}</td>')
            continue
        status_class = "pp-stated" if answer.status == "answered" else "pp-not-stated"
        verdict = t("verdicts").get(answer.verdict, "") if answer.verdict else ""
        rows.append(f'{name}<td class="{status_class}">{safe(t("compare_status").get(answer.status, answer.status))}</td>'
                    f"<td>{safe(verdict)}</td><td>{answer_html(answer.answer)}</td><td>{_quotes_html(answer)}</td>")
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return f'<table class="pp-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def run_compare(chosen: list[str], question: str) -> None:
    """Ask every chosen company, redrawing the table after each answer."""
    results: dict[str, dict] = {}
    live = st.empty()
    live.markdown(table_html(chosen, results).replace("\n", " "), unsafe_allow_html=True)
    started = time.perf_counter()
    try:
        for company, answer, error in compare_answers(chosen, question, settings(), backend="extractive",
                                                      interface_language=ui_language()):
            results[company] = {"answer": answer, "error": error_line(error) if error else None}
            live.markdown(table_html(chosen, results).replace("\n", " "), unsafe_allow_html=True)
    except Exception as exc:  # an empty question, a store gone: one line, the rows so far stay
        st.error(error_line(exc))
    live.empty()
    st.session_state.compare = {"question": question, "ids": chosen, "results": results,
                                "seconds": round(time.perf_counter() - started, 1)}
    first = next((r["answer"] for r in results.values() if r["answer"] is not None), None)
    if first is not None:
        maybe_follow_question_language(first)


def show_compare(shown: dict) -> None:
    ids = [c for c in shown.get("ids", shown["results"]) if c in shown["results"]]
    html(f'<div style="margin: 0.8rem 0 0.4rem 0"><b>{safe(t("compare_question"))}:</b> {safe(shown["question"])}</div>')
    html(table_html(ids, shown["results"]))
    if shown.get("seconds") is not None:
        st.caption(t("compare_timing", n=len(ids), seconds=shown["seconds"]))
    triples = [(c, shown["results"][c]["answer"], shown["results"][c]["error"]) for c in ids]
    names = {c: company_name(c) for c in ids}
    download_buttons(lambda fmt: export_compare(fmt, shown["question"], triples, names), "privacy-compare",
                     "compare_download")
    st.markdown(f"#### {md_plain(t('compare_details'))}")
    for tab, company in zip(st.tabs([md_plain(company_name(c)) for c in ids]), ids):
        with tab:
            render_turn(shown["results"][company])


def compare_page(ids: list[str]) -> None:
    html(CARD_CSS)
    st.subheader(t("compare_title"))
    if "compare_companies" not in st.session_state:
        st.session_state.compare_companies = ids[:3]
    st.session_state.compare_companies = [c for c in st.session_state.compare_companies if c in ids]
    chosen = choice(st.multiselect, t("compare_companies"), {c: company_name(c) for c in ids}, "compare_companies",
                    multi=True)
    cols = st.columns(2)
    for i, example in enumerate(t("examples")):
        cols[i % 2].button(example, key=f"compare_example_{i}", on_click=_fill_compare, args=(example,),
                           width="stretch")
    with st.form("compare_form", border=False):
        question = st.text_input(t("compare_question"), key="compare_question")
        submitted = st.form_submit_button(t("compare_button"), type="primary")
    if submitted:
        if len(chosen) < 2 or not question.strip():
            st.warning(t("compare_need_two"))
        else:
            run_compare(chosen, question)
    shown = st.session_state.get("compare")
    if shown:
        show_compare(shown)
