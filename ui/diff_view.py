"""What changed between two kept versions of a policy: old text red, new green."""
from __future__ import annotations

import streamlit as st

from rag.diff import diff_versions, word_changes
from rag.versions import company_versions

from .common import error_line, html, log, md_plain, safe, settings, t, ui_language


@st.cache_data(max_entries=64, show_spinner=False)
def _versions(store: str, company: str, sha256: str) -> list[dict]:
    try:
        return [v.to_json() for v in company_versions(company, settings())]
    except Exception as exc:  # no history yet: the view is simply not offered
        log.info("no versions of %s: %s", company, exc)
        return []


@st.cache_data(max_entries=32, show_spinner=False)
def _diff(store: str, company: str, old: int, new: int, language: str, sha256: str) -> dict:
    return diff_versions(company, settings(), old, new, language)


def _marked(parts: list[tuple[str, bool]], tag: str) -> str:
    return "".join(f"<{tag}>{safe(text)}</{tag}>" if differs else safe(text) for text, differs in parts)


def _section_label(span: dict) -> str:
    return f' <span class="pp-muted">({safe(" ".join(span["section"].split()))})</span>' if span["section"] else ""


def diff_view(company: str) -> None:
    """"What changed": offered for a company with more than one kept version. Old text red, new green."""
    info = st.session_state.get("companies", {}).get(company, {})
    store = str(settings().store_dir)
    versions = _versions(store, company, info.get("sha256", ""))
    if len(versions) < 2:
        return
    with st.expander(t("diff_title", n=len(versions)), icon=":material/difference:"):
        labels = {v["n"]: t("diff_version", n=v["n"], date=v["date"][:10]) for v in versions}
        numbers = [v["n"] for v in versions]
        new = numbers[-1]
        old = numbers[-2]
        if len(versions) > 2:
            left, right = st.columns(2)
            old = left.selectbox(t("diff_from"), numbers, index=len(numbers) - 2, format_func=labels.get,
                                 key=f"diff_from_{company}")
            new = right.selectbox(t("diff_to"), numbers, index=len(numbers) - 1, format_func=labels.get,
                                  key=f"diff_to_{company}")
        try:
            result = _diff(store, company, old, new, ui_language(), info.get("sha256", ""))
        except Exception as exc:
            st.error(error_line(exc))
            return
        st.markdown(md_plain(result["summary"]))
        for n, pair in enumerate(result["changed"], 1):
            old_parts, new_parts = word_changes(pair["old"]["text"], pair["new"]["text"])
            html(f'<div class="pp-cite"><span class="pp-n">{n}</span><span class="pp-sec">{safe(t("diff_changed"))}</span>'
                 f'{_section_label(pair["new"])}</div>'
                 f'<div class="pp-old"><span class="pp-tag">{safe(t("diff_old"))}</span>{_marked(old_parts, "del")}</div>'
                 f'<div class="pp-new"><span class="pp-tag">{safe(t("diff_new"))}</span>{_marked(new_parts, "ins")}</div>')
        for kind, css in (("removed", "pp-old"), ("added", "pp-new")):
            for span in result[kind]:
                html(f'<div class="{css}"><span class="pp-tag">{safe(t("diff_" + kind))}</span>{safe(span["text"])}'
                     f'{_section_label(span)}</div>')
