"""Runtimes that run a GGUF chat model on the CPU, in-process, behind one small interface.

    runtime = get_runtime("auto", model_path, n_ctx=4096, n_threads=2)
    runtime.complete(request) -> OpenAI chat.completion dict
    runtime.stream(request)   -> iterator of content pieces (closing it stops the generation)

``request`` is an OpenAI chat-completions body (messages, max_tokens, temperature, seed, stop).
Each runtime serialises requests (one sequence: 2 cores gain nothing from interleaving) and keeps
the KV cache of the previous prompt, so a shared prefix (the fixed system prompt) is read once.
llama-cpp also keeps the state of each warmed-up system prompt (the answer's and the translation's),
so switching between answering and translating quotes does not read either again.

- ``llama-cpp``: llama-cpp-python compiled on this machine by ``make setup`` (-march=native: AVX-512
  where the CPU has it). Measured here about 1.5-1.8x faster at reading prompts than the prebuilt
  wheel, which is most of the wait on 2 cores. No network listener at all.
- ``xllamacpp``: the prebuilt abi3 wheel (AVX2), installed in seconds; the fallback when compiling
  was skipped or failed.

``auto`` (PLAINPOLICY_LOCAL_RUNTIME, default) picks llama-cpp when it is installed.
"""
from __future__ import annotations

import atexit
import importlib.util
import os
import queue
import secrets
import threading
import time
from typing import Iterator

RUNTIME_NAMES = ("llama-cpp", "xllamacpp")
_MODULES = {"llama-cpp": "llama_cpp", "xllamacpp": "xllamacpp"}


MAX_PREFIX_STATES = 4  # system prompts kept read (the answer's and the translation's are two)


def _system_of(request: dict) -> str | None:
    messages = request.get("messages") or []
    first = messages[0] if messages else {}
    return first.get("content") if first.get("role") == "system" else None


class RuntimeUnavailable(RuntimeError):
    """The requested runtime is not installed."""


def installed_runtimes() -> list[str]:
    return [name for name in RUNTIME_NAMES if importlib.util.find_spec(_MODULES[name]) is not None]


def resolve_runtime(name: str | None) -> str:
    """The runtime ``name`` stands for ("auto"/None: the fastest installed one)."""
    installed = installed_runtimes()
    if name in (None, "", "auto"):
        if not installed:
            raise RuntimeUnavailable("no local runtime installed: pip install -r requirements-model.txt")
        return installed[0]
    if name not in RUNTIME_NAMES:
        raise RuntimeUnavailable(f"unknown local runtime {name!r}: choose auto, {' or '.join(RUNTIME_NAMES)}")
    if name not in installed:
        raise RuntimeUnavailable(f"the {name} runtime is not installed ({_MODULES[name]} is missing)")
    return name


class LlamaCppRuntime:
    """llama-cpp-python's in-process Llama: no server, no port."""

    name = "llama-cpp"

    def __init__(self, model_path: str, n_ctx: int, n_threads: int):
        from llama_cpp import Llama

        self.model_path = model_path
        self.lock = threading.Lock()
        started = time.perf_counter()
        self.llm = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                         flash_attn=True, seed=42, verbose=False)
        self.load_seconds = time.perf_counter() - started
        self._prefix_states: dict[str, object] = {}  # system prompt -> llama state after reading it
        self._live_system: str | None = None
        # free the model while the interpreter is still whole: llama-cpp-python's own __del__ at
        # exit runs after its module globals are gone and prints a TypeError
        atexit.register(self.close)

    def close(self) -> None:
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            llm.close()

    @staticmethod
    def _arguments(request: dict) -> dict:
        args = {"messages": request["messages"], "max_tokens": request.get("max_tokens"),
                "temperature": request.get("temperature", 0.1), "seed": request.get("seed")}
        if request.get("stop"):
            args["stop"] = request["stop"]
        return args

    def _restore_prefix(self, request: dict) -> None:
        """Answers and quote translations take turns and have different system prompts; with one KV
        sequence each evicts the other's, and reading it again costs 1-3 s on 2 cores. A warm-up (a
        request of the system message alone) leaves its state here; a request whose system prompt is
        not the one in the KV cache starts from that state, so only what follows is read.
        (llama-cpp's own LlamaRAMCache saves a state after every request and counts its size without
        the logits copy: measured, a 16.7 GB process.)"""
        system = _system_of(request)
        if system != self._live_system and system in self._prefix_states:
            self.llm.load_state(self._prefix_states[system])
        self._live_system = system

    def _remember_prefix(self, request: dict) -> None:
        system = _system_of(request)
        if system is not None and len(request["messages"]) == 1 and system not in self._prefix_states:
            if len(self._prefix_states) >= MAX_PREFIX_STATES:  # each ~0.2 GB (its logits rows included)
                self._prefix_states.pop(next(iter(self._prefix_states)))
            self._prefix_states[system] = self.llm.save_state()

    def complete(self, request: dict) -> dict:
        with self.lock:
            self._restore_prefix(request)
            result = self.llm.create_chat_completion(**self._arguments(request), stream=False)
            self._remember_prefix(request)
            return result

    def stream(self, request: dict) -> Iterator[str]:
        """Yield content pieces. Closing the iterator early stops the generation."""
        with self.lock:
            self._restore_prefix(request)
            chunks = self.llm.create_chat_completion(**self._arguments(request), stream=True)
            try:
                for chunk in chunks:
                    content = (chunk["choices"][0].get("delta") or {}).get("content")
                    if content:
                        yield content
            finally:
                chunks.close()


class XllamacppRuntime:
    """llama.cpp's server through the prebuilt xllamacpp wheel (AVX2 build; installs in seconds).

    It always starts llama.cpp's HTTP listener next to the in-process API we use, so that is locked
    down: 127.0.0.1 on a random port, a random API key that is never printed or stored, an empty
    Access-Control-Allow-Origin (browsers refuse every cross-origin request), no web UI, no /slots,
    /props or /metrics, and never a download."""

    name = "xllamacpp"

    def __init__(self, model_path: str, n_ctx: int, n_threads: int):
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = model_path
        params.n_ctx = n_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = n_threads
        params.cpuparams_batch.n_threads = n_threads
        params.warmup = True
        params.offline = True  # never fetch anything
        params.cache_prompt = True  # reuse the KV cache of the shared prompt prefix
        # the HTTP listener that comes with the runtime: loopback only, random key, no CORS, no UI
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        params.api_keys = [secrets.token_urlsafe(32)]
        params.cors_origins = ""
        params.cors_origins_explicit = True
        params.cors_credentials = False
        params.ui = False
        params.endpoint_slots = False
        params.endpoint_props = False
        params.endpoint_metrics = False
        params.n_threads_http = 1
        try:
            params.verbosity = int(os.environ.get("PLAINPOLICY_LLAMA_VERBOSITY", "0"))
        except ValueError:
            pass
        self.model_path = model_path
        self.lock = threading.Lock()
        started = time.perf_counter()
        self.server = xllamacpp.Server(params)
        self.load_seconds = time.perf_counter() - started

    @property
    def address(self) -> str:
        return self.server.listening_address

    def complete(self, request: dict) -> dict:
        request = {**request, "stream": False}
        with self.lock:
            result = self.server.handle_chat_completions(request)
        if "choices" not in result:
            raise RuntimeError(f"local model error: {result.get('message') or result}")
        return result

    def stream(self, request: dict) -> Iterator[str]:
        """Yield content pieces. Closing the iterator early cancels the generation."""
        request = {**request, "stream": True}
        pieces: queue.Queue = queue.Queue()
        cancel = threading.Event()
        done = object()

        def on_chunk(chunk: dict) -> bool:
            if isinstance(chunk, dict) and chunk.get("choices"):
                delta = chunk["choices"][0].get("delta") or {}
                if delta.get("content"):
                    pieces.put(delta["content"])
            elif isinstance(chunk, dict) and ("error" in chunk or chunk.get("code")):
                pieces.put(RuntimeError(f"local model error: {chunk.get('message') or chunk}"))
                return True
            return cancel.is_set()  # True stops the generation

        def run() -> None:
            try:
                with self.lock:
                    self.server.handle_chat_completions(request, on_chunk)
            except Exception as exc:  # surfaced to the consumer
                pieces.put(exc)
            finally:
                pieces.put(done)

        worker = threading.Thread(target=run, name="plainpolicy-llm", daemon=True)
        worker.start()
        try:
            while True:
                item = pieces.get()
                if item is done:
                    break
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            cancel.set()
            worker.join()


_RUNTIMES: dict[tuple, object] = {}
_RUNTIMES_LOCK = threading.Lock()


def get_runtime(name: str | None, model_path: str, n_ctx: int, n_threads: int):
    """The loaded runtime for this model file, loading it on first use (once per process)."""
    kind = resolve_runtime(name)
    key = (kind, model_path, n_ctx, n_threads)
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.get(key)
        if runtime is None:
            cls = LlamaCppRuntime if kind == "llama-cpp" else XllamacppRuntime
            runtime = _RUNTIMES[key] = cls(model_path, n_ctx, n_threads)
        return runtime
