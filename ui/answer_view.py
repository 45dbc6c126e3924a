"""One answer on the page: its text with [n] markers, the quotes it rests on, each with the text
around it one click away."""
from __future__ import annotations

import re

import streamlit as st

from rag.schema import Answer, Citation

from .common import html, language_name, md_plain, safe, source_text_for, t

CONTEXT_CHARS = 200  # shown on each side of a quote when its paragraph is longer


def answer_html(text: str, cursor: bool = False) -> str:
    escaped = safe(text)
    # make the [n] markers stand out: "[1]" was escaped to "&#91;1&#93;"
    escaped = re.sub(r"&#91;(\d{1,2})&#93;", r'<span class="pp-ref">[\1]</span>', escaped)
    return f'<div class="pp-answer">{escaped}{" ▌" if cursor else ""}</div>'


def context_html(source: str, c: Citation) -> str | None:
    """The quote highlighted inside the text around it (about CONTEXT_CHARS on each side, cut at a
    line or sentence boundary so that the reader sees whole sentences)."""
    if not source or source[c.start:c.end] != c.text:
        return None
    lo, hi = max(0, c.start - CONTEXT_CHARS), min(len(source), c.end + CONTEXT_CHARS)
    before, after = source[lo:c.start], source[c.end:hi]
    lead = trail = ""
    if lo > 0:
        cuts = [before.find(sep) for sep in ("\n", ". ", "; ")]
        cuts = [i for i in cuts if i >= 0]
        if cuts:
            cut = min(cuts)
            before = before[cut + 1:]
        else:
            before, lead = before.split(" ", 1)[-1], "… "
    if hi < len(source):
        cuts = [after.rfind(sep) for sep in ("\n", ". ", "; ")]
        cut = max(cuts)
        if cut >= 0:
            after = after[:cut + 1]
        else:
            after, trail = after.rsplit(" ", 1)[0], " …"
    before, after = before.lstrip(" \n"), after.rstrip()
    return (f'<div class="pp-context">{lead}{safe(before)}<mark>{safe(c.text)}</mark>'
            f'{safe(after)}{trail}</div>')


def translation_html(translation: str) -> str:
    """A quote's verified machine translation (rag/translate.py), labelled as one."""
    return (f'<div class="pp-translation" style="margin:0.25rem 0 0 1.25rem">'
            f'<span class="pp-muted" style="font-size:0.8rem">{safe(t("machine_translation"))}</span><br>'
            f'{safe(translation)}</div>')


def render_citations(answer: Answer) -> None:
    if not answer.citations:
        return
    html(f'<div class="pp-muted" style="margin-top:0.8rem"><b>{safe(t("sources_title"))}</b></div>')
    foreign = {c.language for c in answer.citations if c.language and answer.language and c.language != answer.language}
    mixed = len({c.language for c in answer.citations}) > 1
    if foreign and not mixed:  # one note for all quotes, not one per quote
        st.caption(":material/translate: " + t("quote_language", language=language_name(foreign.pop()),
                                                answer_language=language_name(answer.language)))
    source = source_text_for(answer.company)
    for c in answer.citations:
        section = c.section.strip() if c.section else ""
        section_html = safe(section) if section else f'<span class="pp-muted">{safe(t("no_section"))}</span>'
        html(f'<div class="pp-cite"><span class="pp-n">{c.n}</span><span class="pp-sec">{section_html}</span>'
             f'<div class="pp-quote">{safe(c.text)}</div></div>')
        if c.translation:  # under the exact quote, which stays shown: the quote is the evidence
            html(translation_html(c.translation))
        if mixed and c.language and answer.language and c.language != answer.language:
            st.caption(":material/translate: " + t("quote_language_one", language=language_name(c.language),
                                                    answer_language=language_name(answer.language)))
        context = context_html(source, c) if source else None
        if context:
            with st.expander(t("show_context")):
                html(context)


def render_answer(answer: Answer) -> None:
    if answer.status == "not_found":  # said as such, in a box of its own, not as an empty answer
        st.info(f"**{md_plain(answer.answer or t('not_found_title'))}**", icon=":material/search_off:")
    else:
        html(answer_html(answer.answer))
    if answer.notice:
        st.caption(":material/info: " + md_plain(answer.notice))
    if answer.status != "not_found":
        note = (t("backend_note_extractive") if answer.backend in ("extractive", "extractive-fallback")
                else t("backend_note_generated", backend=md_plain(answer.backend)))
        st.caption(note)
    render_citations(answer)


def render_turn(turn: dict) -> None:
    if turn.get("error"):
        st.error(turn["error"])
    elif turn.get("answer") is not None:
        render_answer(turn["answer"])
