"""`rag index` into the PostgreSQL store: the new and changed files are read, chunked and embedded outside any
transaction, then one transaction adds their rows, marks the rows of removed and changed files removed, and
moves the published pointer (see rag/index/pg_store.py). One build at a time: a second waits for the first."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from psycopg.types.json import Jsonb
from tqdm import tqdm

from rag.config import Settings
from rag.encode.embedder import Embedder
from rag.errors import IndexMismatchError
from rag.index import analysis
from rag.index.build import BuildReport, plan, stage_configs
from rag.index.pg_store import CHANNEL, LIVE, SCHEMA, SENTENCE_DTYPE, connect, published
from rag.ingest.chunking import Chunk, chunk_document, encoding
from rag.ingest.corpus import Document

BUILD_LOCK = 0x7261_6701  # pg_advisory_lock key: one `rag index` at a time per database


@dataclass
class FreshChunk:
    """A chunk ready for the database: its vector, its sentences' vectors and its BM25 terms."""

    chunk: Chunk
    vector: np.ndarray
    sentences: np.ndarray
    terms: list[str]


def build(settings: Settings, embedder: Embedder, progress: bool = True) -> BuildReport:
    """Bring the store up to date with the corpus folder and publish the result."""
    t0 = time.perf_counter()
    report = BuildReport()
    stages = stage_configs(settings, embedder)
    with connect(settings.store, "rag index", settings.pg_ef_search) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (BUILD_LOCK,))  # released when the connection ends
        ensure_schema(conn, embedder.dim)
        old = published(conn)
        # Same stages: unchanged files keep their rows. Any stage changed: everything is read and embedded again
        # (the old rows serve until the new build is published).
        keep_rows = old is not None and old[1]["stages"] == stages
        kept, fresh_docs, meta, _ = plan(settings, old[1]["files"] if keep_rows else {}, False, report, progress=progress)
        enc = encoding(settings.tiktoken_encoding, settings.cache_dir)
        fits = lambda text: embedder.count_tokens(text, passage=True) <= embedder.max_tokens  # noqa: E731
        chunks = [[c for c in chunk_document(d, enc, settings.chunk_tokens, settings.chunk_overlap_sentences, fits)] for d in fresh_docs]
        fresh = embed(settings, embedder, [c for cs in chunks for c in cs], progress)
        it = iter(fresh)
        by_doc = [(d, [next(it) for _ in cs]) for d, cs in zip(fresh_docs, chunks)]
        manifest = {"stages": stages, "dim": embedder.dim, "corpus_dir": str(settings.corpus_dir), "dense_index": "hnsw",
                    "files": dict(sorted(meta.items()))}
        counts = write_build(conn, manifest, kept, by_doc, old[0] if old else None)
    report.documents, report.chunks = counts
    report.embedded_chunks, report.reused_documents = len(fresh), len(kept)
    report.incremental, report.dense_index = keep_rows, "hnsw"
    report.seconds = time.perf_counter() - t0
    return report


def embed(settings: Settings, embedder: Embedder, chunks: list[Chunk], progress: bool) -> list[FreshChunk]:
    out = []
    with tqdm(total=len(chunks), desc="embedding", unit="chunk", disable=not progress or not chunks) as bar:
        for i in range(0, len(chunks), settings.build_slice_chunks):
            part = chunks[i : i + settings.build_slice_chunks]
            vectors, sentences = embedder.embed_chunks([c.text for c in part], [[(a - c.start, b - c.start) for a, b in c.sentences] for c in part])
            at = 0
            for c, v in zip(part, vectors):
                out.append(FreshChunk(c, v, sentences[at : at + len(c.sentences)], analysis.terms(c.text)))
                at += len(c.sentences)
            bar.update(len(part))
    return out


def ensure_schema(conn, dim: int) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (BUILD_LOCK + 1,))  # two first builds create it once
        conn.execute(SCHEMA.format(dim=int(dim)))
    have = conn.execute("SELECT atttypmod FROM pg_attribute WHERE attrelid = 'rag_chunks'::regclass AND attname = 'embedding'").fetchone()[0]
    if have != dim:
        raise IndexMismatchError(
            f"the store holds {have}-number vectors and this model makes {dim}: point RAG_STORE at an empty database "
            "(or drop its rag_* tables) to index with it")


def write_build(conn, manifest: dict, kept: Iterable[str], fresh: list[tuple[Document, list[FreshChunk]]],
                previous: int | None) -> tuple[int, int]:
    """One transaction: the new build's rows, the removed files' rows marked, the published pointer moved (and
    every server told). Then the rows no reader can need any more are deleted. Returns (documents, chunks)."""
    kept = list(kept)
    with conn.transaction():
        build = conn.execute("SELECT nextval('rag_build_ids')").fetchone()[0]
        v = {"v": previous or 0, "b": build, "kept": kept}
        if previous is not None:
            conn.execute(f"UPDATE rag_documents SET removed = %(b)s WHERE {LIVE} AND NOT source = ANY(%(kept)s)", v)
            conn.execute("UPDATE rag_chunks SET removed = %(b)s WHERE document IN (SELECT id FROM rag_documents WHERE removed = %(b)s)", v)
        n_chunks = sum(len(cs) for _, cs in fresh)
        ids = [r[0] for r in conn.execute("SELECT nextval('rag_row_ids') FROM generate_series(1, %s)", (len(fresh) + n_chunks,))]
        _copy(conn, build, fresh, iter(sorted(ids)))
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM rag_documents WHERE added <= %(b)s AND (removed IS NULL OR removed > %(b)s)), "
            "(SELECT count(*) FROM rag_chunks WHERE added <= %(b)s AND (removed IS NULL OR removed > %(b)s))", v).fetchone()
        manifest = {**manifest, "build": build, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "documents": counts[0], "chunks": counts[1]}
        conn.execute("INSERT INTO rag_builds (id, manifest) VALUES (%s, %s)", (build, Jsonb(manifest)))
        conn.execute("INSERT INTO rag_published (one, build) VALUES (true, %s) ON CONFLICT (one) DO UPDATE SET build = excluded.build", (build,))
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(build)))  # delivered at commit
    if previous is not None:
        # Readers of the previous build may still be answering: only rows neither it nor this build sees go.
        with conn.transaction():
            conn.execute("DELETE FROM rag_documents WHERE removed <= %s", (previous,))
            conn.execute("DELETE FROM rag_builds WHERE id < %s", (previous,))
    return counts


def _copy(conn, build: int, fresh: list[tuple[Document, list[FreshChunk]]], ids) -> None:
    """The fresh documents, chunks and postings by COPY; ids ascend in corpus order, so the build orders its
    chunks as the embedded store does (kept ones first, then the new ones, file by file)."""
    docs, chunks, postings = [], [], []
    for doc, cs in fresh:
        doc_id = next(ids)
        docs.append((doc_id, doc.source, Jsonb(vars(doc)), Jsonb(Counter(analysis.words(doc.text))), build))
        for c in cs:
            chunk_id = next(ids)
            spans = [x for span in c.chunk.sentences for x in span]
            sentences = np.ascontiguousarray(c.sentences, SENTENCE_DTYPE).tobytes()
            chunks.append((chunk_id, doc_id, doc.source, c.chunk.start, c.chunk.end, c.chunk.tokens, spans,
                           np.asarray(c.vector, np.float32), sentences, float(len(c.terms)), build))
            postings += [(t, chunk_id, float(n)) for t, n in Counter(c.terms).items()]
    with conn.cursor() as cur:
        with cur.copy("COPY rag_documents (id, source, doc, words, added) FROM STDIN") as cp:
            for row in docs:
                cp.write_row(row)
        with cur.copy('COPY rag_chunks (id, document, source, start, "end", tokens, spans, embedding, sentences, length, added) '
                      "FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "int8", "text", "int4", "int4", "int4", "int4[]", "vector", "bytea", "float4", "int8"])
            for row in chunks:
                cp.write_row(row)
        with cur.copy("COPY rag_postings (term, chunk, tf) FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["text", "int8", "float4"])
            for row in postings:
                cp.write_row(row)


def copy_index(settings: Settings, index) -> BuildReport:
    """Publish an embedded index (rag/index/store.py's Index) in the store as it is: its vectors are reused, so
    moving an index to PostgreSQL (or measuring both stores on the same vectors) embeds nothing."""
    from rag.index.build import _all_vectors

    t0 = time.perf_counter()
    vectors = _all_vectors(index.dense)
    sentences = index.chunk_sentence_vectors(range(len(index.chunks)))
    by_doc: dict[str, list[FreshChunk]] = {}
    for i in range(len(index.chunks)):
        c = index.chunks[i]
        by_doc.setdefault(c.source, []).append(FreshChunk(c, vectors[i], sentences[i], analysis.terms(c.text)))
    fresh = [(index.documents[s], by_doc.get(s, [])) for s in list(by_doc) + [s for s in index.documents if s not in by_doc]]
    manifest = {k: v for k, v in index.manifest.items() if k not in ("rows", "build", "built_at", "documents", "chunks")}
    with connect(settings.store, "rag index", settings.pg_ef_search) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (BUILD_LOCK,))
        ensure_schema(conn, int(index.manifest["dim"]))
        old = published(conn)
        counts = write_build(conn, {**manifest, "dense_index": "hnsw"}, [], fresh, old[0] if old else None)
    return BuildReport(documents=counts[0], chunks=counts[1], dense_index="hnsw", seconds=time.perf_counter() - t0)
