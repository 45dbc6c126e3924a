"""An optional on-disk cache of embeddings keyed by embedder and text hash (PLAINPOLICY_EMBED_CACHE).

`index build` already reuses the vectors of the live index; this cache also serves a build into a new
store or server (a damaged store rebuilt, a move to a Chroma server, a benchmark at several sizes),
which then embeds only texts it has never seen. One SQLite file per embedder, float32 blobs.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

_BATCH = 500  # SQLite's limit on host parameters is far above this


class EmbeddingCache:
    def __init__(self, folder: str | Path, embedder_slug: str):
        path = Path(folder).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path / f"{embedder_slug}.sqlite3"))
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def get_many(self, keys: list[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for i in range(0, len(keys), _BATCH):
            batch = keys[i:i + _BATCH]
            rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(batch))})", batch)
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32).tolist()
        return found

    def put_many(self, vectors: dict[str, list[float]]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                                 [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()])

    def close(self) -> None:
        self._db.close()
