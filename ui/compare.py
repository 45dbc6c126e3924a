"""One question asked of several companies, side by side."""
from __future__ import annotations

import streamlit as st

import rag

from .answer_view import render_turn
from .chat import maybe_follow_question_language
from .common import choice, company_name, error_line, html, md_plain, safe, settings, t, ui_language

COMPARE_PER_ROW = 3


def _fill_compare(text: str) -> None:
    st.session_state.compare_question = text


def compare_page(ids: list[str]) -> None:
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
            results: dict[str, dict] = {}
            progress = st.progress(0.0)
            for i, company in enumerate(chosen):
                progress.progress(i / len(chosen), text=t("compare_running", company=company_name(company)))
                try:
                    results[company] = {"answer": rag.ask(company, question, settings(),
                                                          interface_language=ui_language()), "error": None}
                except Exception as exc:
                    results[company] = {"answer": None, "error": error_line(exc)}
            progress.empty()
            st.session_state.compare = {"question": question, "results": results}
            first = next((r["answer"] for r in results.values() if r["answer"] is not None), None)
            if first is not None:
                maybe_follow_question_language(first)
    shown = st.session_state.get("compare")
    if not shown:
        return
    html(f'<div style="margin: 0.8rem 0 0.4rem 0"><b>{safe(t("compare_question"))}:</b> {safe(shown["question"])}</div>')
    items = list(shown["results"].items())
    for row in range(0, len(items), COMPARE_PER_ROW):
        columns = st.columns(COMPARE_PER_ROW if len(items) > COMPARE_PER_ROW else len(items), border=True)
        for column, (company, result) in zip(columns, items[row:row + COMPARE_PER_ROW]):
            with column:
                st.markdown(f"#### {md_plain(company_name(company))}")
                render_turn(result)
