"""A rights-request letter to the company (rag/letter.py), with the contact cited from its policy."""
from __future__ import annotations

import streamlit as st

from rag.letter import RIGHTS, letter_markdown, write_letter

from .common import error_line, html, md_plain, safe, settings, t, ui_language


@st.cache_data(max_entries=64, show_spinner=False)
def _letter(store: str, company: str, right: str, language: str, name: str, sha256: str) -> dict:
    result = write_letter(company, right, language, name or None, settings())
    return {**result, "markdown": letter_markdown(result)}


def letter_panel(company: str, right: str, key: str) -> None:
    """Opened by a button (finding the contact costs a few searches); then right, name, two downloads."""
    state = st.session_state
    opened = state.setdefault("letters_open", set())
    if key not in opened:
        if not st.button(t("letter_button"), key=f"letter_open_{key}", icon=":material/mail:"):
            return
        opened.add(key)
    with st.container(border=True):
        st.markdown(f"**{md_plain(t('letter_title'))}**")
        names = t("rights")
        chosen = st.selectbox(t("letter_right"), list(RIGHTS), index=list(RIGHTS).index(right),
                              format_func=lambda r: names.get(r, r), key=f"letter_right_{key}")
        name = st.text_input(t("letter_name"), key=f"letter_name_{key}", max_chars=120)
        info = state.get("companies", {}).get(company, {})
        try:
            with st.spinner(t("searching")):
                result = _letter(str(settings().store_dir), company, chosen, ui_language(), name.strip(),
                                 info.get("sha256", ""))
        except Exception as exc:  # one line, never a traceback
            st.error(error_line(exc))
            return
        found = result["to"]["email"] or result["to"]["address"]
        st.caption(t("letter_found") if found else t("letter_placeholder"))
        html(f'<div class="pp-quote" style="font-style:normal">{safe(result["letter"])}</div>')
        stem = f"{company}-{chosen}-{result['language']}"
        left, right_col = st.columns(2)
        left.download_button(t("letter_download_txt"), result["letter"], file_name=f"{stem}.txt", mime="text/plain",
                             key=f"letter_txt_{key}", icon=":material/download:")
        right_col.download_button(t("letter_download_md"), result["markdown"], file_name=f"{stem}.md",
                                  mime="text/markdown", key=f"letter_md_{key}", icon=":material/download:")
