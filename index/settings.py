"""Every setting in one place: environment variables with the PLAINPOLICY_ prefix.

Defaults work offline on one laptop: a local Chroma folder, the bundled embedders,
the extractive answerer (or the embedded local model when it is installed).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Chroma and Streamlit must never phone home, whichever entry point imports us first.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get("PLAINPOLICY_" + name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    store_dir: Path = field(default_factory=lambda: Path(_env("STORE", str(PROJECT_DIR / "store"))))
    policies_dir: Path = field(default_factory=lambda: Path(_env("POLICIES", str(PROJECT_DIR / "policies"))))
    chroma_url: str | None = field(default_factory=lambda: _env("CHROMA_URL"))
    embedder: str = field(default_factory=lambda: _env("EMBEDDER", "use+e5"))
    backend: str | None = field(default_factory=lambda: _env("BACKEND"))
    local_model: str | None = field(default_factory=lambda: _env("LOCAL_MODEL"))
    openai_base_url: str | None = field(default_factory=lambda: _env("OPENAI_BASE_URL"))
    openai_model: str = field(default_factory=lambda: _env("OPENAI_MODEL", "gpt-4o-mini"))
    openai_api_key: str | None = field(default_factory=lambda: _env("OPENAI_API_KEY"))
    local_threads: int = field(default_factory=lambda: int(_env("LOCAL_THREADS", "0")))  # 0: every core
    local_runtime: str = field(default_factory=lambda: _env("LOCAL_RUNTIME", "auto"))  # auto, llama-cpp, xllamacpp
    llm_max_tokens: int = field(default_factory=lambda: int(_env("LLM_MAX_TOKENS", "220")))
    max_question_chars: int = field(default_factory=lambda: int(_env("MAX_QUESTION_CHARS", "2000")))
    chunk_tokens: int = field(default_factory=lambda: int(_env("CHUNK_TOKENS", "180")))
    # A policy file that takes longer than this to read, clean and chunk is skipped (index/file_worker.py).
    file_timeout: float = field(default_factory=lambda: float(_env("FILE_TIMEOUT", "120")))
    parse_workers: int = field(default_factory=lambda: int(_env("PARSE_WORKERS", "0")))  # 0: up to 2
    embed_cache: str | None = field(default_factory=lambda: _env("EMBED_CACHE"))  # folder of the embedding cache
    company_cache: int = field(default_factory=lambda: int(_env("COMPANY_CACHE", "64")))  # per-company indexes in memory
    max_upload_mb: float = field(default_factory=lambda: float(_env("MAX_UPLOAD_MB", "5")))
    # Uploads are seen only by the browser session that made them, unless this is on.
    shared_uploads: bool = field(default_factory=lambda: _env("SHARED_UPLOADS", "0") in ("1", "true", "yes"))

    def with_store(self, store_dir: str | Path | None) -> "Settings":
        if store_dir is None:
            return self
        return Settings(**{**self.__dict__, "store_dir": Path(store_dir)})


def get_settings() -> Settings:
    return Settings()
