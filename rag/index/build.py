"""Build the hybrid index (FAISS vectors + BM25 terms) from the corpus folder, reusing what has not changed."""
from __future__ import annotations

import fcntl
import hashlib
import math
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from rag.config import Settings
from rag.encode.embedder import Embedder
from rag.errors import (
    BadFileError,
    CorpusError,
    DiskFullError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
)
from rag.index import analysis, guards, store
from rag.index.bm25 import BM25
from rag.index.store import CURRENT, ChunkTable, Index, sentence_rows  # noqa: F401  (the index's public names)
from rag.ingest import chunking, cleaning, entities, readers
from rag.ingest.chunking import chunk_document, encoding
from rag.ingest.corpus import load_document, scan

FORMAT_VERSION = 4  # 4: per-stage configs in the manifest; 3: append-only documents and sentence vectors
SERVING_STAGES = ("store", "encode", "analysis")  # a question is answered only by an index these match


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
    published: bool = True  # False: nothing changed, the previous build stays (a watch's extra event costs no swap)


def stage_configs(settings: Settings, embedder: Embedder) -> dict[str, dict]:
    """Each stage's config (version, settings, hashes of the data files it reads), saved in the manifest. A stage
    whose config changed runs again on the next build, and only what depends on it: new cleaning rules or
    chunk settings re-clean and re-chunk every file (chunks that come out the same keep their vectors), a new
    analyzer re-counts the BM25 terms, a new model re-embeds everything."""
    return {
        "store": {"version": FORMAT_VERSION},
        "ingest": {"cleaning": cleaning.config(), "readers": readers.config(), "entities": entities.config()},
        "chunking": chunking.config(settings),
        "encode": {"model": embedder.model_id, "dim": embedder.dim, "passage_prefix": settings.passage_prefix},
        "analysis": analysis.config(),
    }


def serving_stages(settings: Settings, embedder: Embedder) -> dict[str, dict]:
    """The stages a loaded index must match to answer: the question is encoded and analysed as its chunks were."""
    stages = stage_configs(settings, embedder)
    return {name: stages[name] for name in SERVING_STAGES}


def file_state(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def stale_reason(index: Index, corpus_dir: Path, stages: dict[str, dict] | None = None) -> str | None:
    """Why the index no longer matches the corpus folder (added, removed or changed files) or the stages'
    configs (a rule file edited, a chunk setting changed), or None."""
    for name, config in (stages or {}).items():
        if index.manifest["stages"].get(name) != config:
            return f"the {name} stage changed since the build (its settings, code version or data files)"
    files = {p.relative_to(corpus_dir).as_posix(): p for p in scan(corpus_dir)[0]}
    known = index.manifest["files"]
    # A file the build skipped stays skipped until it changes: it does not make the index stale.
    skipped = {n for n, meta in index.manifest.get("skipped", {}).items() if n in files and file_state(files[n]) == meta["state"]}
    if added := sorted(set(files) - set(known) - skipped):
        return f"new file {added[0]}"
    for name, meta in known.items():
        if name not in files:
            return f"{name} was removed"
        if file_state(files[name]) != meta["state"] and _sha256(files[name]) != meta["sha256"]:
            return f"{name} changed"
    return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(settings: Settings, embedder: Embedder, progress: bool = True, new_corpus: bool = False) -> BuildReport:
    """Index the corpus into a new build folder and swap it in; the old build serves until then. An index is
    only ever updated from the folder it was built from, unless `new_corpus` (`rag index --new-corpus`)."""
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    # One build at a time per index folder (say `rag index` while the server updates): the second waits.
    with open(settings.index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not new_corpus:
            guards.check_corpus(settings)
        return _build(settings, embedder, progress)


def plan(settings: Settings, old_files: dict, rechunk: bool, report: BuildReport, now: str | None = None,
         old_skipped: dict | None = None, progress: bool = False) -> tuple[list[str], list, dict, dict]:
    """(kept file names, fresh documents, file name → manifest entry, skipped file → its state and reason): which
    files of the corpus folder the previous build (its manifest's `files`) still holds as they are, which must be
    read and chunked, and which cannot be read (a file skipped before and unchanged is not read again)."""
    now = now or time.strftime("%Y-%m-%dT%H:%M:%S")
    old_skipped = old_skipped or {}
    kept, fresh_docs, meta, skipped = [], [], {}, {}
    files, problems = scan(settings.corpus_dir)
    report.problems.extend(problems)
    for path in files:
        name = path.relative_to(settings.corpus_dir).as_posix()
        if name in old_files and old_files[name]["state"] == file_state(path) and not rechunk:
            kept.append(name)  # same size and mtime: not even read
            meta[name] = old_files[name]
            continue
        if name in old_skipped and old_skipped[name]["state"] == file_state(path) and not rechunk:
            report.problems.append(old_skipped[name]["reason"])  # still broken: said again, not read again
            skipped[name] = old_skipped[name]
            continue
        try:
            doc = load_document(path, settings.corpus_dir, int(settings.max_file_mb * 2**20), settings.max_line_chars)
        except BadFileError as e:
            if name not in old_files:
                report.problems.append(str(e))
                skipped[name] = {"state": file_state(path), "reason": str(e)}
                continue
            report.problems.append(f"{e} (kept the version indexed before)")
            # The broken bytes' size/mtime are recorded so the index is not "stale" on every start.
            kept.append(name)
            meta[name] = {**old_files[name], "state": file_state(path), "kept_after_error": True}
            continue
        meta[name] = {"sha256": doc.sha256, "state": file_state(path), "indexed_at": now}
        if name in old_files and old_files[name]["sha256"] == doc.sha256 and not rechunk:
            kept.append(name)  # touched, same bytes
            meta[name]["indexed_at"] = old_files[name].get("indexed_at", now)
        else:
            fresh_docs.append(doc)
    if not meta:
        raise CorpusError(f"no readable articles in {settings.corpus_dir}: " + "; ".join(report.problems))
    # Named entities only for what is indexed anew: a touched file with the same bytes is not tagged again.
    return kept, entities.tagged(fresh_docs, progress), meta, skipped


def _build(settings: Settings, embedder: Embedder, progress: bool) -> BuildReport:
    """Unchanged files keep their chunks, vectors and postings; only new or changed files are read,
    chunked and embedded, and their chunks go after the kept ones."""
    t0 = time.perf_counter()
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    report = BuildReport()
    stages = stage_configs(settings, embedder)
    old = _load_quietly(settings, stages)
    old_stages = old.manifest["stages"] if old else {}
    # New cleaning rules or chunk settings: every file is read and chunked again (vectors are reused below).
    rechunk = any(old_stages.get(name) != stages[name] for name in ("ingest", "chunking"))
    old_files = old.manifest["files"] if old else {}
    old_skipped = old.manifest.get("skipped", {}) if old else {}
    kept, fresh_docs, meta, skipped = plan(settings, old_files, rechunk, report, now, old_skipped, progress)
    if (old is not None and meta == old_files and old_stages == stages and skipped == old_skipped
            and old.manifest.get("corpus_dir") == str(settings.corpus_dir)):
        report.documents, report.chunks, report.reused_documents = len(meta), len(old.chunks), len(kept)
        report.published, report.seconds = False, time.perf_counter() - t0
        return report

    enc = encoding(settings.tiktoken_encoding, settings.cache_dir)
    fits = lambda text: embedder.count_tokens(text, passage=True) <= embedder.max_tokens  # noqa: E731
    fresh = [c for d in fresh_docs for c in chunk_document(d, enc, settings.chunk_tokens, settings.chunk_overlap_sentences, fits)]
    kept_set = set(kept)
    docs = {n: d for n, d in (old.documents.items() if old else ()) if n in kept_set}
    docs.update((d.source, d) for d in fresh_docs)
    rows = np.zeros(0, np.int64)  # the previous build's chunks that stay
    if old:
        rows = np.flatnonzero(np.array([n in kept_set for n in old.chunks.sources])[old.chunks.doc])
    # Nothing of the previous build dropped: its files are extended, not rewritten.
    appending = old is not None and len(rows) == len(old.chunks)
    chunks = old.chunks.take_then(rows, ChunkTable.of(fresh, docs), docs) if old else ChunkTable.of(fresh, docs)

    guards.check_space(settings, embedder.dim, fresh_docs, fresh, chunks, appending)
    build_dir = store.new_build(settings.index_dir, old if appending else None)
    try:
        documents_bytes = store.append_documents(build_dir, fresh_docs if appending else docs.values())
        if old is not None and not appending:
            for part in np.array_split(sentence_rows(old.sentence_rows, rows), max(1, len(rows) // settings.build_slice_chunks)):
                store.append_sentences(build_dir, old.sentence_vectors[part])
        reuse = _reusable(old, fresh) if rechunk and old is not None else {}
        vectors, terms, report.embedded_chunks = _embed(settings, embedder, fresh, build_dir, progress, reuse, old)
        main, delta, report.incremental = _dense(settings, embedder.dim, old, rows, vectors, appending)
        del vectors  # the index holds its own copy; at 100k chunks this is 150 MB less at the build's peak
        if old is not None and old_stages.get("analysis") != stages["analysis"]:
            # A new analyzer: the kept chunks' terms are counted again (their vectors stay).
            bm25 = BM25.build([analysis.terms(old.chunks[int(r)].search_text) for r in rows]).extend(terms)
        else:
            bm25 = (old.bm25 if appending else old.bm25.keep(rows) if old else BM25.build([])).extend(terms)
        words = Counter(old.words) if old else Counter()
        for name, doc in (old.documents.items() if old else ()):
            if name not in kept_set:
                words.subtract(analysis.words(doc.text))
        for doc in fresh_docs:
            words.update(analysis.words(doc.text))
        manifest = {
            "stages": stages,
            "dim": embedder.dim,
            "built_at": now,
            "corpus_dir": str(settings.corpus_dir),
            "documents": len(docs),
            "chunks": len(chunks),
            "dense_index": _kind(main if main is not None else old.dense_main),
            "rows": {"documents_bytes": documents_bytes, "sentences": int(chunks.sentence_ptr[-1])},
            "files": dict(sorted(meta.items())),
            "skipped": dict(sorted(skipped.items())),
        }
        store.publish(settings.index_dir, build_dir, manifest, chunks, main, delta, bm25, +words, old)
    except BaseException as e:
        store.abandon(settings.index_dir, build_dir, old if appending else None)
        if guards.disk_full(e):
            raise DiskFullError(f"the disk of {settings.index_dir} is full ({e}): the old index still serves; "
                                "free some space and run `rag index` again") from None
        raise
    report.documents, report.chunks = len(docs), len(chunks)
    report.reused_documents, report.dense_index = len(kept), manifest["dense_index"]
    report.seconds = time.perf_counter() - t0
    return report


def _reusable(old: Index, fresh) -> dict[int, int]:
    """Fresh chunk number → the previous build's row of the same chunk (same file, text and sentence cuts), whose
    vectors are the same: after a rule or chunk-setting change only the chunks that really changed are embedded."""
    wanted = {c.source for c in fresh}
    by_key = {}
    for row in range(len(old.chunks)):
        if old.chunks.sources[old.chunks.doc[row]] in wanted:
            c = old.chunks[row]
            by_key[(c.source, c.search_text, tuple((a - c.start, b - c.start) for a, b in c.sentences))] = row
    keys = ((c.source, c.search_text, tuple((a - c.start, b - c.start) for a, b in c.sentences)) for c in fresh)
    return {i: by_key[k] for i, k in enumerate(keys) if k in by_key}


def _embed(settings: Settings, embedder: Embedder, fresh, build_dir: Path, progress: bool,
           reuse: dict[int, int] | None = None, old: Index | None = None) -> tuple[np.ndarray, list, int]:
    """Chunk vectors and BM25 terms of the fresh chunks, and how many were embedded; their sentence vectors go
    straight to the build's file, a slice at a time, so a large build holds no more than its chunk vectors
    (sentences are ~4× bigger). Chunks in `reuse` take the previous build's vectors of the same chunk."""
    vectors = np.zeros((len(fresh), embedder.dim), np.float32)
    terms = []
    reuse = reuse or {}
    old_vectors = _all_vectors(old.dense) if reuse else None
    embedded = 0
    # A slice's BM25 terms (pymorphy3, pure Python) are found in a second thread while the encoder, which lets go
    # of the GIL, embeds it.
    with tqdm(total=len(fresh), desc="embedding", unit="chunk", disable=not progress or not fresh) as bar, \
            ThreadPoolExecutor(1) as analyser:
        pending = []
        for i in range(0, len(fresh), settings.build_slice_chunks):
            part = fresh[i : i + settings.build_slice_chunks]
            pending.append(analyser.submit(_terms, part))
            new = [j for j in range(len(part)) if i + j not in reuse]
            chunk_vecs, new_sentences = embedder.embed_chunks(
                [part[j].search_text for j in new],
                [[(a - part[j].start + part[j].search_offset, b - part[j].start + part[j].search_offset) for a, b in part[j].sentences] for j in new],
            ) if new else (np.zeros((0, embedder.dim), np.float32), np.zeros((0, embedder.dim), store.SENTENCE_DTYPE))
            embedded += len(new)
            sentences, offset, at = [], 0, {j: n for n, j in enumerate(new)}
            for j, c in enumerate(part):
                if j in at:
                    vectors[i + j] = chunk_vecs[at[j]]
                    sentences.append(new_sentences[offset : offset + len(c.sentences)])
                    offset += len(c.sentences)
                else:
                    row = reuse[i + j]
                    vectors[i + j] = old_vectors[row]
                    sentences.append(old.sentence_vectors[old.sentence_rows[row] : old.sentence_rows[row + 1]])
            store.append_sentences(build_dir, np.vstack(sentences) if sentences else new_sentences)
            bar.update(len(part))
        for slice_terms in pending:
            terms.extend(slice_terms.result())
    return vectors, terms, embedded


def _terms(chunks: list[Chunk]) -> list[list[str]]:
    """The chunks' BM25 terms, interned: the same term in 100k chunks is one string, not 100k."""
    return [[sys.intern(t) for t in analysis.terms(c.search_text)] for c in chunks]


def _dense(settings: Settings, dim: int, old: Index | None, rows: np.ndarray, fresh: np.ndarray, appending: bool):
    """(main index or None to keep the previous one, delta index or None, incremental): exact search below
    `ann_min_chunks`, an inverted-file index (IVF) above; the kind is chosen again when the size crosses.
    Appended vectors go to a small exact delta index until it outgrows `dense_delta_share` of the main one."""
    total = len(rows) + len(fresh)
    if appending and _kind(old.dense_main) == _wanted_kind(settings, total, old.dense_main):
        added = np.vstack([_all_vectors(old.dense_delta), fresh]) if old.dense_delta is not None else fresh
        if not len(added):
            return None, None, True
        if len(added) <= settings.dense_delta_share * old.dense_main.ntotal:
            delta = faiss.IndexFlatIP(dim)
            delta.add(added)
            return None, delta, True
        main = faiss.read_index(str(old.path / store.DENSE))  # into memory: it grows now
        main.add(added)
        return main, None, True
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
    return dense, None, False


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
    """Every vector of a loaded index, main and delta, in id order."""
    if isinstance(dense, faiss.IndexShards):
        return np.vstack([_all_vectors(faiss.downcast_index(dense.at(i))) for i in range(dense.count())])
    if ivf := faiss.try_extract_index_ivf(dense):
        ivf.make_direct_map()  # IVF lists are stored by cluster: map ids back to places to read vectors
    return dense.reconstruct_n(0, dense.ntotal)


def _load_quietly(settings: Settings, stages: dict[str, dict]) -> Index | None:
    """The previous build if its vectors can be reused (same store format and model), else None (a full rebuild)."""
    try:
        return load(settings.index_dir, {name: stages[name] for name in ("store", "encode")}, settings)
    except (IndexMissingError, IndexCorruptError, IndexMismatchError):
        return None


def load(index_dir: Path, expected: dict | None = None, settings: Settings | None = None, mmap: bool = True) -> Index:
    """Load the live build (see `store.load`), its IVF probing the share of lists the settings ask for."""
    return store.load(index_dir, expected, (lambda lists: probes(settings, lists)) if settings else None, mmap)
