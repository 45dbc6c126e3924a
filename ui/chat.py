"""The chat with one company's policy: history, examples, a long pasted text, the streamed answer,
and under each answer a link to it and (for a question about one's rights) a request letter."""
from __future__ import annotations

import itertools
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import streamlit as st

import rag
from rag.letter import suggested_right
from rag.schema import Answer

from .answer_view import answer_html, render_answer, render_turn
from .common import UI_LANGUAGES, answer_backend, company_name, error_line, html, md_plain, safe, settings, t, ui_language
from .diff_view import diff_view
from .letters import letter_panel


def maybe_follow_question_language(answer: Answer) -> None:
    """Until the user picks an interface language, it follows the language of each question, so
    that every label on the screen is in the language of the latest answer."""
    if st.session_state.get("ui_lang_locked"):
        return
    if answer.language in UI_LANGUAGES and answer.language != ui_language():
        st.session_state.ui_lang = answer.language
        st.rerun()


def shown_question(question: str) -> str:
    """What the chat shows of a question: no more than rag reads of it (it says so when it cuts)."""
    limit = settings().max_question_chars
    return question if len(question) <= limit else question[:limit] + " …"


def ask_streaming(company: str, question: str) -> None:
    history = st.session_state.chats.setdefault(company, [])
    with st.chat_message("user"):
        html(f"<div>{safe(shown_question(question))}</div>")
    turn = {"question": shown_question(question), "answer": None, "error": None}
    with st.chat_message("assistant"):
        placeholder = st.empty()
        try:
            with st.spinner(t("searching") if answer_backend() == "extractive" else t("searching_slow")):
                stream = rag.stream_ask(company, question, settings(), interface_language=ui_language())
                first = next(stream, None)
            final, text = None, ""
            for piece in itertools.chain([first], stream):
                if isinstance(piece, Answer):
                    final = piece
                    break
                if piece:
                    text += piece
                    with placeholder.container():
                        html(answer_html(text, cursor=True))
            placeholder.empty()
            if final is None:
                raise RuntimeError("no answer")
            turn["answer"] = final
            render_answer(final)
            answer_tools(final, len(history))
        except Exception as exc:  # QuestionError, StoreError, anything else: one line, no traceback
            placeholder.empty()
            turn["error"] = error_line(exc)
            st.error(turn["error"])
    history.append(turn)
    if turn["answer"] is not None:
        maybe_follow_question_language(turn["answer"])


def _pick_example(text: str) -> None:
    st.session_state.pending_question = text


def chat_page(company: str) -> None:
    history = st.session_state.chats.setdefault(company, [])
    st.subheader(md_plain(company_name(company)))
    diff_view(company)
    for i, turn in enumerate(history):
        with st.chat_message("user"):
            html(f"<div>{safe(turn['question'])}</div>")
        with st.chat_message("assistant"):
            render_turn(turn)
            if turn.get("answer") is not None:
                answer_tools(turn["answer"], i)
    # No max_chars: the browser would cut a pasted text at the limit without a word (the question
    # usually comes last). A long text is checked below and its question shown before it is asked.
    question = st.chat_input(t("chat_placeholder", company=company_name(company)), key="chat_box")
    pending = st.session_state.pop("pending_question", None)
    asked = question or pending
    if asked:
        picked = rag.pick_question(asked, settings().max_question_chars)
        if picked.shortened:  # asked only once the user has seen which question will be asked
            st.session_state.long_text = {"company": company, "question": picked.question, "found": picked.found,
                                          "chars": picked.original_chars}
            asked = None
        else:
            st.session_state.pop("long_text", None)
    long_text = st.session_state.get("long_text")
    if long_text and long_text["company"] == company:
        long_text_notice(long_text)
    elif not history and not asked:
        st.markdown(t("examples_title"))
        cols = st.columns(2)
        for i, example in enumerate(t("examples")):
            cols[i % 2].button(example, key=f"example_{i}", on_click=_pick_example, args=(example,),
                               width="stretch")
    if asked:
        ask_streaming(company, asked)



def _ask_long_text_question() -> None:
    long_text = st.session_state.pop("long_text", None)
    if long_text:
        st.session_state.pending_question = long_text["question"]


def _cancel_long_text() -> None:
    st.session_state.pop("long_text", None)


def long_text_notice(long_text: dict) -> None:
    """A pasted text over the limit: its character count and the one question that will be asked."""
    key = "long_text_notice" if long_text["found"] else "long_text_none"
    st.warning(t(key, chars=f"{long_text['chars']:,}", limit=f"{settings().max_question_chars:,}",
                 question=md_plain(long_text["question"])), icon=":material/content_cut:")
    ask_col, cancel_col = st.columns(2)
    ask_col.button(t("long_text_ask"), key="long_text_ask", type="primary", on_click=_ask_long_text_question,
                   width="stretch")
    cancel_col.button(t("long_text_cancel"), key="long_text_cancel", on_click=_cancel_long_text, width="stretch")



# -- under an answer: a link to it, a request letter ----------------------------------------------
def page_base_url() -> str:
    """The page's address without its query (st.context.url); "" (a relative link) when unknown."""
    try:
        url = st.context.url or ""
    except Exception:
        url = ""
    if url.startswith(("http://", "https://")):
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))
    return ""


def answer_link(company: str, question: str, language: str) -> str:
    query = urlencode({"company": company, "q": question, "lang": language}, quote_via=quote)
    return f"{page_base_url()}?{query}"


def answer_tools(answer: Answer, index: int) -> None:
    """Under a chat answer: a link that asks it again, and for a question about one's rights, a letter."""
    with st.expander(t("link_title"), icon=":material/link:"):
        st.code(answer_link(answer.company, answer.question, ui_language()), language=None, wrap_lines=True)
        st.caption(t("link_help"))
    right = suggested_right(answer.question)
    if right:
        letter_panel(answer.company, right, f"{answer.company}_{index}")
