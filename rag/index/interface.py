"""What retrieval reads from an index, whichever store holds it: the embedded one (rag/index/store.py, files in
a folder) or PostgreSQL (rag/index/pg_store.py, shared by several app servers).

A Store object is one published build, frozen: every read answers from that build even while a newer one is
written. Chunk ids are positions 0..len(chunks)-1 in the build's order (the chunks of a document are neighbours),
so both stores number, score and break ties alike and give the same answers."""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

import numpy as np

from rag.ingest.chunking import Chunk
from rag.ingest.corpus import Document


class Store(Protocol):
    manifest: dict  # stages, dim, built_at, files …: what the build was made from
    documents: Mapping[str, Document]
    chunks: Sequence[Chunk]
    words: Mapping[str, int]  # word form → count, for spelling correction of questions

    @property
    def version(self) -> str:
        """This build's name."""

    def published_version(self) -> str:
        """The store's newest published build now (cheap: a reader calls it to learn it should reload)."""

    def dense_top(self, vector: np.ndarray, n: int, sources: Collection[str] | None = None) -> list[int]:
        """The n chunks nearest the (unit) question vector, best first; only chunks of `sources` if given."""

    def bm25_top(self, terms: list[str], n: int, sources: Collection[str] | None = None) -> list[int]:
        """The n best BM25 chunks holding a query term, best first; only chunks of `sources` if given."""

    def document_frequency(self, terms: Iterable[str]) -> dict[str, int]:
        """Chunks holding each term (0 for a term no chunk holds)."""

    def chunk_sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Chunk id → its sentences' vectors (float16, one row per sentence, in order)."""
