"""The index on disk: one folder per build, `current` pointing at the live one, and the typed Index loaded from it.

The big parts only ever grow when articles are added, so they are append-only: a new build hard-links the
previous build's documents, sentence vectors and main vector index (same file, no copy), appends its rows,
and records in its manifest how many rows are its own. An older build still reads only its own rows, so it
serves until `current` is swapped, and a failed build leaves nothing the live one reads."""
from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from rag.index.bm25 import BM25
from rag.ingest.chunking import Chunk, outside_heading
from rag.ingest.corpus import Document

CURRENT = "current"  # symlink to the live build; replacing a symlink is atomic
DOCUMENTS = "documents.jsonl"  # append-only: one JSON document a line
SENTENCES = "sentences.f16"  # append-only: raw float16 rows, one per sentence of every chunk
DENSE = "dense.faiss"  # the main vector index, rewritten only when the delta grows too big
DELTA = "dense-delta.faiss"  # exact index of the vectors appended since the main one was written
SENTENCE_DTYPE = np.float16  # 2 bytes a number: 100k chunks hold ~400k sentences


class ChunkTable(Sequence):
    """The chunks as arrays; a Chunk object is made when one is asked for (making 100k of them on every
    start cost a second of cold start)."""

    ARRAYS = ("doc", "start", "end", "tokens", "sentence_ptr", "sentence_spans")

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
        for name in self.ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path, documents: dict[str, Document]) -> ChunkTable:
        sources = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
        table = cls(sources, {n: np.load(folder / f"{n}.npy") for n in cls.ARRAYS}, documents)
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
        doc = self.documents[source]
        return Chunk(source, start, end, doc.text[start:end], tuple((int(a), int(b)) for a, b in spans),
                     int(self.tokens[i]), outside_heading(doc, start))


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
    dense_main: faiss.Index
    dense_delta: faiss.Index | None  # exact index of the vectors added since the main one was written
    bm25: BM25
    sentence_vectors: np.ndarray  # one row per sentence of every chunk, in chunk order (float16, memory-mapped)
    words: dict[str, int]  # word form → count, for spelling correction of questions
    path: Path

    @cached_property
    def dense(self) -> faiss.Index:
        """Main and delta searched as one index (the delta's ids follow the main's)."""
        if self.dense_delta is None:
            return self.dense_main
        shards = faiss.IndexShards(self.dense_main.d, False, True)  # not threaded; successive ids
        shards.add_shard(self.dense_main)
        shards.add_shard(self.dense_delta)
        return shards

    @property
    def sentence_rows(self) -> np.ndarray:
        """Chunk i's sentences are rows sentence_rows[i] .. sentence_rows[i + 1] - 1 of sentence_vectors."""
        return self.chunks.sentence_ptr

    # --- The Store interface (rag/index/interface.py) ---

    @property
    def version(self) -> str:
        return self.path.name

    def published_version(self) -> str:
        return (self.path.parent / CURRENT).resolve().name

    def dense_top(self, vector: np.ndarray, n: int, sources: Collection[str] | None = None) -> list[int]:
        query = np.ascontiguousarray(vector[None, :], np.float32)
        if sources is None:
            _, ids = self.dense.search(query, n)
            return [int(i) for i in ids[0] if i >= 0]
        # Only the chosen articles' rows are scored (a selector, not a bigger search filtered afterwards).
        rows = np.flatnonzero(self._of_sources(sources))
        found = []
        for part, offset in ((self.dense_main, 0), (self.dense_delta, self.dense_main.ntotal)):
            if part is None:
                continue
            sel = faiss.IDSelectorBatch(rows[rows >= offset] - offset)
            ivf = faiss.try_extract_index_ivf(part)
            params = faiss.SearchParametersIVF(sel=sel, nprobe=ivf.nprobe) if ivf else faiss.SearchParameters(sel=sel)
            scores, ids = part.search(query, n, params=params)
            found += [(float(d), int(i) + offset) for d, i in zip(scores[0], ids[0]) if i >= 0]
        return [i for _, i in sorted(found, key=lambda p: -p[0])[:n]]

    def bm25_top(self, terms: list[str], n: int, sources: Collection[str] | None = None) -> list[int]:
        return self.bm25.top(terms, n, None if sources is None else self._of_sources(sources))

    @cached_property
    def _df(self) -> np.ndarray:
        return self.bm25.df()

    def document_frequency(self, terms: Iterable[str]) -> dict[str, int]:
        vocab = self.bm25.vocab
        return {t: int(self._df[vocab[t]]) if t in vocab else 0 for t in terms}

    def chunk_sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        ptr = self.chunks.sentence_ptr
        return {i: self.sentence_vectors[ptr[i] : ptr[i + 1]] for i in ids}

    def _of_sources(self, sources: Collection[str]) -> np.ndarray:
        """Mask over the chunks: True for those of the given articles."""
        wanted = set(sources)
        return np.array([s in wanted for s in self.chunks.sources], bool)[self.chunks.doc] if len(self.chunks) else np.zeros(0, bool)


def new_build(index_dir: Path, previous: Index | None = None) -> Path:
    """A fresh build folder; with `previous`, its append-only files are linked in and cut back to its rows
    (a build that failed after appending may have left rows no build owns)."""
    build_dir = index_dir / f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    build_dir.mkdir()
    if previous is not None:
        rows = previous.manifest["rows"]
        for name, size in ((DOCUMENTS, rows["documents_bytes"]), (SENTENCES, rows["sentences"] * _sentence_bytes(previous))):
            _link(previous.path / name, build_dir / name)
            if (build_dir / name).stat().st_size != size:
                os.truncate(build_dir / name, size)
    return build_dir


def abandon(index_dir: Path, build_dir: Path, previous: Index | None) -> None:
    """Undo a build that failed before it went live: the rows it appended to the files it shares with
    `previous` (hard links: the same files) are cut off again, and its folder is deleted. (A build killed
    outright cannot do this; the next `new_build` cuts them off.)"""
    if (index_dir / CURRENT).resolve() == build_dir.resolve():
        return  # it went live: what failed came after (deleting old builds); nothing to undo
    if previous is not None:
        rows = previous.manifest["rows"]
        for name, size in ((DOCUMENTS, rows["documents_bytes"]), (SENTENCES, rows["sentences"] * _sentence_bytes(previous))):
            try:
                if (previous.path / name).stat().st_size > size:
                    os.truncate(previous.path / name, size)
            except OSError:
                pass  # the next build's new_build cuts them off
    shutil.rmtree(build_dir, ignore_errors=True)


def append_documents(build_dir: Path, docs) -> int:
    """Append documents; returns the file's size, which the manifest records as this build's part."""
    with open(build_dir / DOCUMENTS, "a", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(vars(d), ensure_ascii=False) + "\n")
    return (build_dir / DOCUMENTS).stat().st_size


def append_sentences(build_dir: Path, vectors: np.ndarray) -> None:
    with open(build_dir / SENTENCES, "ab") as f:
        f.write(np.ascontiguousarray(vectors, SENTENCE_DTYPE).tobytes())


def publish(index_dir: Path, build_dir: Path, manifest: dict, chunks: ChunkTable, main: faiss.Index | None,
            delta: faiss.Index | None, bm25: BM25, words: dict[str, int], previous: Index | None) -> None:
    """Write the rest of the build (`main=None` links the previous main index), then point `current` at it
    in one atomic rename and delete the builds nobody can be reading any more."""
    chunks.save(build_dir / "chunks")
    if main is None:
        _link(previous.path / DENSE, build_dir / DENSE)
    else:
        faiss.write_index(main, str(build_dir / DENSE))
    if delta is not None:
        faiss.write_index(delta, str(build_dir / DELTA))
    bm25.save(build_dir / "bm25")
    (build_dir / "words.json").write_text(json.dumps(words, ensure_ascii=False))
    (build_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    link = index_dir / f".{CURRENT}.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(build_dir.name)
    link.replace(index_dir / CURRENT)
    # A process serving an older build keeps reading it: its files were read or mapped when it loaded.
    for stale in index_dir.glob("build-*"):
        if stale.resolve() != build_dir.resolve():
            shutil.rmtree(stale, ignore_errors=True)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links: a copy costs time, never correctness
        shutil.copyfile(source, target)


def _sentence_bytes(index: Index) -> int:
    return int(index.manifest["dim"]) * np.dtype(SENTENCE_DTYPE).itemsize


def load(index_dir: Path, expected: dict | None = None, nprobe=None, mmap: bool = True) -> Index:
    """Load the live build; refuse one built with settings other than `expected`. `nprobe(lists)` sets the
    IVF probes; `mmap` maps the vectors instead of reading them (pages load as searches touch them)."""
    # Resolved once: a build published while this one loads must not mix its files with this one's.
    path = (index_dir / CURRENT).resolve()
    manifest_file = path / "manifest.json"
    if not manifest_file.exists():
        raise IndexMissingError(f"no index in {index_dir}: run `rag index` to build it")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"{manifest_file} is damaged ({e}): run `rag index` to rebuild the index") from e
    for stage, config in (expected or {}).items():
        if (built := manifest.get("stages", {}).get(stage)) != config:
            raise IndexMismatchError(
                f"index in {index_dir} was built with another {stage} stage ({built!r}, now {config!r}): run `rag index`"
            )
    current_file = manifest_file
    try:
        rows = manifest["rows"]
        current_file = path / DOCUMENTS
        with open(current_file, "rb") as f:
            text = f.read(rows["documents_bytes"]).decode("utf-8")
        documents = {}
        for line in text.splitlines():
            d = json.loads(line)
            documents[d["source"]] = Document.from_dict(d)
        current_file = path / "chunks"
        chunks = ChunkTable.load(current_file, documents)
        current_file = path / DENSE
        flag = faiss.IO_FLAG_MMAP if mmap else 0
        main = faiss.read_index(str(current_file), flag)
        if (ivf := faiss.try_extract_index_ivf(main)) and nprobe:
            ivf.nprobe = nprobe(ivf.nlist)
        delta = None
        if (path / DELTA).exists():
            current_file = path / DELTA
            delta = faiss.read_index(str(current_file))
        current_file = path / "bm25"
        bm25 = BM25.load(current_file)
        current_file = path / SENTENCES
        shape = (rows["sentences"], int(manifest["dim"]))
        sentence_vectors = np.memmap(current_file, SENTENCE_DTYPE, "r", shape=shape) if shape[0] else np.zeros(shape, SENTENCE_DTYPE)
        current_file = path / "words.json"
        words = json.loads(current_file.read_text(encoding="utf-8"))
    except Exception as e:  # any damage to any part means the same thing to the user
        raise IndexCorruptError(f"{current_file} is damaged ({type(e).__name__}): run `rag index` to rebuild") from e
    index = Index(manifest, documents, chunks, main, delta, bm25, sentence_vectors, words, path)
    if not (len(chunks) == index.dense.ntotal == bm25.n_docs == manifest["chunks"]) or chunks.sentence_ptr[-1] != len(sentence_vectors):
        raise IndexCorruptError(f"{path} holds {index.dense.ntotal} vectors for {len(chunks)} chunks: run `rag index`")
    return index
