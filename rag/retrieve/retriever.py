"""Hybrid retrieval: dense and BM25 rankings fused by reciprocal rank, then evidence sentences; reads any Store."""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.config import Settings
from rag.encode.embedder import Embedder
from rag.index import analysis
from rag.index.interface import Store
from rag.ingest.chunking import Chunk
from rag.retrieve import imperative, lexicon
from rag.retrieve.spelling import Speller
from rag.retrieve.trust import untrusted
from rag.retrieve.units import Units

QUERY_CACHE = 1024
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
    heading: bool  # a headline or subheading: structure that names a topic, never the answer
    document: str  # the whole cleaned article, for checks that look beyond one sentence
    section: str = ""  # the heading of the section the sentence is in
    entities: tuple[tuple[int, int, str], ...] = ()  # natasha's spans in `text` (offsets into it), found at index time

    def section_text(self) -> str:
        """The sentence's section from its heading (the document's start when it has none) to the end of the
        paragraph after the sentence's own: where a detail the answer depends on is written."""
        start = max(0, self.document.rfind(self.section, 0, self.start)) if self.section else 0
        end = self.end
        for _ in range(2):  # the end of the sentence's paragraph, then of the next one
            found = self.document.find("\n\n", end + 2)
            end = len(self.document) if found < 0 else found
        return self.document[start:max(end, self.end)]


class Retriever:
    """Searches one loaded build of a Store; safe to share between threads."""

    def __init__(self, index: Store, embedder: Embedder, settings: Settings):
        self.index, self.embedder, self.settings = index, embedder, settings
        self._n_docs = len(index.chunks)
        self._max_idf = math.log(1 + self._n_docs)
        self.speller = Speller(index.words)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.units = Units(index)

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

    def dense_ranking(self, question: str, n: int, sources: Collection[str] | None = None) -> list[int]:
        return self.index.dense_top(self.query_vector(question), n, sources)

    def bm25_ranking(self, question: str, n: int, sources: Collection[str] | None = None) -> list[int]:
        terms = list(question_terms(question))
        return self.index.bm25_top(terms, n, sources) if terms else []

    def search(self, question: str, k: int | None = None, mode: str | None = None,
               sources: Collection[str] | None = None) -> list[Hit]:
        """Top-k chunks for a question; mode is hybrid, dense or bm25 (default from settings); with `sources`,
        only chunks of those articles."""
        s = self.settings
        k, mode = k or s.top_k, mode or s.retrieval_mode
        n = min(max(s.candidates, k), len(self.index.chunks))
        if n == 0:
            return []
        dense = self.dense_ranking(question, n, sources) if mode in ("hybrid", "dense") else []
        lexical = self.bm25_ranking(question, n, sources) if mode in ("hybrid", "bm25") else []
        fused: dict[int, float] = {}
        for weight, ranking in ((s.dense_weight, dense), (s.bm25_weight, lexical)):
            for rank, i in enumerate(ranking, 1):
                fused[i] = fused.get(i, 0.0) + weight / (s.rrf_k + rank)
        d_rank = {i: r for r, i in enumerate(dense, 1)}
        b_rank = {i: r for r, i in enumerate(lexical, 1)}
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        return [Hit(self.index.chunks[i], fused[i], d_rank.get(i, 0), b_rank.get(i, 0), i) for i in best]

    def weights(self, terms: set[str]) -> dict[str, float]:
        """Each term's idf over the chunks, to weigh question words; a word no chunk holds weighs most (0 for
        none: coverage counts only the words the articles hold)."""
        df = self.index.document_frequency(terms)
        return {t: math.log(1 + self._n_docs / (1 + df[t])) if df[t] else 0.0 for t in terms}

    def _weight(self, weights: dict[str, float], term: str) -> float:
        return weights[term] or self._max_idf

    def overlap(self, question_terms: set[str], text: str, weights: dict[str, float] | None = None) -> float:
        """Share of the question's words (idf-weighted) that the text contains."""
        if not question_terms:
            return 0.0
        weights = weights if weights is not None else self.weights(question_terms)
        present = set(analysis.terms(text))
        return sum(self._weight(weights, t) for t in question_terms & present) / sum(self._weight(weights, t) for t in question_terms)

    def normalise(self, question: str) -> str:
        """The question as searched: colloquial words in the articles' words, typos corrected, and a request
        («Назовите…», «Расскажите, почему…») put as the question it is."""
        return imperative.as_question(self.speller.correct(lexicon.expand(question, self.index.words)))

    def coverage(self, question: str) -> float:
        """Share of the question's words (idf-weighted) that occur anywhere in the articles."""
        q_terms = set(question_terms(question))
        if not q_terms:
            return 1.0
        weights = self.weights(q_terms)
        return sum(self._weight(weights, t) for t in q_terms if weights[t]) / sum(self._weight(weights, t) for t in q_terms)

    def evidence(self, question: str, hits: list[Hit], n_hits: int | None = None) -> list[Evidence]:
        """Sentences of the top hits, best first, each scored by meaning and shared words; headings are
        marked (they are never the answer); orders to a bot and keyword lists are left out (rag/retrieve/trust.py)."""
        wanted, used = n_hits or self.settings.evidence_chunks, 0
        seen, items = set(), []
        for rank, hit in enumerate(hits):
            if used == wanted:
                break
            doc = self.index.documents[hit.chunk.source]
            # Orders to a bot and keyword lists are never evidence; a chunk of nothing else takes no place
            # among the top chunks (a planted article must not push the real one out).
            # Chunks overlap: one whose sentences are all in an earlier one, or that adds only a heading (never the
            # answer), takes no place either, so the title's chunk and the lead's do not crowd the next passage out.
            units = [u for u in self.units.of(hit.chunk, hit.chunk_id) if not untrusted(doc.text[u.start : u.end])
                     and (hit.chunk.source, u.start, u.end) not in seen]
            used += any(not u.heading for u in units)
            for start, end, heading, rows in ((u.start, u.end, u.heading, u.rows) for u in units):
                seen.add((hit.chunk.source, start, end))
                items.append((rank, hit, start, end, heading, doc.text[start:end], rows))
        if not items:
            return []
        # Sentence vectors were made at build time from each chunk's encoder pass (late chunking), so a
        # question costs one query embedding; a joined unit is the sum of its sentences' directions.
        held = self.index.chunk_sentence_vectors({c for *_, rows in items for c, _ in rows})
        vectors = np.stack([np.stack([held[c][j] for c, j in rows]).astype(np.float32).sum(0) for *_, rows in items])
        sims = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ self.query_vector(question)
        q_terms = set(question_terms(question))
        weights = self.weights(q_terms)
        s = self.settings
        out = []
        for (rank, hit, a, b, heading, text, _), sim in zip(items, sims.tolist()):
            ov = self.overlap(q_terms, text, weights)
            score = sim + s.overlap_weight * ov
            doc = self.index.documents[hit.chunk.source]
            spans = tuple((s0 - a, s1 - a, kind) for s0, s1, kind in doc.entities_in(a, b))
            out.append(Evidence(hit.chunk.source, a, b, text, score, sim, ov, rank, heading, doc.text, doc.section(a), spans))
        return sorted(out, key=lambda e: -e.score)
