"""The index in PostgreSQL + pgvector, shared by several app servers: the tables, and one published build read
through the Store interface (rag/index/interface.py).

Every document and chunk row says in which build it was added and in which it was removed; a build sees the
rows with added <= build < removed. `rag index` writes a new build's rows and moves the one-row `rag_published`
pointer in the same transaction, so a reader sees the old build or the new one whole, never a mix, and a
killed build leaves nothing behind (the server rolls its transaction back). A reader keeps the build number it
loaded and filters every query on it: its answers stay consistent while a newer build is written and published,
until it reloads (`published_version()` is one cheap query). Rows no build in use can see are deleted after a
publish. BM25 is scored in Python over the postings fetched for the question's terms, with the same numbers in
the same chunk order as the embedded store, so both give the same answers."""
from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from rag.errors import IndexMismatchError, IndexMissingError, StoreUnavailableError
from rag.index.bm25 import BM25
from rag.ingest.chunking import Chunk
from rag.ingest.corpus import Document

CHANNEL = "rag_published"  # NOTIFY channel: payload is the new build number
LIVE = "added <= %(v)s AND (removed IS NULL OR removed > %(v)s)"  # the rows build %(v)s sees
LIVE_CHUNK = "c.added <= %(v)s AND (c.removed IS NULL OR c.removed > %(v)s)"  # the same, chunks joined as c
SENTENCE_DTYPE = np.float16
CHUNK_CACHE = 4096

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS rag_build_ids;
CREATE SEQUENCE IF NOT EXISTS rag_row_ids;
CREATE TABLE IF NOT EXISTS rag_builds (
  id bigint PRIMARY KEY, manifest jsonb NOT NULL, created timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS rag_published (
  one boolean PRIMARY KEY DEFAULT true CHECK (one), build bigint NOT NULL REFERENCES rag_builds);
CREATE TABLE IF NOT EXISTS rag_documents (
  id bigint PRIMARY KEY, source text NOT NULL, doc jsonb NOT NULL, words jsonb NOT NULL,
  added bigint NOT NULL, removed bigint);
CREATE INDEX IF NOT EXISTS rag_documents_source ON rag_documents (source);
CREATE TABLE IF NOT EXISTS rag_chunks (
  id bigint PRIMARY KEY, document bigint NOT NULL REFERENCES rag_documents ON DELETE CASCADE,
  source text NOT NULL, start integer NOT NULL, "end" integer NOT NULL, tokens integer NOT NULL,
  spans integer[] NOT NULL, embedding vector({dim}) NOT NULL, sentences bytea NOT NULL, length real NOT NULL,
  added bigint NOT NULL, removed bigint);
CREATE INDEX IF NOT EXISTS rag_chunks_document ON rag_chunks (document);
CREATE INDEX IF NOT EXISTS rag_chunks_embedding ON rag_chunks USING hnsw (embedding vector_ip_ops);
CREATE TABLE IF NOT EXISTS rag_postings (
  term text NOT NULL, chunk bigint NOT NULL REFERENCES rag_chunks ON DELETE CASCADE, tf real NOT NULL,
  PRIMARY KEY (term, chunk));
CREATE INDEX IF NOT EXISTS rag_postings_chunk ON rag_postings (chunk);
"""


def redact(url: str) -> str:
    """The URL without a password, for messages."""
    head, at, tail = url.rpartition("@")
    return f"{head.split(':')[0]}:{head.split(':')[1]}:***@{tail}" if at and head.count(":") >= 2 else url


def connect(url: str, application_name: str = "rag", ef_search: int = 400):
    """An autocommit connection with pgvector's types and the HNSW search settings."""
    try:
        conn = psycopg.connect(url, autocommit=True, application_name=application_name, connect_timeout=10)
    except psycopg.OperationalError as e:
        raise StoreUnavailableError(
            f"cannot reach the PostgreSQL store {redact(url)} ({str(e).strip().splitlines()[0]}): start it (`make pg`) or fix RAG_STORE"
        ) from None
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
    except psycopg.Error as e:
        conn.close()
        raise StoreUnavailableError(f"{redact(url)} has no pgvector extension ({e}): install it (tools/pg/setup.sh)") from None
    # Filtered searches (a build's rows, some articles) go on through the graph until n rows pass, in order.
    conn.execute(f"SET hnsw.ef_search = {int(ef_search)}")
    conn.execute("SET hnsw.iterative_scan = strict_order")
    # psycopg prepares a query run 5 times, and a generic plan of the vector search (the limit and the vector
    # unknown) scans the whole table: 60 ms at 10k chunks against 20 ms through the HNSW index.
    conn.execute("SET plan_cache_mode = force_custom_plan")
    return conn


def published(conn) -> tuple[int, dict] | None:
    """(build, manifest) of the published build, or None before the first publish."""
    if conn.execute("SELECT to_regclass('rag_published')").fetchone()[0] is None:
        return None
    return conn.execute("SELECT b.id, b.manifest FROM rag_published p JOIN rag_builds b ON b.id = p.build").fetchone()


def open_store(url: str, expected: dict | None = None, ef_search: int = 400, conn=None) -> PostgresStore:
    """The published build; refuse one made with other serving stages (the model, the analyzer) than `expected`."""
    if conn is None or conn.closed or conn.broken:
        conn = connect(url, ef_search=ef_search)
    if (row := published(conn)) is None:
        raise IndexMissingError(f"no published index in {redact(url)}: run `rag index` with RAG_STORE set to it")
    build, manifest = row
    for stage, config in (expected or {}).items():
        if (built := manifest.get("stages", {}).get(stage)) != config:
            raise IndexMismatchError(f"the index in {redact(url)} was built with another {stage} stage ({built!r}, now {config!r}): run `rag index`")
    return PostgresStore(conn, url, build, manifest)


class PostgresStore:
    """One published build of the database, read through the Store interface; safe to share between threads
    (psycopg serialises a connection's queries)."""

    def __init__(self, conn, url: str, build: int, manifest: dict):
        self.conn, self.url, self.build, self.manifest = conn, url, build, manifest
        self._v = {"v": build}
        rows = conn.execute(f"SELECT id, length, source FROM rag_chunks WHERE {LIVE} ORDER BY id", self._v).fetchall()
        # Position i of the build's chunks (ordered by id: kept chunks first, then the new ones, as the embedded
        # store orders its rows) is chunk id i for retrieval.
        self.ids = np.array([r[0] for r in rows], np.int64)
        self.lengths = np.array([r[1] for r in rows], np.float32)
        self.chunk_sources = np.array([r[2] for r in rows], object)
        self.words = dict(conn.execute(
            "SELECT w, sum(c::int)::int FROM rag_documents, jsonb_each_text(words) AS j(w, c) "
            f"WHERE {LIVE} GROUP BY w", self._v).fetchall())
        self.documents = _Documents(self)
        self.chunks = _Chunks(self)
        self._df: dict[str, int] = {}

    @property
    def version(self) -> str:
        return str(self.build)

    def published_version(self) -> str:
        try:
            row = self.conn.execute("SELECT build FROM rag_published").fetchone()
        except psycopg.OperationalError:  # the connection broke (a server restart, a failover): reload, reconnecting
            return ""
        return str(row[0]) if row else ""

    def positions(self, ids: Iterable[int]) -> np.ndarray:
        return np.searchsorted(self.ids, np.fromiter(ids, np.int64))

    def dense_top(self, vector: np.ndarray, n: int, sources: Collection[str] | None = None) -> list[int]:
        where = LIVE + (" AND source = ANY(%(s)s)" if sources is not None else "")
        rows = self.conn.execute(
            f"SELECT id FROM rag_chunks WHERE {where} ORDER BY embedding <#> %(q)s LIMIT %(n)s",
            {**self._v, "s": list(sources or ()), "q": np.asarray(vector, np.float32), "n": n},
        ).fetchall()
        return self.positions(r[0] for r in rows).tolist()

    def _postings(self, terms: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Term → (chunk positions ascending, counts) in this build."""
        # One row a term, its postings as two arrays, in binary: a frequent term has thousands of postings.
        rows = self.conn.cursor(binary=True).execute(
            "SELECT p.term, array_agg(p.chunk ORDER BY p.chunk), array_agg(p.tf ORDER BY p.chunk) "
            f"FROM rag_postings p JOIN rag_chunks c ON c.id = p.chunk WHERE p.term = ANY(%(t)s) AND {LIVE_CHUNK} "
            "GROUP BY p.term ORDER BY p.term", {**self._v, "t": terms}).fetchall()
        out = {t: (self.positions(ids), np.array(tfs, np.float32)) for t, ids, tfs in rows}
        self._df.update({t: len(out[t][0]) if t in out else 0 for t in terms})
        return out

    def bm25_top(self, terms: list[str], n: int, sources: Collection[str] | None = None) -> list[int]:
        postings = self._postings(sorted(set(terms)))
        vocab = {t: i for i, t in enumerate(postings)}
        ptr = np.zeros(len(vocab) + 1, np.int64)
        np.cumsum([len(postings[t][0]) for t in vocab], out=ptr[1:])
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        bm25 = BM25(vocab, ptr, np.concatenate([postings[t][0] for t in vocab] or [empty[0]]).astype(np.int32),
                    np.concatenate([postings[t][1] for t in vocab] or [empty[1]]), self.lengths)
        allowed = None if sources is None else np.isin(self.chunk_sources, list(sources))
        return bm25.top(terms, n, allowed)

    def document_frequency(self, terms: Iterable[str]) -> dict[str, int]:
        terms = set(terms)
        if missing := sorted(terms - self._df.keys()):
            rows = self.conn.execute(
                "SELECT p.term, count(*) FROM rag_postings p JOIN rag_chunks c ON c.id = p.chunk "
                f"WHERE p.term = ANY(%(t)s) AND {LIVE_CHUNK} "
                "GROUP BY p.term", {**self._v, "t": missing}).fetchall()
            self._df.update({t: 0 for t in missing} | dict(rows))
        return {t: self._df[t] for t in terms}

    def chunk_sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        ids = list(ids)
        rows = self.conn.execute("SELECT id, sentences FROM rag_chunks WHERE id = ANY(%s)", ([int(self.ids[i]) for i in ids],)).fetchall()
        dim = int(self.manifest["dim"])
        by_id = {r[0]: np.frombuffer(r[1], SENTENCE_DTYPE).reshape(-1, dim) for r in rows}
        return {i: by_id[int(self.ids[i])] for i in ids}


class _Documents(Mapping):
    """The build's documents, read from the database when first asked for."""

    def __init__(self, store: PostgresStore):
        self.store = store
        self._sources = list(dict.fromkeys(store.chunk_sources.tolist()))
        others = store.conn.execute(f"SELECT source FROM rag_documents WHERE {LIVE} ORDER BY id", store._v).fetchall()
        seen = set(self._sources)
        self._sources += [s for (s,) in others if s not in seen]  # documents too short for a chunk
        self._get = lru_cache(maxsize=CHUNK_CACHE)(self._fetch)

    def _fetch(self, source: str) -> Document | None:
        row = self.store.conn.execute(f"SELECT doc FROM rag_documents WHERE source = %(s)s AND {LIVE}", {**self.store._v, "s": source}).fetchone()
        return None if row is None else Document.from_dict(row[0])

    def __getitem__(self, source: str) -> Document:
        if (doc := self._get(source)) is None:
            raise KeyError(source)
        return doc

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)


class _Chunks(Sequence):
    """The build's chunks by position, read from the database when first asked for."""

    def __init__(self, store: PostgresStore):
        self.store = store
        self._get = lru_cache(maxsize=CHUNK_CACHE)(self._fetch)

    def _fetch(self, i: int) -> Chunk:
        source, start, end, tokens, spans = self.store.conn.execute(
            'SELECT source, start, "end", tokens, spans FROM rag_chunks WHERE id = %s', (int(self.store.ids[i]),)).fetchone()
        text = self.store.documents[source].text[start:end]
        return Chunk(source, start, end, text, tuple(zip(spans[::2], spans[1::2])), tokens)

    def __len__(self) -> int:
        return len(self.store.ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._get(int(i) % len(self))
