"""The versions of a company's policy that `index build` kept (index/versions.py), for `rag versions`,
`rag diff` and the app's "What changed" view. Answers and search always use the newest, live text."""
from __future__ import annotations

from index.settings import Settings, get_settings
from index.store import PolicyStore, StoreError
from index.versions import Version, VersionError, list_versions, pick_version, version_text  # noqa: F401

from .chain import check_company_id


def company_versions(company: str, settings: Settings | None = None) -> list[Version]:
    """Oldest first. Unknown company: StoreError (like `ask`); known but none kept: VersionError."""
    settings = settings or get_settings()
    check_company_id(company)
    kept = list_versions(settings, company)
    if kept:
        return kept
    known = PolicyStore(settings).companies()  # the manifest only: no embedder is loaded for this
    if company not in known:
        raise StoreError(f"unknown company {company!r} (known: {', '.join(sorted(known))})")
    raise VersionError(f"no versions of {company} are kept yet: run `python -m index build` once more")


def versions_json(company: str, settings: Settings | None = None) -> dict:
    settings = settings or get_settings()
    kept = company_versions(company, settings)
    try:
        live = PolicyStore(settings).companies().get(company, {}).get("sha256")
    except StoreError:
        live = None
    return {"company": company,
            "versions": [{**v.to_json(), "live": v.sha256 == live} for v in kept]}
