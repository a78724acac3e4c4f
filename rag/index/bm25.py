"""Okapi BM25 over postings kept as raw term counts, so chunks can be appended or dropped without
re-analysing the rest (bm25s stores scores that bake in corpus-wide statistics, so one new article
meant re-indexing everything: 4 s at 100k chunks)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

K1, B = 1.5, 0.75  # the usual Okapi constants (bm25s' defaults too)


@dataclass
class BM25:
    """Postings grouped by term: doc_ids[ptr[t]:ptr[t+1]] hold term t, with counts tf; row = chunk id."""

    vocab: dict[str, int]
    ptr: np.ndarray  # (n_terms + 1,) int64
    doc_ids: np.ndarray  # int32, ascending within a term
    tf: np.ndarray  # float32
    lengths: np.ndarray  # terms per chunk, float32

    @classmethod
    def build(cls, docs: list[list[str]]) -> BM25:
        return cls({}, np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros(0, np.float32)).extend(docs)

    @property
    def n_docs(self) -> int:
        return len(self.lengths)

    def df(self) -> np.ndarray:
        """Chunks containing each term, indexed like vocab."""
        return np.diff(self.ptr)

    def extend(self, docs: list[list[str]]) -> BM25:
        """A new BM25 with `docs` appended as the next chunk ids."""
        vocab = dict(self.vocab)
        lengths = np.fromiter((len(d) for d in docs), np.int64, len(docs))
        # As arrays, not Python lists of ints: at 100k chunks the lists held ~300 MB at the build's peak.
        ids = np.fromiter((vocab.setdefault(t, len(vocab)) for d in docs for t in d), np.int64, int(lengths.sum()))
        rows = np.repeat(np.arange(self.n_docs, self.n_docs + len(docs), dtype=np.int64), lengths)
        pairs, counts = np.unique(ids * (self.n_docs + len(docs)) + rows, return_counts=True)  # sorted by term, then row
        new_terms, new_rows = np.divmod(pairs, self.n_docs + len(docs))
        old_terms = np.repeat(np.arange(len(self.ptr) - 1), np.diff(self.ptr))
        all_terms = np.concatenate([old_terms, new_terms])
        order = np.argsort(all_terms, kind="stable")  # old postings first within a term: ids stay ascending
        ptr = np.zeros(len(vocab) + 1, np.int64)
        np.cumsum(np.bincount(all_terms, minlength=len(vocab)), out=ptr[1:])
        return BM25(
            vocab, ptr,
            np.concatenate([self.doc_ids, new_rows.astype(np.int32)])[order],
            np.concatenate([self.tf, counts.astype(np.float32)])[order],
            np.concatenate([self.lengths, lengths.astype(np.float32)]),
        )

    def keep(self, rows: np.ndarray) -> BM25:
        """A new BM25 with only the chunks in `rows` (ascending), renumbered 0..len(rows)-1."""
        new_id = np.full(self.n_docs, -1, np.int64)
        new_id[rows] = np.arange(len(rows))
        alive = new_id[self.doc_ids] >= 0
        terms = np.repeat(np.arange(len(self.ptr) - 1), np.diff(self.ptr))[alive]
        ptr = np.zeros(len(self.ptr), np.int64)
        np.cumsum(np.bincount(terms, minlength=len(self.ptr) - 1), out=ptr[1:])
        return BM25(self.vocab, ptr, new_id[self.doc_ids[alive]].astype(np.int32), self.tf[alive], self.lengths[rows])

    @cached_property
    def _length_norm(self) -> np.ndarray:
        """K1 · (1 − B + B · length / average length) of every chunk, the part of the formula no query changes."""
        avg = float(self.lengths.mean()) or 1.0
        return K1 * (1 - B + B * np.asarray(self.lengths) / avg)

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the query terms (repeated terms count again, as in bm25s)."""
        out = np.zeros(self.n_docs, np.float32)
        if not self.n_docs:
            return out
        norm = self._length_norm
        for t in terms:
            if (i := self.vocab.get(t)) is None:
                continue
            a, b = int(self.ptr[i]), int(self.ptr[i + 1])
            ids, tf = self.doc_ids[a:b], self.tf[a:b]
            idf = np.log(1 + (self.n_docs - len(ids) + 0.5) / (len(ids) + 0.5))
            out[ids] += idf * tf * (K1 + 1) / (tf + norm[ids])
        return out

    def top(self, terms: list[str], n: int, allowed: np.ndarray | None = None) -> list[int]:
        """The n best-scoring chunks that hold a query term, best first.

        Equal scores are common (at 100k chunks 133 of the bench's 160 questions have some in their top 50);
        their order is whatever numpy's selection over all chunks gives, so selecting among the matched chunks
        only, though faster, would reorder them and change answers. `allowed` (a mask over the chunks) keeps
        only some of them (filters by article)."""
        scores = self.scores(terms)
        if allowed is not None:  # a mask over the chunks: the others score nothing
            scores[~allowed] = 0
        n = min(n, len(scores))
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        ranked = top[np.argsort(-scores[top])]
        return ranked[scores[ranked] > 0].tolist()

    def save(self, folder: Path) -> None:
        folder.mkdir()
        for name in ("ptr", "doc_ids", "tf", "lengths"):
            np.save(folder / f"{name}.npy", getattr(self, name))
        (folder / "vocab.json").write_text(json.dumps(list(self.vocab), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25:
        """Arrays memory-mapped: pages are read when a query touches them."""
        vocab = {t: i for i, t in enumerate(json.loads((folder / "vocab.json").read_text(encoding="utf-8")))}
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ("ptr", "doc_ids", "tf", "lengths")}
        bm25 = cls(vocab, **arrays)
        if len(bm25.ptr) != len(vocab) + 1 or not bm25.ptr[-1] == len(bm25.doc_ids) == len(bm25.tf):
            raise ValueError("postings do not match the vocabulary")
        return bm25
