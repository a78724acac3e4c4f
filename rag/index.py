"""Build, save and load the hybrid index (FAISS vectors + BM25 terms) with a manifest that guards it."""
from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from . import analysis
from .bm25 import BM25
from .chunking import Chunk, chunk_document, encoding
from .config import Settings
from .corpus import Document, find_files, load_document
from .embeddings import Embedder
from .errors import BadFileError, CorpusError, IndexCorruptError, IndexMismatchError, IndexMissingError

FORMAT_VERSION = 2  # 2: own BM25 postings, late-chunking sentence vectors, compact chunks.jsonl
ANALYZER_VERSION = "pymorphy3+snowball-1"  # bump when analysis.terms changes: BM25 terms must be rebuilt
CHUNKER_VERSION = "razdel-dateline-1"  # bump when cleaning or chunking changes: chunks must be rebuilt
CURRENT = "current"  # symlink to the live build; replacing a symlink is atomic


class ChunkTable(Sequence):
    """The chunks as arrays; a Chunk object is made when one is asked for (making 100k of them on every
    start cost a second of cold start)."""

    def __init__(self, sources: list[str], arrays: dict[str, np.ndarray], documents: dict[str, Document]):
        self.sources, self.documents = sources, documents
        self.doc, self.start, self.end, self.tokens = (arrays[k] for k in ("doc", "start", "end", "tokens"))
        self.sentence_ptr, self.sentence_spans = arrays["sentence_ptr"], arrays["sentence_spans"]

    @classmethod
    def of(cls, chunks: list[Chunk], documents: dict[str, Document]) -> ChunkTable:
        sources = list(dict.fromkeys(c.source for c in chunks))
        number = {s: i for i, s in enumerate(sources)}
        ptr = np.zeros(len(chunks) + 1, np.int64)
        np.cumsum([len(c.sentences) for c in chunks], out=ptr[1:])
        arrays = {
            "doc": np.array([number[c.source] for c in chunks], np.int32),
            "start": np.array([c.start for c in chunks], np.int64),
            "end": np.array([c.end for c in chunks], np.int64),
            "tokens": np.array([c.tokens for c in chunks], np.int32),
            "sentence_ptr": ptr,
            "sentence_spans": np.array([s for c in chunks for s in c.sentences], np.int64).reshape(-1, 2),
        }
        return cls(sources, arrays, documents)

    def take_then(self, rows: np.ndarray, fresh: ChunkTable, documents: dict[str, Document]) -> ChunkTable:
        """Chunks `rows` of this table followed by all of `fresh`, as one table."""
        sources = list(dict.fromkeys([self.sources[d] for d in np.unique(self.doc[rows])] + fresh.sources))
        number = {s: i for i, s in enumerate(sources)}
        renumber = lambda table: np.array([number.get(s, -1) for s in table.sources], np.int32)  # noqa: E731
        lengths = np.concatenate([np.diff(self.sentence_ptr)[rows], np.diff(fresh.sentence_ptr)])
        ptr = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=ptr[1:])
        arrays = {
            "doc": np.concatenate([renumber(self)[self.doc[rows]], renumber(fresh)[fresh.doc]]),
            **{k: np.concatenate([getattr(self, k)[rows], getattr(fresh, k)]) for k in ("start", "end", "tokens")},
            "sentence_ptr": ptr,
            "sentence_spans": np.concatenate([self.sentence_spans[sentence_rows(self.sentence_ptr, rows)], fresh.sentence_spans]),
        }
        return ChunkTable(sources, arrays, documents)

    def save(self, folder: Path) -> None:
        folder.mkdir()
        (folder / "sources.json").write_text(json.dumps(self.sources, ensure_ascii=False), encoding="utf-8")
        for name in ("doc", "start", "end", "tokens", "sentence_ptr", "sentence_spans"):
            np.save(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path, documents: dict[str, Document]) -> ChunkTable:
        sources = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
        arrays = {n: np.load(folder / f"{n}.npy") for n in ("doc", "start", "end", "tokens", "sentence_ptr", "sentence_spans")}
        table = cls(sources, arrays, documents)
        if not len(table.doc) == len(table.start) == len(table.end) == len(table.sentence_ptr) - 1 or any(
            s not in documents for s in sources
        ):
            raise ValueError("chunk arrays do not match each other or the documents")
        return table

    def __len__(self) -> int:
        return len(self.doc)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i = i % len(self)
        source = self.sources[self.doc[i]]
        start, end = int(self.start[i]), int(self.end[i])
        spans = self.sentence_spans[self.sentence_ptr[i] : self.sentence_ptr[i + 1]]
        return Chunk(source, start, end, self.documents[source].text[start:end],
                     tuple((int(a), int(b)) for a, b in spans), int(self.tokens[i]))


def sentence_rows(ptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The sentence rows of chunks `rows`, in order, given each chunk's first row ptr[i] (ptr[-1] = total)."""
    lengths = ptr[rows + 1] - ptr[rows]
    firsts = np.repeat(ptr[rows] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return firsts + np.arange(lengths.sum())


@dataclass
class Index:
    """Everything retrieval needs, loaded from one build folder. Row i of every chunk part is chunk i."""

    manifest: dict
    documents: dict[str, Document]
    chunks: ChunkTable
    dense: faiss.Index
    bm25: BM25
    sentence_vectors: np.ndarray  # one row per sentence of every chunk, in chunk order (float16, memory-mapped)
    words: dict[str, int]  # word form → count, for spelling correction of questions
    path: Path

    @property
    def sentence_rows(self) -> np.ndarray:
        """Chunk i's sentences are rows sentence_rows[i] .. sentence_rows[i + 1] - 1 of sentence_vectors."""
        return self.chunks.sentence_ptr


@dataclass
class BuildReport:
    """What a build did, for the CLI and the benchmark."""

    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    reused_documents: int = 0
    incremental: bool = False  # the previous build was extended in place of rebuilding its search structures
    dense_index: str = ""
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
    """Unchanged files keep their chunks, vectors and postings; only new or changed files are read,
    chunked and embedded, and their chunks go after the kept ones."""
    t0 = time.perf_counter()
    report = BuildReport()
    old = _load_quietly(settings, embedder)
    old_files = old.manifest["files"] if old else {}
    kept, fresh_docs, meta = [], [], {}
    for path in find_files(settings.corpus_dir):
        name = path.relative_to(settings.corpus_dir).as_posix()
        if name in old_files and old_files[name]["state"] == file_state(path):
            kept.append(name)  # same size and mtime: not even read
            meta[name] = old_files[name]
            continue
        try:
            doc = load_document(path, settings.corpus_dir)
        except BadFileError as e:
            if name not in old_files:
                report.problems.append(str(e))
                continue
            report.problems.append(f"{e} (kept the version indexed before)")
            # The broken bytes' size/mtime are recorded so the index is not "stale" on every start.
            kept.append(name)
            meta[name] = {**old_files[name], "state": file_state(path), "kept_after_error": True}
            continue
        meta[name] = {"sha256": doc.sha256, "state": file_state(path)}
        if name in old_files and old_files[name]["sha256"] == doc.sha256:
            kept.append(name)  # touched, same bytes
        else:
            fresh_docs.append(doc)
    if not meta:
        raise CorpusError(f"no readable articles in {settings.corpus_dir}: " + "; ".join(report.problems))

    enc = encoding(settings.tiktoken_encoding, settings.cache_dir)
    fits = lambda text: embedder.count_tokens(text, passage=True) <= embedder.max_tokens  # noqa: E731
    fresh = [c for d in fresh_docs for c in chunk_document(d, enc, settings.chunk_tokens, settings.chunk_overlap_sentences, fits)]
    vectors, sentence_vectors = embedder.embed_chunks(
        [c.text for c in fresh], [[(a - c.start, b - c.start) for a, b in c.sentences] for c in fresh], progress=progress
    )
    terms = [analysis.terms(c.text) for c in fresh]

    kept_set = set(kept)
    docs = {n: d for n, d in (old.documents.items() if old else ()) if n in kept_set}
    docs.update((d.source, d) for d in fresh_docs)
    fresh_table = ChunkTable.of(fresh, docs)
    if old:
        kept_docs = np.array([name in kept_set for name in old.chunks.sources])
        rows = np.flatnonzero(kept_docs[old.chunks.doc])
        everything_kept = len(rows) == len(old.chunks)
        chunks = old.chunks.take_then(rows, fresh_table, docs)
        old_sentences = old.sentence_vectors if everything_kept else old.sentence_vectors[sentence_rows(old.sentence_rows, rows)]
    else:
        rows, everything_kept, chunks = np.zeros(0, np.int64), False, fresh_table
        old_sentences = np.zeros((0, embedder.dim), np.float16)
    dense, report.incremental = _dense(settings, embedder.dim, old, rows, vectors, everything_kept)
    bm25 = (old.bm25 if everything_kept else old.bm25.keep(rows) if old else BM25.build([])).extend(terms)
    sentences = np.concatenate([old_sentences, sentence_vectors])
    words = Counter(old.words) if old else Counter()
    for name, doc in (old.documents.items() if old else ()):
        if name not in kept_set:
            words.subtract(analysis.words(doc.text))
    for doc in fresh_docs:
        words.update(analysis.words(doc.text))
    words = +words  # drops the words whose count fell to zero

    manifest = {
        **expected_settings(settings, embedder.model_id, embedder.dim),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "corpus_dir": str(settings.corpus_dir),
        "documents": len(docs),
        "chunks": len(chunks),
        "dense_index": _kind(dense),
        "files": dict(sorted(meta.items())),
    }
    _write_build(settings.index_dir, manifest, list(docs.values()), chunks, dense, bm25, sentences, words)
    report.documents, report.chunks, report.embedded_chunks = len(docs), len(chunks), len(fresh)
    report.reused_documents, report.dense_index = len(kept), manifest["dense_index"]
    report.seconds = time.perf_counter() - t0
    return report


def _dense(settings: Settings, dim: int, old: Index | None, rows: np.ndarray, fresh: np.ndarray, extend: bool):
    """The vector index for kept + fresh chunks, and whether the old one was extended: exact search below
    `ann_min_chunks`, an inverted-file index (IVF) above; the kind is chosen again when the size crosses."""
    total = len(rows) + len(fresh)
    if extend and _kind(old.dense) == _wanted_kind(settings, total, old.dense):
        old.dense.add(fresh)
        return old.dense, True
    vectors = fresh
    if old is not None and len(rows):
        vectors = np.vstack([_all_vectors(old.dense)[rows], fresh])
    if total < settings.ann_min_chunks:
        dense = faiss.IndexFlatIP(dim)
    else:
        lists = max(1, int(settings.ann_lists_per_sqrt * math.sqrt(total)))
        dense = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        # k-means on a sample: enough points per list for stable centroids, seconds instead of minutes.
        sample = np.random.default_rng(0).permutation(total)[: lists * settings.ann_train_per_list]
        dense.train(vectors[np.sort(sample)])
        dense.nprobe = probes(settings, lists)
    dense.add(vectors)
    return dense, False


def probes(settings: Settings, lists: int) -> int:
    return max(1, math.ceil(settings.ann_probe_share * lists))


def _kind(dense: faiss.Index) -> str:
    ivf = faiss.try_extract_index_ivf(dense)
    return f"ivf{ivf.nlist}" if ivf else "flat"


def _wanted_kind(settings: Settings, total: int, current: faiss.Index) -> str:
    """Flat below the threshold; above it, the current IVF while its list count still fits the size."""
    if total < settings.ann_min_chunks:
        return "flat"
    ivf = faiss.try_extract_index_ivf(current)
    lists = settings.ann_lists_per_sqrt * math.sqrt(total)
    return _kind(current) if ivf and lists / 2 <= ivf.nlist <= lists * 2 else f"ivf{int(lists)}"


def _all_vectors(dense: faiss.Index) -> np.ndarray:
    if ivf := faiss.try_extract_index_ivf(dense):
        ivf.make_direct_map()  # IVF lists are stored by cluster: map ids back to places to read vectors
    return dense.reconstruct_n(0, dense.ntotal)


def _load_quietly(settings: Settings, embedder: Embedder) -> Index | None:
    """The previous build if it is usable with these settings, else None (a full rebuild)."""
    try:
        return load(settings.index_dir, expected_settings(settings, embedder.model_id, embedder.dim), settings, mmap=False)
    except (IndexMissingError, IndexCorruptError, IndexMismatchError):
        return None


def _write_build(index_dir: Path, manifest: dict, docs, chunks, dense, bm25, sentences, words) -> None:
    """Write into a fresh folder, then point `current` at it in one atomic rename."""
    build_dir = index_dir / f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    build_dir.mkdir()
    try:
        with open(build_dir / "documents.jsonl", "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(vars(d), ensure_ascii=False) + "\n")
        chunks.save(build_dir / "chunks")
        faiss.write_index(dense, str(build_dir / "dense.faiss"))
        bm25.save(build_dir / "bm25")
        np.save(build_dir / "sentences.npy", sentences)
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


def load(index_dir: Path, expected: dict | None = None, settings: Settings | None = None, mmap: bool = True) -> Index:
    """Load the live build; refuse one built with settings other than `expected`. `mmap=False` reads the
    vectors into memory (a build extends them)."""
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
        current_file = path / "chunks"
        chunks = ChunkTable.load(current_file, documents)
        current_file = path / "dense.faiss"
        # Serving maps the vectors instead of reading them: pages load as searches touch them.
        dense = faiss.read_index(str(current_file), faiss.IO_FLAG_MMAP if mmap else 0)
        if (ivf := faiss.try_extract_index_ivf(dense)) and settings:
            ivf.nprobe = probes(settings, ivf.nlist)
        current_file = path / "bm25"
        bm25 = BM25.load(current_file)
        current_file = path / "sentences.npy"
        sentence_vectors = np.load(current_file, mmap_mode="r")
        current_file = path / "words.json"
        words = json.loads(current_file.read_text(encoding="utf-8"))
    except Exception as e:  # any damage to any part means the same thing to the user
        raise IndexCorruptError(f"{current_file} is damaged ({type(e).__name__}): run `rag index` to rebuild") from e
    if not (len(chunks) == dense.ntotal == bm25.n_docs == manifest["chunks"]) or chunks.sentence_ptr[-1] != len(sentence_vectors):
        raise IndexCorruptError(f"{path} holds {dense.ntotal} vectors for {len(chunks)} chunks: run `rag index`")
    return Index(manifest, documents, chunks, dense, bm25, sentence_vectors, words, path.resolve())
