"""PlainPolicy in the browser: ask a company's privacy policy, see the exact sentences, compare companies,
see what changed between the policy's versions, write a rights-request letter.

Deep links: `?company=ID&q=QUESTION&lang=xx` opens the chat on that company, in that interface
language, and asks that question; every answer offers such a link to itself.

UI only: every answer, citation and index change comes from `rag` and `index`.
Run: streamlit run app.py   (settings from PLAINPOLICY_* environment variables, see index/settings.py)

Policy text is untrusted. Everything that comes from a policy (quotes, section titles, answers that
repeat it, company names of uploaded files) goes through `safe()`: HTML-escaped and with every ASCII
punctuation character written as a numeric entity, so it can be neither HTML nor markdown (no images,
links or math); the only markup on the page is our own <div>/<mark>/<br> around it.
"""
from __future__ import annotations

import itertools
import math
import json
import logging
import re
import threading
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import streamlit as st

import rag
from index import SUPPORTED_SUFFIXES, StoreError, UnreadablePolicy, add_policy, get_settings
from index.folder import new_owner, upload_company_id
from index.load import company_id
from index.store import DamagedStore
from rag import QuestionError
from rag.diff import diff_versions, word_changes
from rag.letter import RIGHTS, letter_markdown, suggested_right, write_letter
from rag.schema import Answer, Citation
from rag.versions import company_versions

log = logging.getLogger("plainpolicy.app")
HERE = Path(__file__).resolve().parent
UI_LANGUAGES = ("nl", "fr", "en", "de")
CONTEXT_CHARS = 200  # shown on each side of a quote when its paragraph is longer
COMPARE_PER_ROW = 3


@st.cache_resource
def _strings() -> dict:
    return json.loads((HERE / "prompts" / "ui.json").read_text(encoding="utf-8"))


def ui_language() -> str:
    return st.session_state.get("ui_lang", "en")


def t(key: str, **values) -> str:
    strings = _strings()
    text = strings.get(ui_language(), {}).get(key, strings["en"][key])
    return text.format(**values) if values else text


def language_name(code: str) -> str:
    return t("languages").get(code, code or "?")


# -- escaping ------------------------------------------------------------------------------------
def safe(text: str) -> str:
    """Untrusted text -> inert HTML: letters, digits and spaces as they are, every ASCII punctuation
    character (markdown, HTML, math, link syntax) as a numeric entity, newlines as <br>."""
    out = []
    for ch in text or "":
        if ch == "\n":
            out.append("<br>")
        elif ch in "\r\t":
            out.append(" ")
        elif ch.isascii() and not ch.isalnum() and ch != " ":
            out.append(f"&#{ord(ch)};")
        elif ord(ch) < 32 or ch in "\u2028\u2029":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def md_plain(text: str) -> str:
    """Untrusted text for a markdown label (expander titles, captions): backslash-escape punctuation."""
    return "".join("\\" + ch if ch.isascii() and not ch.isalnum() and ch not in " \n" else ch
                   for ch in " ".join((text or "").split()))


def html(fragment: str) -> None:
    """Our own markup around already-escaped text, as one line (no blank line: no markdown inside)."""
    st.markdown(fragment.replace("\n", " "), unsafe_allow_html=True)


CSS = """
<style>
.pp-answer { font-size: 1.05rem; line-height: 1.55; }
.pp-ref { font-weight: 600; color: #1c5fb8; }
.pp-cite { margin: 0.6rem 0 0.1rem 0; }
.pp-n { display: inline-block; min-width: 1.9em; padding: 0 0.35em; margin-right: 0.4em; border-radius: 0.6em;
        background: #1c5fb8; color: #fff; font-weight: 600; text-align: center; font-size: 0.85rem; }
.pp-sec { font-weight: 600; }
.pp-quote { border-left: 3px solid #c9d6ea; margin: 0.3rem 0 0 0.2rem; padding: 0.1rem 0 0.1rem 0.8rem;
            font-style: italic; color: inherit; }
.pp-context { line-height: 1.6; font-size: 0.95rem; }
.pp-context mark { background: #ffe680; color: #111; padding: 0.05em 0.15em; border-radius: 0.2em; }
.pp-muted { opacity: 0.75; }
.pp-old, .pp-new { margin: 0.2rem 0; padding: 0.3rem 0.6rem; border-radius: 0.3rem; line-height: 1.5; }
.pp-old { background: #fdecea; border-left: 3px solid #c62828; color: #5f1111; }
.pp-new { background: #e8f5e9; border-left: 3px solid #2e7d32; color: #123d16; }
.pp-old del { background: #f7b9b3; text-decoration: line-through; }
.pp-new ins { background: #a5d6a7; text-decoration: none; font-weight: 600; }
.pp-tag { font-size: 0.8rem; font-weight: 600; text-transform: uppercase; opacity: 0.8; margin-right: 0.4em; }
</style>
"""


# -- data from rag / index -------------------------------------------------------------------------
def settings():
    return get_settings()


@st.cache_data(max_entries=64, show_spinner=False)
def _source_text(store: str, company: str, sha256: str) -> str:
    return rag.source_text(company, settings())


def source_text_for(company: str) -> str | None:
    info = st.session_state.get("companies", {}).get(company, {})
    try:
        return _source_text(str(settings().store_dir), company, info.get("sha256", ""))
    except Exception as exc:  # the quote is still shown; only its context is missing
        log.warning("source text of %s unavailable: %s", company, exc)
        return None


def answer_backend() -> str:
    """Which generator answers (only to tell the user how long to wait)."""
    try:
        from rag.chain import resolve_backend

        return resolve_backend(settings(), None)
    except Exception:
        return "extractive"


@st.cache_resource(show_spinner=False)
def _warm_local_model() -> threading.Thread:
    """Once per server: load the local model and let it read the fixed system prompt in the
    background, so the first question waits for neither (seconds on a 2-core laptop)."""
    def run() -> None:
        try:
            from rag.chain import warm_backend

            warm_backend(settings(), "local")
        except Exception as exc:  # the first question then loads it and shows any problem
            log.warning("local model warm-up failed: %s", exc)

    thread = threading.Thread(target=run, name="plainpolicy-warm-up", daemon=True)
    thread.start()
    return thread


def company_name(company: str) -> str:
    info = st.session_state.get("companies", {}).get(company) or {}
    return info.get("name") or company


# -- rendering one answer ------------------------------------------------------------------------
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
    if answer.backend == "extractive-fallback":
        st.warning(t("fallback"), icon=":material/warning:")
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


def plain_reason(exc: BaseException) -> str:
    """One readable sentence from an exception message: first line, no exception class names."""
    reason = (str(exc).splitlines() or [""])[0].strip()
    reason = re.sub(r"\s*\((?:[A-Za-z_.]*(?:Error|Exception|Warning))\)", "", reason).strip() or type(exc).__name__
    return reason if reason[-1] in ".!?" else reason + "."


def error_line(exc: BaseException) -> str:
    reason = md_plain(plain_reason(exc))
    if isinstance(exc, QuestionError):
        return t("error_question", reason=reason)
    if isinstance(exc, StoreError):
        return t("error_store", reason=reason)
    log.exception("unexpected error", exc_info=exc)
    return t("error_unexpected", kind=type(exc).__name__)


# -- chat ------------------------------------------------------------------------------------------
def maybe_follow_question_language(answer: Answer) -> None:
    """The interface language follows the first question's language until the user picks one."""
    if st.session_state.get("ui_lang_locked") or st.session_state.get("ui_lang_auto"):
        return
    st.session_state.ui_lang_auto = True
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


# -- what changed between versions --------------------------------------------------------------
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


# -- compare -----------------------------------------------------------------------------------------
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


# -- adding a policy -----------------------------------------------------------------------------------
def upload_owner() -> str | None:
    """This browser session's tag on its uploads (None: uploads are shared, PLAINPOLICY_SHARED_UPLOADS=1)."""
    if settings().shared_uploads:
        return None
    return st.session_state.setdefault("upload_owner", new_owner())


def visible_companies(companies: dict) -> dict:
    """The companies this session may see: every policy of the folder, and its own uploads."""
    owner = upload_owner()
    return {c: info for c, info in companies.items()
            if not info.get("owner") or owner is None or info["owner"] == owner}


def upload_panel() -> None:
    limit_mb = settings().max_upload_mb
    with st.expander(t("upload_title"), expanded=False):
        private = "" if settings().shared_uploads else " " + t("upload_private")
        st.caption(t("upload_help") + " " + t("upload_limit", mb=f"{limit_mb:g}") + private)
        n = st.session_state.setdefault("upload_round", 0)
        # The widget shows the limit and refuses bigger files in the browser; the check below says it
        # in our words for anything that still arrives (a fractional limit, another client).
        uploaded = st.file_uploader(t("upload_label"), type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES],
                                    key=f"uploader_{n}", max_upload_size=max(1, math.ceil(limit_mb)))
        if uploaded is not None and uploaded.size > limit_mb * 1024 * 1024:  # said before the button
            st.error(t("upload_too_large", name=md_plain(uploaded.name), size=f"{uploaded.size / 1024 / 1024:.2f}",
                       mb=f"{limit_mb:g}"))
            return
        if uploaded is not None and st.button(t("upload_button"), key="upload_button", type="primary"):
            bar = st.progress(0.0, text=t("upload_progress", name=md_plain(uploaded.name)))

            def on_progress(done: int, total: int, label: str) -> None:
                bar.progress(min(1.0, done / total) if total else 1.0,
                             text=t("upload_progress", name=md_plain(uploaded.name)))

            owner = upload_owner()
            try:
                # the company id the upload gets (checked here: a bad name fails before anything is written)
                target = upload_company_id(owner, Path(uploaded.name)) if owner else company_id(Path(uploaded.name))
                with st.spinner(t("upload_progress", name=md_plain(uploaded.name))):
                    add_policy(uploaded.getvalue(), uploaded.name, settings(), on_progress=on_progress, owner=owner)
            except UnreadablePolicy as exc:
                bar.empty()
                st.error(t("upload_bad", reason=md_plain(plain_reason(exc))))
                return
            except Exception as exc:
                bar.empty()
                st.error(error_line(exc))
                return
            bar.empty()
            after = visible_companies(rag.companies(settings()))
            st.session_state.companies = after
            st.session_state.flash = t("upload_done", name=md_plain((after.get(target) or {}).get("name", target)))
            if target in after:
                st.session_state.select_company = target
                st.session_state.force_chat = True
            st.session_state.upload_round = n + 1  # a fresh, empty uploader
            st.rerun()


# -- page ----------------------------------------------------------------------------------------
def choice(widget, label: str, options: dict, state_key: str, multi: bool = False, on_change=None, **kwargs):
    """A radio/selectbox/multiselect whose options are shown by display label (unique) while the
    session keeps the underlying values in `state_key` (labels change with the interface language)."""
    state = st.session_state
    labels = {}
    for value, text in options.items():
        text = text if text not in labels.values() else f"{text} ({value})"
        labels[value] = text
    values = {text: value for value, text in labels.items()}
    widget_key = state_key + "__widget"
    current = state.get(state_key)
    state[widget_key] = [labels[v] for v in current if v in labels] if multi else labels.get(current)

    def sync() -> None:
        chosen = state[widget_key]
        state[state_key] = [values[c] for c in chosen] if multi else values.get(chosen)
        if on_change:
            on_change()

    widget(label, list(labels.values()), key=widget_key, on_change=sync, **kwargs)
    return state.get(state_key)


def _lock_language() -> None:
    st.session_state.ui_lang_locked = True


def initial_language() -> str:
    try:
        locale = (st.context.locale or "").lower()
    except Exception:
        locale = ""
    return locale[:2] if locale[:2] in UI_LANGUAGES else "en"


def read_deep_link() -> dict:
    """`?company=ID&q=QUESTION&lang=xx`, read once per session (later reruns keep the user's choices).
    The interface language applies at once; company and question wait for the company list."""
    state = st.session_state
    if state.get("deep_link_read"):
        return {}
    state.deep_link_read = True
    try:
        params = {k: st.query_params.get(k) for k in ("company", "q", "lang")}
    except Exception:  # no query string to read: an ordinary start
        return {}
    lang = (params.get("lang") or "").strip().lower()
    if lang in UI_LANGUAGES:
        state.ui_lang = lang
        state.ui_lang_locked = True  # the link chose it: the first question does not switch it
    elif lang:
        state.setdefault("link_notices", []).append(("link_unknown_language", {"language": md_plain(lang[:20])}))
    return {"company": (params.get("company") or "").strip(), "q": " ".join((params.get("q") or "").split())}


def apply_deep_link(link: dict, ids: list[str]) -> None:
    company, question = link.get("company"), link.get("q")
    state = st.session_state
    if company and company not in ids:
        state.setdefault("link_notices", []).append(("link_unknown_company", {"company": md_plain(company[:64])}))
        return  # a question meant for another company is not asked of this one
    if company:
        state.select_company = company
        state.mode = "chat"
    if question:  # an empty q only opens the company
        state.pending_question = question


def main() -> None:
    state = st.session_state
    link = read_deep_link()
    state.setdefault("ui_lang", initial_language())
    state.setdefault("chats", {})
    state.setdefault("mode", "chat")
    if state.pop("force_chat", False):
        state.mode = "chat"
    st.set_page_config(page_title="PlainPolicy", page_icon=":material/policy:",
                       layout="wide" if state.mode == "compare" else "centered")
    html(CSS)

    with st.sidebar:
        choice(st.radio, t("sidebar_language"), {c: _strings()[c]["language_name"] for c in UI_LANGUAGES},
               "ui_lang", on_change=_lock_language)

    st.title(t("title"))
    st.caption(t("tagline"))

    store_missing, store_problem = False, None
    try:
        with st.spinner(t("loading")):
            state.companies = visible_companies(rag.companies(settings()))
    except StoreError as exc:
        log.warning("no store: %s", exc)
        state.companies, store_missing = {}, True
        if isinstance(exc, DamagedStore):  # not just "not built yet": say what is wrong and the fix
            store_problem = error_line(exc)
    companies: dict = state.companies
    if companies and answer_backend() == "local":
        _warm_local_model()
    ids = sorted(companies, key=lambda c: company_name(c).lower())
    if link:
        apply_deep_link(link, ids)

    with st.sidebar:
        choice(st.radio, t("sidebar_mode"), {m: t("mode_" + m) for m in ("chat", "compare")}, "mode")
        company = None
        if ids:
            pending = state.pop("select_company", None)
            if pending in ids:
                state.company = pending
            if state.get("company") not in ids:  # the default is never an upload
                state.company = next((c for c in ids if not companies[c].get("owner")), ids[0])
            company = state.company
            if state.mode == "chat":
                company = choice(st.selectbox, t("sidebar_company"), {c: company_name(c) for c in ids}, "company")
            info = companies.get(company, {})
            if state.mode == "chat" and info.get("language"):
                st.caption(t("policy_language", language=language_name(info["language"])))
            if state.mode == "chat" and state.chats.get(company):
                st.button(t("clear_chat"), key="clear_chat", on_click=lambda c=company: state.chats.pop(c, None))
        st.divider()
        upload_panel()

    flash = state.pop("flash", None)
    if flash:
        st.success(flash)
    for key, values in state.pop("link_notices", []):
        st.info(t(key, **values), icon=":material/link_off:")
    if store_problem:
        st.error(store_problem)
        return
    if not ids:
        st.info(t("no_store") if store_missing else t("no_companies"))
        return
    if state.mode == "compare":
        compare_page(ids)
    else:
        chat_page(company)


try:
    main()
except Exception as exc:  # never a traceback on the page (st.rerun/st.stop are not Exceptions)
    log.exception("app error")
    st.error(t("error_unexpected", kind=type(exc).__name__))
