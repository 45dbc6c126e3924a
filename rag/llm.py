"""Generator backends as LangChain chat models behind one small interface.

    load_chat_model("local", settings)   # GGUF on the CPU through xllamacpp, loaded once per process
    load_chat_model("openai", settings)  # any OpenAI-compatible server through langchain-openai
    available_backends(settings)         # ["extractive", "local"?, "openai"?]
    default_backend(settings)

The "extractive" backend needs no chat model (rag/answer.py); ``load_chat_model`` refuses it.

The local runtime (xllamacpp) always starts llama.cpp's HTTP server next to the in-process API we
use. It is locked down: it binds 127.0.0.1 on a random port, requires a random API key that is
never printed or stored, sends an empty Access-Control-Allow-Origin (browsers refuse every
cross-origin request), has no web UI, no /slots, /props or /metrics, and never downloads anything.
"""
from __future__ import annotations

import os
import queue
import secrets
import threading
import time
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from index.settings import Settings, get_settings
from rag import local_model

BACKENDS = ("extractive", "local", "openai")
DEFAULT_MAX_TOKENS = 220
DEFAULT_TEMPERATURE = 0.1


class BackendUnavailable(RuntimeError):
    """The requested generator cannot be used here (model or runtime missing, no URL configured)."""


# ---------------------------------------------------------------------------------------------
# Local runtime: one llama.cpp server per (model file, context, threads), shared by every caller
# ---------------------------------------------------------------------------------------------


class _LocalRuntime:
    """A loaded GGUF model. Requests are serialised: one slot, 2 cores, no point in interleaving."""

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


_RUNTIMES: dict[tuple, _LocalRuntime] = {}
_RUNTIMES_LOCK = threading.Lock()


def _runtime(model_path: str, n_ctx: int, n_threads: int) -> _LocalRuntime:
    key = (model_path, n_ctx, n_threads)
    with _RUNTIMES_LOCK:
        rt = _RUNTIMES.get(key)
        if rt is None:
            rt = _RUNTIMES[key] = _LocalRuntime(model_path, n_ctx, n_threads)
        return rt


class LocalChatModel(BaseChatModel):
    """A GGUF chat model run in-process by xllamacpp (llama.cpp), loaded lazily once per process."""

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 0  # 0: every core
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = DEFAULT_TEMPERATURE
    seed: int = 42

    @property
    def _llm_type(self) -> str:
        return "xllamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "max_tokens": self.max_tokens,
                "temperature": self.temperature}

    @property
    def runtime(self) -> _LocalRuntime:
        return _runtime(self.model_path, self.n_ctx, self.n_threads or (os.cpu_count() or 2))

    def load(self) -> "LocalChatModel":
        """Load the model now (otherwise on the first request)."""
        _ = self.runtime
        return self

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict:
        request = {
            "messages": convert_to_openai_messages(messages),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "seed": self.seed,
        }
        if stop:
            request["stop"] = stop
        return request

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        result = self.runtime.complete(self._request(messages, stop, **kwargs))
        choice = result["choices"][0]
        message = AIMessage(content=choice["message"].get("content") or "",
                            response_metadata={"finish_reason": choice.get("finish_reason"),
                                               "timings": result.get("timings", {})},
                            usage_metadata=_usage(result.get("usage")))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        pieces = self.runtime.stream(self._request(messages, stop, **kwargs))
        try:
            for piece in pieces:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk
        finally:
            pieces.close()  # stops the generation when the consumer stops early


def _usage(usage: dict | None):
    if not usage:
        return None
    return {"input_tokens": usage.get("prompt_tokens", 0), "output_tokens": usage.get("completion_tokens", 0),
            "total_tokens": usage.get("total_tokens", 0)}


# ---------------------------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------------------------


def _setting(settings: Settings, name: str, default):
    value = getattr(settings, name, None)
    return default if value in (None, "") else value


def load_chat_model(backend: str, settings: Settings | None = None) -> BaseChatModel:
    """The chat model for ``backend`` ("local" or "openai"). Raises BackendUnavailable."""
    settings = settings or get_settings()
    max_tokens = int(_setting(settings, "llm_max_tokens", DEFAULT_MAX_TOKENS))
    if backend == "local":
        if not local_model.runtime_available():
            raise BackendUnavailable("the local backend needs xllamacpp: pip install -r requirements-model.txt")
        try:
            path = local_model.model_path(settings)
        except local_model.ModelError as exc:
            raise BackendUnavailable(str(exc)) from exc
        return LocalChatModel(model_path=str(path), max_tokens=max_tokens,
                              n_threads=int(_setting(settings, "local_threads", 0)))
    if backend == "openai":
        if not settings.openai_base_url:
            raise BackendUnavailable("the openai backend needs PLAINPOLICY_OPENAI_BASE_URL")
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            api_key=settings.openai_api_key or "not-needed",
            temperature=DEFAULT_TEMPERATURE,
            max_tokens=max_tokens,
            timeout=float(_setting(settings, "openai_timeout", 120)),
            max_retries=1,
        )
    if backend == "extractive":
        raise BackendUnavailable("the extractive backend has no chat model (rag.answer does it)")
    raise BackendUnavailable(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")


def available_backends(settings: Settings | None = None) -> list[str]:
    """Backends usable here, cheapest check first (no model is loaded, no 1.1 GB hash is computed)."""
    settings = settings or get_settings()
    out = ["extractive"]
    if local_model.runtime_available() and local_model.model_available(settings):
        out.append("local")
    if settings.openai_base_url:
        out.append("openai")
    return out


def default_backend(settings: Settings | None = None) -> str:
    """PLAINPOLICY_BACKEND when set; else a configured OpenAI-compatible server, else the local
    model when installed, else extractive."""
    settings = settings or get_settings()
    if settings.backend:
        return settings.backend
    available = available_backends(settings)
    for name in ("openai", "local"):
        if name in available:
            return name
    return "extractive"
