"""Build (or incrementally rebuild) the index from a folder of policy files.

Chunks are keyed by their content: a rebuild reuses the stored embedding of every chunk whose text
did not change, so an unchanged rebuild embeds nothing and an edited policy costs only its changed
chunks. New collections are written aside; the manifest switch at the end is the only visible step.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .chunk import Chunk
from .embed import embedder_names, embedder_slug, load_embedder
from .embed_cache import EmbeddingCache
from .folder import folder_digest, read_folder
from .load import PolicyText, UnreadablePolicy
from .settings import PROJECT_DIR, Settings
from .store import PolicyStore, open_for_build
from .versions import list_versions, record_version

log = logging.getLogger("plainpolicy.index")
METADATA_FILE = "policies.json"
ADD_BATCH = 256  # records per Chroma add: fewer round trips to a server
MANIFEST_VERSION = 3  # 3: evidence units and section titles are embedded at build time


def _pipeline_fingerprint() -> str:
    """The code that turns a file into chunks and citable units: when it changes, an index built by
    the old code is re-chunked at the next build (vectors of unchanged texts are reused)."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("load.py", "clean.py", "chunk.py", "tokens.py", "language.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


PIPELINE = _pipeline_fingerprint()


@dataclass
class BuildReport:
    policies: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks whose embedding had to be computed (per embedder)
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)  # one line per skipped file
    chunks_per_policy: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False

    def summary(self) -> str:
        state = " (unchanged)" if self.unchanged else ""
        return (f"indexed {self.policies} policies, {self.chunks} chunks, embedded {self.embedded}, "
                f"{self.seconds:.1f} s, skipped {len(self.skipped)} file(s){state}")


def read_metadata(folder: Path) -> dict[str, dict]:
    path = folder / METADATA_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, json.JSONDecodeError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return {}


def _display_source(policy: PolicyText) -> str:
    """Where a citation says it comes from: the file, relative to the project when inside it."""
    path = policy.path.resolve()
    try:
        return str(path.relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


def build_index(settings: Settings, policies_dir: Path | None = None, progress: bool = True,
                warn=None, on_progress=None) -> BuildReport:
    """Index every policy in the folder. `on_progress(done, total, label)` lets a UI show progress."""
    started = time.perf_counter()
    warn = warn or (lambda line: print(line, file=sys.stderr))
    folder = Path(policies_dir or settings.policies_dir)
    digest = folder_digest(folder, settings)
    quick = _unchanged_files(settings, digest, warn)
    if quick is not None:  # the same bytes as the live build: nothing to read, nothing to embed
        quick.seconds = time.perf_counter() - started
        return quick
    # Each file is read, cleaned and chunked in a worker process with a time limit: a hostile file
    # is skipped with its one line, the others are indexed (index/file_worker.py).
    parsed, skipped = read_folder(folder, settings, warn)
    policies = [p.policy for p in parsed]
    report = BuildReport(skipped=skipped)
    if not policies:
        raise UnreadablePolicy(f"no usable policy in {folder}: nothing indexed, the existing index is unchanged")
    metadata = read_metadata(folder)
    names = embedder_names(settings.embedder)

    store, old = open_for_build(settings, warn)
    companies = {}
    for item in parsed:
        p = item.policy
        meta = metadata.get(p.company, {})
        default_name = (p.path.stem if item.owner else p.company).replace("-", " ").replace("_", " ").title()
        companies[p.company] = {
            "name": meta.get("name") or item.title or default_name,
            "website": meta.get("website"),
            "source": _display_source(p),
            "kind": p.kind,
            "sha256": p.sha256,
        }
        if item.owner:  # an upload: listed only for the browser session that made it
            companies[p.company]["owner"] = item.owner
    if (old and old.get("version") == MANIFEST_VERSION and old.get("embedders") == names and old.get("chunk_tokens") == settings.chunk_tokens
            and old.get("pipeline") == PIPELINE
            and {c: v["sha256"] for c, v in old["companies"].items()} == {c: v["sha256"] for c, v in companies.items()}
            and all(n in store.collection_names() for n in old["collections"].values())):
        report.unchanged = True
        report.policies = len(policies)
        report.chunks_per_policy = {c: v["chunks"] for c, v in old["companies"].items()}
        report.chunks = sum(report.chunks_per_policy.values())
        _keep_versions(settings, store, policies, companies, old, warn)
        if old.get("files") != digest:  # the next unchanged build can then skip reading the files
            store.write_manifest({**old, "files": digest, "skipped": skipped})
        report.seconds = time.perf_counter() - started
        return report

    all_chunks: list[Chunk] = []
    for item in parsed:
        companies[item.policy.company].update(language=item.language, chunks=len(item.chunks), sections=item.sections)
        report.chunks_per_policy[item.policy.company] = len(item.chunks)
        all_chunks.extend(item.chunks)
    report.policies, report.chunks = len(policies), len(all_chunks)

    build_id = time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6]
    texts = {p.company: p.text for p in policies}
    chunk_records = [_Record(c.id, c.embed_text, c.metadata()) for c in all_chunks]
    # Evidence units (sentences, list blocks) are embedded with every embedder at build time, so that
    # picking the sentences that answer a question costs no embedding at question time (the ranker
    # takes the first embedder's similarity and the mean of the others').
    unit_records = [
        _Record(f"{c.id}:{i}", f"{c.section}\n{texts[c.company][s:e]}" if c.section else texts[c.company][s:e],
                {"company": c.company, "kind": "unit", "start": s, "end": e})
        for c in all_chunks for i, (s, e) in enumerate(c.units)
    ]
    titles = sorted({(c.company, c.section) for c in all_chunks if c.section})
    unit_records += [_Record(f"title:{company}:{i}", title, {"company": company, "kind": "title", "title": title})
                     for i, (company, title) in enumerate(titles)]
    jobs = [("chunks", name, chunk_records) for name in names] + [("units", name, unit_records) for name in names]
    bar = _progress_bar(sum(len(r) for _, _, r in jobs), progress)
    collections: dict[str, str] = {}
    done, total = 0, sum(len(r) for _, _, r in jobs)
    try:
        for kind, name, records in jobs:
            old_name = (old or {}).get("collections", {}).get(name if kind == "chunks" else f"units:{name}")
            reusable = _stored_embeddings(store, old_name)
            cache = EmbeddingCache(settings.embed_cache, embedder_slug(name)) if settings.embed_cache else None
            if cache:  # vectors of texts some earlier build (of any store) embedded
                reusable.update(cache.get_many(list({r.key for r in records if r.key not in reusable})))
            # Each distinct text is embedded once: copies of one policy under several companies,
            # and a text repeated inside a policy, share their vectors.
            missing = list({r.key: r for r in records if r.key not in reusable}.values())
            embedder = load_embedder(name) if missing else None
            fresh: dict[str, list[float]] = {}
            for i in range(0, len(missing), 16):
                batch = missing[i:i + 16]
                for record, vector in zip(batch, embedder.embed_documents([r.text for r in batch])):
                    fresh[record.key] = vector
                if cache:  # batch by batch: a build that dies keeps what it embedded
                    cache.put_many({r.key: fresh[r.key] for r in batch})
                done += len(batch)
                bar.update(len(batch))
                if on_progress:
                    on_progress(done, total, f"embedding {kind} ({name})")
            if cache:
                cache.close()
            if kind == "chunks":
                report.embedded += len(missing)
            done += len(records) - len(missing)
            bar.update(max(0, len(records) - len(missing)))
            collection_name = f"{kind}_{embedder_slug(name)}_{build_id}"  # the slug: Chroma's name rules
            collection = store.new_chunk_collection(collection_name)
            for i in range(0, len(records), ADD_BATCH):
                batch = records[i:i + ADD_BATCH]
                collection.add(ids=[r.id for r in batch], documents=[r.text for r in batch],
                               embeddings=[fresh.get(r.key) or reusable[r.key] for r in batch],
                               metadatas=[{**r.metadata, "embed_key": r.key} for r in batch])
            collections[name if kind == "chunks" else f"units:{name}"] = collection_name
    finally:
        bar.close()
    for p in policies:
        store.put_source(p.sha256, p.text)
    manifest = {
        "version": MANIFEST_VERSION, "build": build_id, "embedders": names, "collections": collections,
        "chunk_tokens": settings.chunk_tokens, "pipeline": PIPELINE, "companies": companies, "files": digest, "skipped": skipped,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    store.write_manifest(manifest)  # the switch: readers see the new index from here on
    _keep_versions(settings, store, policies, companies, old, warn)  # before the old source texts go
    _collect_garbage(store, manifest)
    report.seconds = time.perf_counter() - started
    return report


def _keep_versions(settings: Settings, store: PolicyStore, policies: list[PolicyText], companies: dict,
                   old: dict | None, warn) -> None:
    """Keep every policy's text as its newest version (index/versions.py; unchanged text adds
    nothing). A store built before versions were kept still holds the previous text in Chroma: it
    becomes version 1, so the first change after an upgrade can already be shown. A failure here
    costs only the history, never the index that was just built: it is a warning."""
    for p in policies:
        try:
            previous = (old or {}).get("companies", {}).get(p.company)
            if previous and previous.get("sha256") != p.sha256 and not list_versions(settings, p.company):
                try:
                    old_text = store.source_text(previous["sha256"])
                except Exception:  # the old text is gone: history starts now
                    old_text = None
                if old_text is not None:
                    record_version(settings, p.company, old_text, previous["sha256"], previous.get("source", ""),
                                   previous.get("kind", ""), date=(old or {}).get("built_at"))
            record_version(settings, p.company, p.text, p.sha256, companies[p.company]["source"], p.kind)
        except Exception as exc:  # disk full, server hiccup: the new index stands, the history waits
            warn(f"could not keep the earlier versions of {p.company}: {type(exc).__name__}: {exc}")


def _unchanged_files(settings: Settings, digest: str | None, warn) -> BuildReport | None:
    """A report of the live build when the folder holds byte for byte the files it was built from
    (and the same settings): 1,000 unchanged policies are then not even read again."""
    exists = settings.chroma_url or (Path(settings.store_dir) / "chroma.sqlite3").exists()
    if not digest or not exists:
        return None
    store, old = open_for_build(settings, warn)
    if not (old and old.get("files") == digest and old.get("version") == MANIFEST_VERSION
            and old.get("embedders") == embedder_names(settings.embedder)
            and old.get("chunk_tokens") == settings.chunk_tokens and old.get("pipeline") == PIPELINE
            and all(n in store.collection_names() for n in old["collections"].values())):
        return None
    report = BuildReport(skipped=list(old.get("skipped", [])), unchanged=True, policies=len(old["companies"]))
    for line in report.skipped:  # still said: the files are still there and still bad
        warn(f"skipped {line}")
    report.chunks_per_policy = {c: v["chunks"] for c, v in old["companies"].items()}
    report.chunks = sum(report.chunks_per_policy.values())
    return report


@dataclass
class _Record:
    id: str
    text: str
    metadata: dict

    @property
    def key(self) -> str:
        import hashlib

        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()


def _stored_embeddings(store: PolicyStore, collection_name: str | None) -> dict[str, list[float]]:
    if not collection_name:
        return {}
    try:
        got = store.chunk_collection(collection_name).get(include=["embeddings", "metadatas"])
    except Exception:  # the old collection is gone: embed everything again
        return {}
    return {m["embed_key"]: list(e) for m, e in zip(got["metadatas"], got["embeddings"])}


def _collect_garbage(store: PolicyStore, manifest: dict) -> None:
    """Drop collections and source texts the live manifest does not use (old or half-built ones)."""
    live = set(manifest["collections"].values())
    for name in store.collection_names():
        if name.startswith(("chunks_", "units_")) and name not in live:
            store.drop_collection(name)
    live_sources = {f"source:{c['sha256']}" for c in manifest["companies"].values()}
    store.delete_meta([i for i in store.source_ids() if i not in live_sources])


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc="embedding", unit="text", file=sys.stderr, leave=False)


def add_policy(data: bytes, filename: str, settings: Settings, on_progress=None, owner: str | None = None) -> BuildReport:
    """Add (or replace) one policy from an upload and index it. A file that cannot be read raises
    UnreadablePolicy before anything is written; a failed build removes the new file again.

    With an `owner` (a browser session's tag, index/folder.py) the file goes to that session's
    upload folder and its company is listed for that session only; without one it joins the
    policy folder like any policy (PLAINPOLICY_SHARED_UPLOADS=1)."""
    from .file_worker import parse_upload
    from .folder import upload_company_id, upload_folder

    limit = settings.max_upload_mb
    if len(data) > limit * 1024 * 1024:
        raise UnreadablePolicy(f"{Path(filename).name}: the file is {len(data) / 1024 / 1024:.2f} MB; "
                               f"the limit is {limit:g} MB")
    # Read, cleaned and chunked in a worker with a time limit, as `index build` will: a hostile
    # upload is refused here with its one line and never reaches the folder.
    parsed = parse_upload(data, filename, settings.chunk_tokens, settings.file_timeout)
    folder = Path(settings.policies_dir)
    target_dir = upload_folder(folder, owner) if owner else folder
    if owner:
        upload_company_id(owner, Path(filename))  # the id must be valid before the file lands
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / (parsed.policy.company + Path(filename).suffix.lower())
    previous = target.read_bytes() if target.exists() else None
    tmp = target.with_name(f".{target.name}.uploading")
    tmp.write_bytes(data)
    tmp.replace(target)
    try:
        return build_index(settings, folder, progress=False, warn=lambda line: None, on_progress=on_progress)
    except BaseException:
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(previous)
        raise
