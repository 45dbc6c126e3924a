"""Read, clean and chunk each policy file in a worker process, under a time limit.

A policy file is untrusted input: a garbled PDF can send a parser into a loop, a 2 MB line or deeply
nested HTML can take minutes, a decompression bomb can eat the memory. So the parsing runs in worker
processes (started from a fork server that imported the parsers once, so a fresh worker costs
milliseconds); a file that takes longer than its time limit gets its worker killed, a worker that
dies takes only its file with it, and either way the file is skipped with one line that names it and
says why, while the files beside it are indexed.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .chunk import Chunk, chunk_policy
from .clean import clean_policy
from .language import identify
from .load import PolicyText, UnreadablePolicy, load_policy, read_policy_bytes, shown_name

FILE_TIMEOUT_S = 120.0  # a 2 MB one-line policy takes ~30 s here; nothing real comes near 120
WORKER_MEMORY_MB = 4096  # address-space cap of a worker: a decompression bomb fails there, alone
WORKER_START_S = 120.0  # the first worker waits for the fork server to import the parsers


@dataclass
class ParsedPolicy:
    policy: PolicyText
    language: str
    chunks: list[Chunk]
    sections: int
    owner: str | None = None  # the browser session that uploaded it (index/folder.py)
    title: str | None = None  # an upload's own title, its display name


def detect_policy_language(text: str) -> str:
    return identify(text[:20000])[0]


def parse_policy(policy: PolicyText, chunk_tokens: int) -> ParsedPolicy:
    cleaned = clean_policy(policy.text)
    language = detect_policy_language(cleaned.text)
    chunks = chunk_policy(policy.company, policy.text, language, chunk_tokens, cleaned)
    return ParsedPolicy(policy, language, chunks, len({c.section for c in chunks if c.section}))


def parse_file(path: str, data: bytes | None, chunk_tokens: int) -> ParsedPolicy:
    """The work itself (in the worker): the file at `path`, or `data` uploaded under that name."""
    policy = load_policy(path) if data is None else read_policy_bytes(data, path)
    parsed = parse_policy(policy, chunk_tokens)
    if not parsed.chunks:
        raise UnreadablePolicy(f"{shown_name(path)}: no usable text found (nothing left after cleaning)")
    return parsed


def _one_line_reason(name: str, exc: BaseException) -> str:
    if isinstance(exc, UnreadablePolicy):
        return str(exc).splitlines()[0] if str(exc) else f"{name}: unreadable"
    if isinstance(exc, MemoryError):
        return f"{name}: too large to read (ran out of memory)"
    if isinstance(exc, RecursionError):
        return f"{name}: too deeply nested to read"
    return f"{name}: cannot be read ({type(exc).__name__})"


def _serve(conn) -> None:
    """Worker loop: (path, data, chunk_tokens) in, ("ok", ParsedPolicy) or ("bad", reason) out."""
    try:
        import resource

        limit = WORKER_MEMORY_MB * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform, or a lower limit is already set
        pass
    # pysbd compiles a regex per abbreviation and text, thrashing the re module's 512-entry cache:
    # a bigger cache reads a long policy ~1.7x faster. Safe here: this process only parses files.
    import re

    re._MAXCACHE = max(re._MAXCACHE, 20_000)
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        path, data, chunk_tokens = job
        try:
            reply = ("ok", parse_file(path, data, chunk_tokens))
        except BaseException as exc:  # noqa: BLE001 - whatever a hostile file raises becomes its reason
            reply = ("bad", _one_line_reason(shown_name(path), exc))
        try:
            conn.send(reply)
        except Exception as exc:  # the result would not pickle or is too large: that file's reason
            conn.send(("bad", _one_line_reason(shown_name(path), exc)))


_context = None
_context_lock = threading.Lock()


def _mp_context():
    """A fork server that has imported the parsers: workers start in milliseconds, and without the
    threads of whatever process asked (Streamlit, Chroma), which a plain fork would copy."""
    global _context
    with _context_lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                _context = multiprocessing.get_context("forkserver")
                _context.set_forkserver_preload(["index.file_worker"])
            else:
                _context = multiprocessing.get_context("spawn")
        return _context


_hide_lock = threading.Lock()


@contextlib.contextmanager
def _main_script_hidden():
    """A worker needs nothing from the main script, but multiprocessing would run it again in every
    worker it starts (a Streamlit or pytest entry script: seconds each; code piped to `python -`:
    the worker fails to start). Hidden from it for the instant a worker is started."""
    main = sys.modules.get("__main__")
    with _hide_lock:
        saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
        try:
            if main is not None:
                main.__dict__.pop("__file__", None)
                main.__dict__["__spec__"] = None
            yield
        finally:
            if main is not None:
                main.__dict__.pop("__spec__", None)
                main.__dict__.update(saved)


class FileWorker:
    """One worker process; replaced after a file killed it or ran out of time."""

    def __init__(self, timeout: float = FILE_TIMEOUT_S):
        self.timeout = timeout
        self._proc = None
        self._conn = None

    def _start(self) -> None:
        ctx = _mp_context()
        here, there = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(there,), daemon=True, name="plainpolicy-file-worker")
        with _main_script_hidden():
            self._proc.start()
        there.close()
        self._conn = here
        # A file's time limit starts once the worker is ready, not while the parsers are imported.
        try:
            ready = here.poll(WORKER_START_S) and here.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._kill()
            raise UnreadablePolicy("the file reader did not start (worker process)")

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(timeout=10)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def parse(self, path: str | Path, data: bytes | None = None, chunk_tokens: int = 180) -> ParsedPolicy:
        """Parse one file (or uploaded bytes named `path`); UnreadablePolicy with one line otherwise."""
        name = shown_name(path)
        if self._proc is None or not self._proc.is_alive():
            self._kill()
            self._start()
        try:
            self._conn.send((str(path), data, chunk_tokens))
            ready = self._conn.poll(self.timeout)
            kind, value = self._conn.recv() if ready else ("timeout", None)
        except (EOFError, OSError, BrokenPipeError):
            self._proc.join(timeout=5)
            code = self._proc.exitcode
            self._kill()
            raise UnreadablePolicy(f"{name}: reading it crashed the reader (exit code {code})") from None
        if kind == "timeout":
            self._kill()
            raise UnreadablePolicy(f"{name}: took longer than {self.timeout:g} s to read (stopped)")
        if kind == "bad":
            raise UnreadablePolicy(value)
        return value

    def close(self) -> None:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(None)
                self._proc.join(timeout=5)
            except OSError:
                pass
        self._kill()


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def parse_files(paths: list[Path], chunk_tokens: int, timeout: float = FILE_TIMEOUT_S,
                workers: int | None = None) -> Iterator[tuple[Path, ParsedPolicy | str]]:
    """(path, ParsedPolicy) or (path, one-line reason) for every file, in the order given."""
    workers = max(1, min(workers or default_workers(), len(paths) or 1))
    local = threading.local()
    pool_workers: list[FileWorker] = []
    lock = threading.Lock()

    def one(path: Path):
        worker = getattr(local, "worker", None)
        if worker is None:
            worker = local.worker = FileWorker(timeout)
            with lock:
                pool_workers.append(worker)
        try:
            return path, worker.parse(path, None, chunk_tokens)
        except UnreadablePolicy as exc:
            return path, str(exc)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plainpolicy-parse") as pool:
            yield from pool.map(one, paths)
    finally:
        for worker in pool_workers:
            worker.close()


def parse_upload(data: bytes, filename: str, chunk_tokens: int, timeout: float = FILE_TIMEOUT_S) -> ParsedPolicy:
    """Check an upload the way `index build` will read it, in a worker, before anything is written."""
    worker = FileWorker(timeout)
    try:
        return worker.parse(filename, data, chunk_tokens)
    finally:
        worker.close()

