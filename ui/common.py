"""What every part of the page shares: the interface strings (one language per screen), escaping of
untrusted policy text, the settings and cached data from rag/index, and one-line error messages.

Policy text is untrusted. Everything that comes from a policy (quotes, section titles, answers that
repeat it, company names of uploaded files) goes through `safe()`: HTML-escaped and with every ASCII
punctuation character written as a numeric entity, so it can be neither HTML nor markdown (no images,
links or math); the only markup on the page is our own <div>/<mark>/<br> around it.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path

import streamlit as st

import rag
from index import StoreError, get_settings
from rag import QuestionError

log = logging.getLogger("plainpolicy.app")
HERE = Path(__file__).resolve().parent.parent
UI_LANGUAGES = ("nl", "fr", "en", "de")


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
def _warm_up(backend: str) -> threading.Thread:
    """Once per server and backend: load the embedders and, for the local backend, the model with its
    fixed system prompt read, in the background, so the first question waits for none of it
    (seconds on a 2-core laptop)."""
    def run() -> None:
        try:
            from rag.chain import warm_backend, warm_retrieval

            if backend == "local":  # a remote model server is not sent a request before a question
                warm_backend(settings(), backend)
            else:
                warm_retrieval(settings())
        except Exception as exc:  # the first question then loads it and shows any problem
            log.warning("warm-up (%s) failed: %s", backend, exc)

    thread = threading.Thread(target=run, name="plainpolicy-warm-up", daemon=True)
    thread.start()
    return thread


def company_name(company: str) -> str:
    info = st.session_state.get("companies", {}).get(company) or {}
    return info.get("name") or company


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
