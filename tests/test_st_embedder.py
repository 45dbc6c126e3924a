"""Bring your own embedder: PLAINPOLICY_EMBEDDER=st:/path/to/sentence-transformers-folder, alone and
fused with a bundled embedder, end to end (index build -> search -> exact spans), on a tiny random
BERT model that the test makes itself (no hub, no download). Needs the optional extra
(`make setup-extra`, which `make test` installs); without it only the error tests run."""
import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, make_settings
from index import embed
from index.build import build_index
from index.store import PolicyStore

COLLECTION_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")

POLICIES = {
    "acme.txt": """Acme privacy policy

1. What we collect
We collect your name, your e-mail address and your order history when you buy from our shop.

2. How long we keep your data
We keep your order history for seven years because tax law requires it. We delete your account
data within thirty days after you close your account.

3. Selling data
We never sell your personal data to third parties. We share it only with our payment provider.

4. Contact
Questions about privacy can be sent to privacy@acme.example.
""",
    "bakker.txt": """Privacyverklaring Bakker

1. Welke gegevens
Wij verwerken uw naam, uw adres en uw telefoonnummer om uw bestelling te bezorgen.

2. Bewaartermijn
Wij bewaren uw gegevens maximaal twee jaar na uw laatste bestelling.

3. Uw rechten
U kunt uw gegevens inzien, laten verbeteren of laten verwijderen via info@bakker.example.
""",
}


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("policies")
    for name, text in POLICIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def st_model(tmp_path_factory, policies) -> Path:
    """A tiny sentence-transformers model (BERT: hidden 32, 2 layers, 2 heads, random weights; a
    WordPiece vocabulary of the policies' words; mean pooling), saved as a model folder."""
    st = pytest.importorskip("sentence_transformers", reason="optional extra not installed: make setup-extra")
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    base = tmp_path_factory.mktemp("st")
    words = sorted({w for text in POLICIES.values() for w in re.findall(r"[^\W\d_]+", text.lower())})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"0123456789.,:;?!-@()", *words]
    hf = base / "hf"
    hf.mkdir()
    (hf / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(hf / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(hf)
    tokenizer.save_pretrained(hf)
    from sentence_transformers import models

    transformer = models.Transformer(str(hf), max_seq_length=128)
    dimension = getattr(transformer, "get_embedding_dimension", None) or transformer.get_word_embedding_dimension
    pooling = models.Pooling(dimension(), pooling_mode="mean")
    folder = base / "tiny-bert model"  # a space: the collection-name slug must sanitise it
    st.SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(folder))
    assert (folder / "modules.json").is_file()
    return folder


def _run(*args, env_extra: dict, home: Path, ok: bool = True):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(home), "HF_HOME": str(home / "hf"),
           "PLAINPOLICY_BACKEND": "extractive", **env_extra}
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env=env)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def _check_store(settings, expected_names):
    manifest = PolicyStore(settings).require_manifest()
    assert manifest["embedders"] == expected_names
    for key, collection in manifest["collections"].items():
        assert COLLECTION_NAME.match(collection), collection
        assert ".." not in collection
    # Manifest keys stay the embedder names; collection names carry the slug.
    assert set(manifest["collections"]) == {*expected_names, *("units:" + n for n in expected_names)}
    for name in expected_names:
        assert embed.embedder_slug(name) in manifest["collections"][name]
    return manifest


def test_st_alone_through_the_command_line(st_model, policies, tmp_path):
    store = tmp_path / "store"
    env = {"PLAINPOLICY_EMBEDDER": f"st:{st_model}"}
    built = _run("index", "build", "--policies", str(policies), "--store", str(store), "--quiet",
                 env_extra=env, home=tmp_path)
    assert "indexed 2 policies" in built.stdout
    name = "st:" + str(st_model.resolve())
    settings = make_settings(store, policies)
    _check_store(settings, [name])
    listed = _run("index", "list", "--store", str(store), env_extra=env, home=tmp_path)
    assert name in listed.stdout

    result = _run("rag", "search", "--company", "acme", "--k", "3", "--json", "--store", str(store),
                  "How long do you keep my order history?", env_extra=env, home=tmp_path)
    assert "Loading weights" not in result.stderr  # no progress bar of transformers on the command line
    out = json.loads(result.stdout)
    passages = out["passages"]
    assert passages and len(passages) <= 3
    source = (policies / "acme.txt").read_text(encoding="utf-8")
    assert all(source[p["start"]:p["end"]] == p["text"] for p in passages)
    assert any("seven years" in p["text"] for p in passages)

    # An unchanged rebuild reuses every stored vector, also through the st: name.
    again = _run("index", "build", "--policies", str(policies), "--store", str(store), "--quiet",
                 env_extra=env, home=tmp_path)
    assert "(unchanged)" in again.stdout


def test_st_fused_with_a_bundled_embedder_through_the_api(st_model, policies, tmp_path):
    from rag.chain import search, source_text

    settings = dataclasses.replace(make_settings(tmp_path / "store", policies), embedder=f"use+st:{st_model}")
    report = build_index(settings, progress=False)
    assert report.policies == 2 and report.embedded == 2 * report.chunks > 0  # counted per embedder
    name = "st:" + str(st_model.resolve())
    manifest = _check_store(settings, ["use", name])
    assert manifest["collections"]["use"].startswith("chunks_use_")  # the bundled names are unchanged
    vector = embed.load_embedder(name).embed_query("Bewaartermijn")
    assert len(vector) == 32 and abs(sum(v * v for v in vector) - 1) < 1e-4

    for company, question, expected in (("bakker", "Hoe lang bewaren jullie mijn gegevens?", "twee jaar"),
                                        ("acme", "Do you sell my data?", "never sell")):
        citations = search(company, question, settings, k=3)
        assert citations
        text = source_text(company, settings)
        assert all(text[c.start:c.end] == c.text for c in citations)
        assert any(expected in c.text for c in citations)


def test_st_name_and_slug_are_stable_for_one_folder(st_model, monkeypatch):
    name = "st:" + str(st_model.resolve())
    monkeypatch.chdir(st_model.parent)
    assert embed.embedder_names(f"st:{st_model}") == [name]
    assert embed.embedder_names(f"st:{st_model}/") == [name]
    assert embed.embedder_names(f"st:./{st_model.name}") == [name]
    assert embed.embedder_names(f" use + st:{st_model} ") == ["use", name]
    slug = embed.embedder_slug(name)
    assert slug == embed.st_slug(st_model) == embed.load_embedder(name).slug
    assert re.fullmatch(r"st-tiny-bert-model-[0-9a-f]{10}", slug)
    assert embed.embedder_slug("use") == "use" and embed.embedder_slug("e5") == "e5"


def test_missing_folder_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ValueError, match="no such model folder") as info:
        embed.embedder_names(f"use+st:{missing}")
    assert "\n" not in str(info.value) and str(missing) in str(info.value)
    with pytest.raises(ValueError, match="no such model folder"):
        embed.load_embedder(f"st:{missing}")
    with pytest.raises(ValueError, match="needs a folder"):
        embed.embedder_names("st:")
    with pytest.raises(ValueError, match="unknown embedder"):
        embed.embedder_names("use+nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a sentence-transformers model folder"):
        embed.embedder_names(f"st:{tmp_path / 'empty'}")
    # The command line says it in one line and exits non-zero, before touching the store.
    result = _run("index", "build", "--policies", str(ROOT / "policies"), "--store", str(tmp_path / "store"),
                  env_extra={"PLAINPOLICY_EMBEDDER": f"st:{missing}"}, home=tmp_path, ok=False)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no such model folder" in result.stderr
    assert not (tmp_path / "store").exists()


def test_without_the_extra_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "modules.json").write_text("[]", encoding="utf-8")
    real = embed.importlib.util.find_spec
    monkeypatch.setattr(embed.importlib.util, "find_spec",
                        lambda name, *a: None if name == "sentence_transformers" else real(name, *a))
    with pytest.raises(ValueError, match="make setup-extra"):
        embed.embedder_names(f"st:{folder}")
