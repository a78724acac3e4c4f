"""Hybrid retrieval: dense (FAISS) and BM25 rankings fused by reciprocal rank, then evidence sentences."""
from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.config import Settings
from rag.encode.embedder import Embedder
from rag.index import analysis
from rag.index.build import Index
from rag.ingest.chunking import Chunk
from rag.retrieve.spelling import Speller
from rag.retrieve.trust import untrusted

QUERY_CACHE = 1024
# A sentence with a demonstrative among its first three words ("Это наивысший показатель…", "Да, это наша…",
# "Потенциал этого центра…") makes no sense alone: it is scored and quoted with the sentence before it.
ANAPHOR = re.compile(
    r"^\W*(?:\w+\W+){0,2}?(эт(?:о|от|а|и|ого|ой|ому|им|их|ом|у)|так(?:ой|ая|ое|ие|их|ого|им|ую)|данн\w+|"
    r"подобн\w+|указанн\w+|именно|поэтому|там|тогда)\b",
    re.IGNORECASE,
)
HEADING_MAX_WORDS = 15


@lru_cache(maxsize=QUERY_CACHE)
def question_terms(question: str) -> tuple[str, ...]:
    """A question's index terms: BM25, evidence overlap and coverage each need them."""
    return tuple(analysis.terms(question))


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the two rankings it came from (0 = absent)."""

    chunk: Chunk
    score: float
    dense_rank: int
    bm25_rank: int
    chunk_id: int


@dataclass(frozen=True)
class Evidence:
    """One sentence of a retrieved chunk, scored against the question; start/end index Document.text."""

    source: str
    start: int
    end: int
    text: str
    score: float
    similarity: float
    overlap: float
    hit_rank: int
    heading: bool  # a headline or subheading: it names a topic, it rarely states a fact
    document: str  # the whole cleaned article, for checks that look beyond one sentence


class Retriever:
    """Searches one loaded Index; safe to share between threads."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index, self.embedder, self.settings = index, embedder, settings
        n_docs = len(index.chunks)
        # Document frequency per BM25 term, for weighting question words in sentence overlap.
        df = index.bm25.df()
        self._idf = {t: math.log(1 + n_docs / (1 + df[i])) for t, i in index.bm25.vocab.items() if df[i]}
        self._max_idf = math.log(1 + n_docs)
        self.speller = Speller(index.words)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def query_vector(self, question: str) -> np.ndarray:
        """The question's embedding, cached: follow-ups and retries repeat questions."""
        with self._lock:
            if question in self._cache:
                self._cache.move_to_end(question)
                return self._cache[question]
        vec = self.embedder.embed_queries([question])[0]
        with self._lock:
            self._cache[question] = vec
            if len(self._cache) > QUERY_CACHE:
                self._cache.popitem(last=False)
        return vec

    def dense_ranking(self, question: str, n: int) -> list[int]:
        _, ids = self.index.dense.search(self.query_vector(question)[None, :], n)
        return [int(i) for i in ids[0] if i >= 0]

    def bm25_ranking(self, question: str, n: int) -> list[int]:
        bm25 = self.index.bm25
        terms = [t for t in question_terms(question) if t in bm25.vocab]
        return bm25.top(terms, n) if terms else []

    def search(self, question: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """Top-k chunks for a question; mode is hybrid, dense or bm25 (default from settings)."""
        s = self.settings
        k, mode = k or s.top_k, mode or s.retrieval_mode
        n = min(max(s.candidates, k), len(self.index.chunks))
        if n == 0:
            return []
        dense = self.dense_ranking(question, n) if mode in ("hybrid", "dense") else []
        lexical = self.bm25_ranking(question, n) if mode in ("hybrid", "bm25") else []
        fused: dict[int, float] = {}
        for weight, ranking in ((s.dense_weight, dense), (s.bm25_weight, lexical)):
            for rank, i in enumerate(ranking, 1):
                fused[i] = fused.get(i, 0.0) + weight / (s.rrf_k + rank)
        d_rank = {i: r for r, i in enumerate(dense, 1)}
        b_rank = {i: r for r, i in enumerate(lexical, 1)}
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        return [Hit(self.index.chunks[i], fused[i], d_rank.get(i, 0), b_rank.get(i, 0), i) for i in best]

    def _weight(self, term: str) -> float:
        return self._idf.get(term, self._max_idf)  # unseen words weigh most

    def overlap(self, question_terms: set[str], text: str) -> float:
        """Share of the question's words (idf-weighted) that the text contains."""
        if not question_terms:
            return 0.0
        present = set(analysis.terms(text))
        return sum(self._weight(t) for t in question_terms & present) / sum(self._weight(t) for t in question_terms)

    def coverage(self, question: str) -> float:
        """Share of the question's words (idf-weighted) that occur anywhere in the articles."""
        q_terms = set(question_terms(question))
        if not q_terms:
            return 1.0
        return sum(self._weight(t) for t in q_terms if t in self._idf) / sum(self._weight(t) for t in q_terms)

    def _previous(self, hit: Hit, i: int) -> tuple[tuple[int, int], int] | None:
        """The sentence before sentence i of a hit's chunk and its vector row, looking into the chunk before."""
        rows = self.index.sentence_rows
        if i:
            return hit.chunk.sentences[i - 1], int(rows[hit.chunk_id]) + i - 1
        before = self.index.chunks[hit.chunk_id - 1] if hit.chunk_id else None
        if before is None or before.source != hit.chunk.source:
            return None
        earlier = [j for j, s in enumerate(before.sentences) if s[1] <= hit.chunk.sentences[0][0]]
        return (before.sentences[earlier[-1]], int(rows[hit.chunk_id - 1]) + earlier[-1]) if earlier else None

    def _is_heading(self, doc, span: tuple[int, int]) -> bool:
        text = doc.text[span[0] : span[1]]
        return span in doc.paragraphs and len(text.split()) <= HEADING_MAX_WORDS and not re.search(r"[.!?…»\"”]$", text)

    def _units(self, hit: Hit) -> list[tuple[int, int, bool, list[int]]]:
        """(start, end, is_heading, vector rows) evidence units of a chunk: sentences, with an anaphoric one
        joined to the sentence before it (across a paragraph break too, but never to a heading)."""
        doc = self.index.documents[hit.chunk.source]
        first = int(self.index.sentence_rows[hit.chunk_id])
        units = []
        for i, (a, b) in enumerate(hit.chunk.sentences):
            rows = [first + i]
            prev = self._previous(hit, i) if ANAPHOR.match(doc.text[a:b]) else None
            if prev and not self._is_heading(doc, prev[0]):
                a, rows = prev[0][0], [prev[1], first + i]
            units.append((a, b, self._is_heading(doc, (a, b)), rows))
        return units

    def evidence(self, question: str, hits: list[Hit], n_hits: int | None = None) -> list[Evidence]:
        """Sentences of the top hits, best first, each scored by meaning and shared words; headings
        score a little lower (they name a topic, they rarely state a fact)."""
        wanted, used = n_hits or self.settings.evidence_chunks, 0
        seen, items = set(), []
        for rank, hit in enumerate(hits):
            if used == wanted:
                break
            doc = self.index.documents[hit.chunk.source]
            # Orders to a bot and keyword lists are never evidence; a chunk of nothing else takes no place
            # among the top chunks (a planted article must not push the real one out).
            units = [u for u in self._units(hit) if not untrusted(doc.text[u[0] : u[1]])]
            used += bool(units)
            for start, end, heading, rows in units:
                if (hit.chunk.source, start, end) not in seen:
                    seen.add((hit.chunk.source, start, end))
                    items.append((rank, hit, start, end, heading, doc.text[start:end], rows))
        if not items:
            return []
        # Sentence vectors were made at build time from each chunk's encoder pass (late chunking), so a
        # question costs one query embedding; a joined unit is the sum of its sentences' directions.
        vectors = np.stack([self.index.sentence_vectors[rows].astype(np.float32).sum(0) for *_, rows in items])
        sims = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ self.query_vector(question)
        q_terms = set(question_terms(question))
        s = self.settings
        out = []
        for (rank, hit, a, b, heading, text, _), sim in zip(items, sims.tolist()):
            ov = self.overlap(q_terms, text)
            score = sim + s.overlap_weight * ov - (s.heading_penalty if heading else 0.0)
            doc_text = self.index.documents[hit.chunk.source].text
            out.append(Evidence(hit.chunk.source, a, b, text, score, sim, ov, rank, heading, doc_text))
        return sorted(out, key=lambda e: -e.score)
