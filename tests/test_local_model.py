"""The embedded local model: assembly and checksum refusal (fast), and a real answer (slow)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from index.settings import Settings
from rag import local_model
from rag.schema import Answer, Citation
from rag.sentences import sentence_spans
from rag.verify import verify_answer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def fake_parts(tmp_path, monkeypatch):
    """Three small part files standing in for the 22 packages, with size and sha256 pinned to them."""
    blobs = [b"GGUF" + bytes([i]) * 1000 for i in range(3)]
    parts = []
    for i, blob in enumerate(blobs, 1):
        p = tmp_path / "site" / f"part{i:02d}.bin"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(blob)
        parts.append(local_model.Part(i, f"fake-part{i}", p, len(blob)))
    whole = b"".join(blobs)
    monkeypatch.setattr(local_model, "find_parts", lambda: parts)
    monkeypatch.setattr(local_model, "MODEL_SIZE", len(whole))
    monkeypatch.setattr(local_model, "MODEL_SHA256", hashlib.sha256(whole).hexdigest())
    return whole


def test_install_assembles_verifies_and_is_idempotent(tmp_path, fake_parts, monkeypatch):
    target = tmp_path / "models" / "m.gguf"
    assert local_model.install(target, log=lambda *_: None) == target
    assert target.read_bytes() == fake_parts
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".part")]  # no temp file left
    # a re-run trusts the stamp (same size and mtime) and does not hash again
    monkeypatch.setattr(local_model, "_sha256", lambda path: pytest.fail("re-hashed a verified file"))
    monkeypatch.setattr(local_model, "find_parts", lambda: pytest.fail("re-assembled a verified file"))
    assert local_model.install(target, log=lambda *_: None) == target


def test_mismatching_parts_are_refused_and_leave_nothing(tmp_path, fake_parts, monkeypatch):
    monkeypatch.setattr(local_model, "MODEL_SHA256", "0" * 64)
    target = tmp_path / "models" / "m.gguf"
    with pytest.raises(local_model.ModelError, match="sha256"):
        local_model.install(target, log=lambda *_: None)
    assert list(target.parent.iterdir()) == []


def test_tampered_file_is_refused_then_reassembled(tmp_path, fake_parts):
    target = tmp_path / "models" / "m.gguf"
    local_model.install(target, log=lambda *_: None)
    data = bytearray(target.read_bytes())
    data[10] ^= 0xFF
    target.write_bytes(bytes(data))  # same size, new mtime: the stamp no longer vouches for it
    with pytest.raises(local_model.ModelError, match="sha256"):
        local_model.verify_file(target)
    local_model.install(target, log=lambda *_: None)
    assert target.read_bytes() == fake_parts


def test_wrong_size_is_refused(tmp_path, fake_parts):
    target = tmp_path / "m.gguf"
    target.write_bytes(b"short")
    with pytest.raises(local_model.ModelError, match="size"):
        local_model.verify_file(target)


def test_missing_part_packages_are_named(monkeypatch):
    monkeypatch.setattr(local_model, "PART_PACKAGE", "plainpolicy-no-such-package-{}")
    with pytest.raises(local_model.ModelError, match="plainpolicy-no-such-package-1"):
        local_model.find_parts()


def test_env_model_path_must_exist_and_is_not_hashed(tmp_path):
    with pytest.raises(local_model.ModelError, match="no such file"):
        local_model.model_path(Settings(local_model=str(tmp_path / "nope.gguf")))
    other = tmp_path / "other.gguf"
    other.write_bytes(b"anything")
    assert local_model.model_path(Settings(local_model=str(other))) == other
    assert local_model.model_available(Settings(local_model=str(other)))


# ------------------------------------------------------------------------------------------------
# The real model (1.1 GB, ~2 GB RAM, tens of seconds on 2 cores)
# ------------------------------------------------------------------------------------------------

def _citations(company: str, needles: list[str]) -> list[Citation]:
    """Citations built from exact lines of a sample policy, as retrieval would return them."""
    text = (ROOT / "policies" / f"{company}.txt").read_text(encoding="utf-8")
    out = []
    for n, needle in enumerate(needles, 1):
        start = text.index(needle)
        line_end = text.find("\n", start)
        line = text[start:line_end if line_end >= 0 else len(text)]
        end = start + sentence_spans(line)[0][1]  # one sentence, as the evidence step cites them
        out.append(Citation(n=n, text=text[start:end], source=f"policies/{company}.txt", start=start, end=end,
                            section="", score=1.0, language="nl", company=company))
    return out


def _retention_citations() -> list[Citation]:
    return _citations("sensus", ["De persoonsgegevens die wij nodig hebben voor het administreren",
                                 "De gegevens van bezoekers van onze website",
                                 "De persoonsgegevens die wij nodig hebben voor het voeren"])


def _run(question: str, company: str, citations: list[Citation], verdict: str | None = None):
    from rag.generate import stream_answer, warm_up
    from rag.llm import load_chat_model

    chat_model = load_chat_model("local", Settings())
    warm_up(chat_model)  # as the app and the CLI do before the first question (rag.chain.warm_backend)
    # the verdict is the evidence step's (rag/verdict.py); the model may state it, never another one
    fallback = Answer(company=company, question=question, language="en", status="answered",
                      answer="EXTRACTIVE", citations=citations, verdict=verdict)
    pieces, final = [], None
    for item in stream_answer(chat_model, question, "en", citations, fallback, "local"):
        if isinstance(item, Answer):
            final = item
        else:
            pieces.append(item)
    return pieces, final


def _local_ready(runtime: str = "auto") -> bool:
    from rag.runtimes import installed_runtimes

    wanted = installed_runtimes() if runtime == "auto" else [r for r in installed_runtimes() if r == runtime]
    return bool(wanted) and local_model.model_available(Settings())


def test_runtime_choice_is_checked():
    from rag.runtimes import RuntimeUnavailable, installed_runtimes, resolve_runtime

    with pytest.raises(RuntimeUnavailable, match="unknown local runtime"):
        resolve_runtime("vllm")
    installed = installed_runtimes()
    if installed:
        assert resolve_runtime("auto") == installed[0]  # llama-cpp (compiled here) first when present
    for name in {"llama-cpp", "xllamacpp"} - set(installed):
        with pytest.raises(RuntimeUnavailable, match="not installed"):
            resolve_runtime(name)


def test_unknown_runtime_setting_makes_the_backend_unavailable(tmp_path):
    from rag.llm import BackendUnavailable, load_chat_model

    with pytest.raises(BackendUnavailable, match="unknown local runtime"):
        load_chat_model("local", Settings(local_runtime="vllm"))


@pytest.mark.slow
@pytest.mark.skipif(not _local_ready(), reason="local model not installed (make setup without PLAINPOLICY_SKIP_MODEL)")
def test_local_model_answers_a_dev_question_verified():
    question = "Do you sell my personal information?"  # d-engcode-sell-en
    citations = _citations("engcode", ["Wij beschouwen uw persoonlijke informatie als een essentieel onderdeel"])
    pieces, final = _run(question, "engcode", citations, verdict="no")  # "... verkopen ... niet aan derden"
    assert final.backend == "local", final.notice
    assert verify_answer(final.answer, "en", citations, question=question, company="engcode") == []
    assert pieces and "".join(pieces) == final.answer  # streamed, and what was shown is what stands
    assert "[1]" in final.answer and final.answer.lower().startswith("no")


@pytest.mark.slow
@pytest.mark.skipif(not _local_ready(), reason="local model not installed (make setup without PLAINPOLICY_SKIP_MODEL)")
def test_local_model_never_shows_an_unverified_answer():
    question = "How long do you keep my data?"  # d-sensus-retention-en: hard for a 1.5B model
    citations = _retention_citations()
    pieces, final = _run(question, "sensus", citations)
    assert "".join(pieces) == final.answer  # what was shown is what stands: nothing taken back
    assert not final.notice  # why the model's text was not used is logged, never shown
    if final.backend == "local":
        assert verify_answer(final.answer, "en", citations, question=question, company="sensus") == []
    else:
        assert final.backend == "extractive-fallback" and final.answer == "EXTRACTIVE"


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["llama-cpp", "xllamacpp"])
def test_each_runtime_streams_a_completion_and_reuses_the_prompt_prefix(runtime):
    if not _local_ready(runtime):
        pytest.skip(f"{runtime} runtime or model not installed")
    from rag.llm import load_chat_model

    model = load_chat_model("local", Settings(local_runtime=runtime))
    assert model.runtime.name == runtime
    request = {"messages": [{"role": "system", "content": "Answer in one short English sentence."},
                            {"role": "user", "content": "What colour is the sky on a clear day?"}],
               "max_tokens": 16, "temperature": 0.0, "seed": 1}
    pieces = list(model.runtime.stream(request))
    assert len(pieces) > 1 and "blue" in "".join(pieces).lower()  # streamed, piece by piece
    stream = model.runtime.stream({**request, "max_tokens": 200})
    next(stream)
    stream.close()  # stopping early frees the runtime for the next request
    assert "blue" in model.runtime.complete(request)["choices"][0]["message"]["content"].lower()


@pytest.mark.slow
@pytest.mark.skipif(not _local_ready("xllamacpp"), reason="xllamacpp runtime or model not installed")
def test_runtime_listener_is_loopback_keyed_and_refuses_cross_origin():
    import urllib.error
    import urllib.request

    from rag.llm import load_chat_model

    runtime = load_chat_model("local", Settings(local_runtime="xllamacpp")).runtime
    address = runtime.address
    assert address.startswith("http://127.0.0.1:")

    def get(path, headers):
        req = urllib.request.Request(address + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.headers

    status, _ = get("/v1/models", {})
    assert status == 401  # a random key is required, and we never hand it out
    status, headers = get("/v1/models", {"Origin": "http://evil.example", "Authorization": "Bearer guess"})
    assert status == 401
    assert headers.get("Access-Control-Allow-Origin", "") in ("", None)  # no origin is allowed


@pytest.mark.slow
@pytest.mark.skipif(not _local_ready("llama-cpp"), reason="llama-cpp-python not installed with the local model")
def test_switching_system_prompts_restores_the_read_prefix_and_changes_no_output():
    """Answers and translations take turns: the runtime restores the state of a warmed-up system
    prompt instead of reading it again; the words that come out are the same as without it."""
    from rag.runtimes import LlamaCppRuntime, get_runtime

    runtime = get_runtime("llama-cpp", str(local_model.default_model_path()), 4096, 2)
    assert isinstance(runtime, LlamaCppRuntime)
    answer_system = {"role": "system", "content": "You answer in one short sentence."}
    translate_system = {"role": "system", "content": "You translate Dutch into English."}
    for system in (translate_system, answer_system):  # the warm-ups
        runtime.complete({"messages": [system], "max_tokens": 1, "temperature": 0, "seed": 42})
    assert {translate_system["content"], answer_system["content"]} <= set(runtime._prefix_states)
    question = {"messages": [answer_system, {"role": "user", "content": "What colour is the sky?"}],
                "max_tokens": 12, "temperature": 0, "seed": 42}
    first = runtime.complete(question)["choices"][0]["message"]["content"]
    runtime.complete({"messages": [translate_system, {"role": "user", "content": "Wij verkopen niets."}],
                      "max_tokens": 12, "temperature": 0, "seed": 42})
    assert runtime._live_system == translate_system["content"]
    again = "".join(runtime.stream(question))  # restored from the answer prompt's saved state
    assert runtime._live_system == answer_system["content"]
    assert again == first
