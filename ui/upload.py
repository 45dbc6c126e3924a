"""Adding a policy from the browser: each session sees its own uploads (unless shared)."""
from __future__ import annotations

import math
from pathlib import Path

import streamlit as st

import rag
from index import SUPPORTED_SUFFIXES, UnreadablePolicy, add_policy
from index.folder import new_owner, upload_company_id
from index.load import company_id

from .common import error_line, md_plain, plain_reason, settings, t


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
