"""PlainPolicy in the browser: ask a company's privacy policy, see the exact sentences, compare companies,
see what changed between the policy's versions, write a rights-request letter.

Deep links: `?company=ID&q=QUESTION&lang=xx` opens the chat on that company, in that interface
language, and asks that question; every answer offers such a link to itself.

UI only: every answer, citation and index change comes from `rag` and `index`.
Run: streamlit run app.py   (settings from PLAINPOLICY_* environment variables, see index/settings.py)

Policy text is untrusted. Everything that comes from a policy (quotes, section titles, answers that
repeat it, company names of uploaded files) goes through `safe()`: HTML-escaped and with every ASCII
punctuation character written as a numeric entity, so it can be neither HTML nor markdown (no images,
links or math); the only markup on the page is our own <div>/<mark>/<br> around it (ui/common.py).

The parts of the page live in ui/: common (strings, escaping, errors), answer_view, chat, letters,
diff_view, compare, card_view, upload. This file reads the deep link, draws the sidebar and picks the page.
"""
from __future__ import annotations

import streamlit as st

import rag
from index import StoreError
from index.store import DamagedStore
from ui.chat import chat_page
from ui.common import (CSS, UI_LANGUAGES, _strings, _warm_up, answer_backend, choice, company_name,
                       error_line, html, language_name, log, md_plain, settings, t)
from ui.card_view import card_page
from ui.compare import compare_page
from ui.upload import upload_panel, visible_companies


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
                       layout="wide" if state.mode in ("compare", "card") else "centered")
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
    if companies:
        _warm_up(answer_backend())
    ids = sorted(companies, key=lambda c: company_name(c).lower())
    if link:
        apply_deep_link(link, ids)

    with st.sidebar:
        choice(st.radio, t("sidebar_mode"), {m: t("mode_" + m) for m in ("chat", "compare", "card")}, "mode")
        company = None
        if ids:
            pending = state.pop("select_company", None)
            if pending in ids:
                state.company = pending
            if state.get("company") not in ids:  # the default is never an upload
                state.company = next((c for c in ids if not companies[c].get("owner")), ids[0])
            company = state.company
            if state.mode in ("chat", "card"):
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
    elif state.mode == "card":
        card_page(ids, company)
    else:
        chat_page(company)


try:
    main()
except Exception as exc:  # never a traceback on the page (st.rerun/st.stop are not Exceptions)
    log.exception("app error")
    st.error(t("error_unexpected", kind=type(exc).__name__))
