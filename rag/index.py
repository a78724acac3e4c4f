"""Build, save and load the hybrid index (FAISS vectors + BM25 terms) with a manifest that guards it."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import bm25s
import faiss
import numpy as np

from . import analysis
from .chunking import Chunk, chunk_document, encoding
from .config import Settings
from .corpus import Document, find_files, load_document
from .embeddings import Embedder
from .errors import BadFileError, CorpusError, IndexCorruptError, IndexMismatchError, IndexMissingError

FORMAT_VERSION = 1
ANALYZER_VERSION = "pymorphy3+snowball-1"  # bump when analysis.terms changes: BM25 terms must be rebuilt
CHUNKER_VERSION = "razdel-dateline-1"  # bump when cleaning or chunking changes: chunks must be rebuilt
CURRENT = "current"  # symlink to the live build; replacing a symlink is atomic


@dataclass
class Index:
    """Everything retrieval needs, loaded from one build folder. Row i of every part is chunk i."""

    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    dense: faiss.Index
    bm25: bm25s.BM25
    words: dict[str, int]  # word form → count, for spelling correction of questions
    path: Path


@dataclass
class BuildReport:
    """What a build did, for the CLI and the benchmark."""

    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    reused_documents: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def expected_settings(settings: Settings, embedder_id: str, dim: int) -> dict:
    """The settings an index is tied to; loading refuses an index built with others."""
    return {
        "format_version": FORMAT_VERSION,
        "embedder": embedder_id,
        "dim": dim,
        "passage_prefix": settings.passage_prefix,
        "tiktoken_encoding": settings.tiktoken_encoding,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_sentences": settings.chunk_overlap_sentences,
        "max_embed_tokens": settings.max_embed_tokens,
        "analyzer": ANALYZER_VERSION,
        "chunker": CHUNKER_VERSION,
    }


def file_state(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def stale_reason(index: Index, corpus_dir: Path) -> str | None:
    """Why the index no longer matches the corpus folder (added, removed or changed files), or None."""
    files = {p.relative_to(corpus_dir).as_posix(): p for p in find_files(corpus_dir)}
    known = index.manifest["files"]
    if added := sorted(set(files) - set(known)):
        return f"new file {added[0]}"
    for name, meta in known.items():
        if name not in files:
            return f"{name} was removed"
        if file_state(files[name]) != meta["state"] and _sha256(files[name]) != meta["sha256"]:
            return f"{name} changed"
    return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(settings: Settings, embedder: Embedder, progress: bool = True) -> BuildReport:
    """Index the corpus into a new build folder and swap it in; the old build serves until then."""
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    # One build at a time per index folder (say `rag index` while the server updates): the second waits.
    with open(settings.index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(settings, embedder, progress)


def _build(settings: Settings, embedder: Embedder, progress: bool) -> BuildReport:
    t0 = time.perf_counter()
    report = BuildReport()
    index_dir = settings.index_dir
    old = _load_quietly(settings, embedder)
    old_docs = _reusable(old) if old else {}
    enc = encoding(settings.tiktoken_encoding, settings.cache_dir)
    fits = lambda text: embedder.count_tokens(text, passage=True) <= embedder.max_tokens  # noqa: E731

    files = find_files(settings.corpus_dir)
    docs, chunks, vectors, meta = [], [], [], {}
    to_embed: list[int] = []
    for path in files:
        name = path.relative_to(settings.corpus_dir).as_posix()
        try:
            doc = load_document(path, settings.corpus_dir)
            state = {"sha256": doc.sha256, "state": file_state(path)}
        except BadFileError as e:
            if name not in old_docs:
                report.problems.append(str(e))
                continue
            report.problems.append(f"{e} (kept the version indexed before)")
            # The broken bytes' size/mtime are recorded so the index is not "stale" on every start.
            doc, state = old_docs[name][0], {**old.manifest["files"][name], "state": file_state(path), "kept_after_error": True}
        meta[name] = state
        docs.append(doc)
        if name in old_docs and old_docs[name][0].sha256 == doc.sha256:
            _, old_chunks, old_vecs = old_docs[name]
            chunks += old_chunks
            vectors += list(old_vecs)
            report.reused_documents += 1
        else:
            for c in chunk_document(doc, enc, settings.chunk_tokens, settings.chunk_overlap_sentences, fits):
                to_embed.append(len(chunks))
                chunks.append(c)
                vectors.append(None)
    if not docs:
        raise CorpusError(f"no readable articles in {settings.corpus_dir}: " + "; ".join(report.problems))

    fresh = embedder.embed_passages([chunks[i].text for i in to_embed], progress=progress)
    for row, i in zip(fresh, to_embed):
        vectors[i] = row
    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, embedder.dim), np.float32)

    dense = faiss.IndexFlatIP(embedder.dim)
    dense.add(matrix)
    bm25 = bm25s.BM25()
    bm25.index([analysis.terms(c.text) for c in chunks], show_progress=False)

    manifest = {
        **expected_settings(settings, embedder.model_id, embedder.dim),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "corpus_dir": str(settings.corpus_dir),
        "documents": len(docs),
        "chunks": len(chunks),
        "files": meta,
    }
    words = Counter(w for d in docs for w in analysis.words(d.text))
    _write_build(index_dir, manifest, docs, chunks, dense, bm25, words)
    report.documents, report.chunks, report.embedded_chunks = len(docs), len(chunks), len(to_embed)
    report.seconds = time.perf_counter() - t0
    return report


def _reusable(index: Index) -> dict[str, tuple[Document, list[Chunk], np.ndarray]]:
    """Per source file: its document, chunks and vectors from the previous build."""
    vectors = index.dense.reconstruct_n(0, index.dense.ntotal)
    by_source: dict[str, list[int]] = {}
    for i, c in enumerate(index.chunks):
        by_source.setdefault(c.source, []).append(i)
    return {
        name: (doc, [index.chunks[i] for i in by_source.get(name, [])], vectors[by_source.get(name, [])])
        for name, doc in index.documents.items()
    }


def _load_quietly(settings: Settings, embedder: Embedder) -> Index | None:
    """The previous build if it is usable with these settings, else None (a full rebuild)."""
    try:
        return load(settings.index_dir, expected_settings(settings, embedder.model_id, embedder.dim))
    except (IndexMissingError, IndexCorruptError, IndexMismatchError):
        return None


def _write_build(index_dir: Path, manifest: dict, docs, chunks, dense, bm25, words) -> None:
    """Write into a fresh folder, then point `current` at it in one atomic rename."""
    build_dir = index_dir / f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    build_dir.mkdir()
    try:
        with open(build_dir / "documents.jsonl", "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
        with open(build_dir / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps({k: v for k, v in asdict(c).items() if k != "text"}, ensure_ascii=False) + "\n")
        faiss.write_index(dense, str(build_dir / "dense.faiss"))
        bm25.save(str(build_dir / "bm25"), show_progress=False)
        (build_dir / "words.json").write_text(json.dumps(words, ensure_ascii=False))
        (build_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        link = index_dir / f".{CURRENT}.tmp"
        link.unlink(missing_ok=True)
        link.symlink_to(build_dir.name)
        previous = (index_dir / CURRENT).resolve() if (index_dir / CURRENT).exists() else None
        link.replace(index_dir / CURRENT)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    for stale in index_dir.glob("build-*"):
        if stale.resolve() not in (build_dir.resolve(), previous):
            shutil.rmtree(stale, ignore_errors=True)
    if previous and previous != build_dir.resolve():
        shutil.rmtree(previous, ignore_errors=True)


def load(index_dir: Path, expected: dict | None = None) -> Index:
    """Load the live build; refuse one built with settings other than `expected`."""
    path = index_dir / CURRENT
    manifest_file = path / "manifest.json"
    if not manifest_file.exists():
        raise IndexMissingError(f"no index in {index_dir}: run `rag index` to build it")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"{manifest_file} is damaged ({e}): run `rag index` to rebuild the index") from e
    if expected:
        for key, value in expected.items():
            if manifest.get(key) != value:
                raise IndexMismatchError(
                    f"index in {index_dir} was built with {key}={manifest.get(key)!r}, not {value!r}: run `rag index`"
                )
    current_file = manifest_file
    try:
        current_file = path / "documents.jsonl"
        documents = {}
        for line in current_file.read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            documents[d["source"]] = Document(**{**d, "paragraphs": [tuple(p) for p in d["paragraphs"]]})
        current_file = path / "chunks.jsonl"
        chunks = []
        for line in current_file.read_text(encoding="utf-8").splitlines():
            c = json.loads(line)
            text = documents[c["source"]].text[c["start"] : c["end"]]
            chunks.append(Chunk(**{**c, "text": text, "sentences": tuple(tuple(s) for s in c["sentences"])}))
        current_file = path / "dense.faiss"
        dense = faiss.read_index(str(current_file))
        current_file = path / "bm25"
        bm25 = bm25s.BM25.load(str(current_file), allow_pickle=False)
        current_file = path / "words.json"
        words = json.loads(current_file.read_text(encoding="utf-8"))
    except Exception as e:  # any damage to any part means the same thing to the user
        raise IndexCorruptError(f"{current_file} is damaged ({type(e).__name__}): run `rag index` to rebuild") from e
    if not (len(chunks) == dense.ntotal == manifest["chunks"]):
        raise IndexCorruptError(f"{path} holds {dense.ntotal} vectors for {len(chunks)} chunks: run `rag index`")
    return Index(manifest, documents, chunks, dense, bm25, words, path.resolve())
