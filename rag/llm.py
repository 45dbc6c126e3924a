"""Generator backends as LangChain chat models behind one small interface.

    load_chat_model("local", settings)   # GGUF on the CPU (rag/runtimes.py), loaded once per process
    load_chat_model("openai", settings)  # any OpenAI-compatible server through langchain-openai
    available_backends(settings)         # ["extractive", "local"?, "openai"?]
    default_backend(settings)

The "extractive" backend needs no chat model (rag/answer.py); ``load_chat_model`` refuses it.

The local model runs in-process through one of the runtimes in rag/runtimes.py (llama-cpp-python
compiled for this CPU, or the prebuilt xllamacpp wheel, whose HTTP listener is locked down).
"""
from __future__ import annotations

import os
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from index.settings import Settings, get_settings
from rag import local_model, runtimes

BACKENDS = ("extractive", "local", "openai")
DEFAULT_MAX_TOKENS = 220
DEFAULT_TEMPERATURE = 0.1


class BackendUnavailable(RuntimeError):
    """The requested generator cannot be used here (model or runtime missing, no URL configured)."""


class LocalChatModel(BaseChatModel):
    """A GGUF chat model run in-process by a llama.cpp runtime, loaded lazily once per process."""

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 0  # 0: every core
    runtime_name: str = "auto"  # rag.runtimes: auto, llama-cpp, xllamacpp
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = DEFAULT_TEMPERATURE
    seed: int = 42

    @property
    def _llm_type(self) -> str:
        return "local-gguf"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "max_tokens": self.max_tokens,
                "temperature": self.temperature, "runtime": self.runtime_name}

    @property
    def runtime(self):
        return runtimes.get_runtime(self.runtime_name, self.model_path, self.n_ctx,
                                    self.n_threads or (os.cpu_count() or 2))

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
        runtime_name = str(_setting(settings, "local_runtime", "auto"))
        try:
            runtimes.resolve_runtime(runtime_name)
        except runtimes.RuntimeUnavailable as exc:
            raise BackendUnavailable(f"the local backend: {exc}") from exc
        try:
            path = local_model.model_path(settings)
        except local_model.ModelError as exc:
            raise BackendUnavailable(str(exc)) from exc
        return LocalChatModel(model_path=str(path), max_tokens=max_tokens, runtime_name=runtime_name,
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
