"""Hybrid retrieval: dense and BM25 rankings fused by reciprocal rank, then evidence sentences; reads any Store."""
from __future__ import annotations

import math
import re
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
from rag.ingest.corpus import STRUCTURED
from rag.retrieve import lexicon
from rag.retrieve.spelling import Speller
from rag.retrieve.trust import untrusted

QUERY_CACHE = 1024
# A sentence with a demonstrative among its first three words ("Это наивысший показатель…", "Да, это наша…",
# "Потенциал этого центра…", «Здесь мы видим…»), or «подобные», «указанные» anywhere, makes no sense alone: it is scored and quoted with the sentence before it.
ANAPHOR = re.compile(
    r"^\W*(?:\w+\W+){0,2}?(эт(?:о|от|а|и|ого|ой|ому|им|их|ом|у)|так(?:ой|ая|ое|ие|их|ого|им|ую)|данн\w+|"
    r"подобн\w+|указанн\w+|именно|поэтому|там|тут|здесь|тогда)\b"
    # …and words that only point back, wherever they stand («…мы категорически отвергаем подобные подходы»)
    r"|^.*?\b(?:подобн|указанн|вышеупомянут|вышеназванн|вышеуказанн|вышеперечисленн)\w*\b",
    re.IGNORECASE,
)
HEADING_MAX_WORDS = 15
# A sentence that ends its paragraph with a colon introduces what follows: «Есть несколько ресурсов…:» and the
# list items after it are one answer (each item alone is a fragment: «команду aptitude»).
LIST_INTRO = re.compile(r":\s*$")
SENTENCE_END = re.compile(r"[.!?…»\"”]$")
LIST_MAX_ITEMS = 12


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


class Retriever:
    """Searches one loaded build of a Store; safe to share between threads."""

    def __init__(self, index: Store, embedder: Embedder, settings: Settings):
        self.index, self.embedder, self.settings = index, embedder, settings
        self._n_docs = len(index.chunks)
        self._max_idf = math.log(1 + self._n_docs)
        self.speller = Speller(index.words)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._paragraph_spans: dict[str, tuple[object, dict[int, int], frozenset[int]]] = {}

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
        """The question as searched: colloquial words in the articles' words, then typos corrected."""
        return self.speller.correct(lexicon.expand(question, self.index.words))

    def coverage(self, question: str) -> float:
        """Share of the question's words (idf-weighted) that occur anywhere in the articles."""
        q_terms = set(question_terms(question))
        if not q_terms:
            return 1.0
        weights = self.weights(q_terms)
        return sum(self._weight(weights, t) for t in q_terms if weights[t]) / sum(self._weight(weights, t) for t in q_terms)

    def _previous(self, hit: Hit, i: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The sentence before sentence i of a hit's chunk and its vector (chunk id, sentence number), looking
        into the chunk before."""
        if i:
            return hit.chunk.sentences[i - 1], (hit.chunk_id, i - 1)
        before = self.index.chunks[hit.chunk_id - 1] if hit.chunk_id else None
        if before is None or before.source != hit.chunk.source:
            return None
        earlier = [j for j, s in enumerate(before.sentences) if s[1] <= hit.chunk.sentences[0][0]]
        return (before.sentences[earlier[-1]], (hit.chunk_id - 1, earlier[-1])) if earlier else None

    def _is_heading(self, doc, span: tuple[int, int]) -> bool:
        """A heading the reader found (HTML, Markdown, DOCX headings, a wrapped text's numbered or FAQ headings),
        or in a paragraph-per-line text a short paragraph without a full stop. HTML, Markdown and DOCX mark their
        headings, so there a short line without a full stop is a list item, a term or a command: text."""
        if self._marked_heading(doc, span):
            return True
        if doc.format in STRUCTURED:
            return False
        text = doc.text[span[0] : span[1]]
        return span in doc.paragraphs and len(text.split()) <= HEADING_MAX_WORDS and not SENTENCE_END.search(text)

    @staticmethod
    def _marked_heading(doc, span: tuple[int, int]) -> bool:
        return any(a <= span[0] and span[1] <= b for a, b in doc.headings)

    def _list_items(self, hit: Hit, i: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """The items (span, vector row) of the list sentence i of a hit's chunk introduces, when it ends its
        paragraph with a colon: the sentences of the list items, table rows and code blocks the reader marked,
        or in plain text and PDF the whole paragraphs that do not end like a sentence; read on into the next
        chunk, as a list does not stop where a chunk does (none when it introduces no list)."""
        doc = self.index.documents[hit.chunk.source]
        paragraphs, ends = self._paragraphs(doc)
        a, b = hit.chunk.sentences[i]
        if not LIST_INTRO.search(doc.text[a:b]) or b not in ends:
            return []
        items = []
        for span, row in self._following(hit, i):
            if len(items) == LIST_MAX_ITEMS or not self._is_item(doc, span, paragraphs):
                break
            items.append((span, row))
        return items

    def _following(self, hit: Hit, i: int):
        """The sentences after sentence i of a hit's chunk, with their vector rows, then those of the next chunk."""
        yield from ((span, (hit.chunk_id, j)) for j, span in enumerate(hit.chunk.sentences) if j > i)
        after = hit.chunk_id + 1
        if after < len(self.index.chunks) and (nxt := self.index.chunks[after]).source == hit.chunk.source:
            yield from ((span, (after, j)) for j, span in enumerate(nxt.sentences) if span[0] >= hit.chunk.end)

    def _is_item(self, doc, span: tuple[int, int], paragraphs: dict[int, int]) -> bool:
        if self._marked_heading(doc, span):
            return False
        if doc.format in STRUCTURED:
            return any(a <= span[0] and span[1] <= b for a, b in doc.items)
        text = doc.text[span[0] : span[1]].rstrip(" ;,")
        return paragraphs.get(span[0]) == span[1] and not SENTENCE_END.search(text)

    def _paragraphs(self, doc) -> tuple[dict[int, int], frozenset[int]]:
        """A document's paragraphs as start → end, and their ends; worked out once per document object."""
        if (held := self._paragraph_spans.get(doc.source)) is None or held[0] is not doc:
            held = self._paragraph_spans[doc.source] = (doc, dict(doc.paragraphs), frozenset(b for _, b in doc.paragraphs))
        return held[1], held[2]

    def _units(self, hit: Hit) -> list[tuple[int, int, bool, list[tuple[int, int]]]]:
        """(start, end, is_heading, vectors as (chunk id, sentence number)) evidence units of a chunk: sentences,
        with an anaphoric one joined to the sentence before it (across a paragraph break too, but never to a heading),
        and one that introduces a list joined to its items."""
        doc = self.index.documents[hit.chunk.source]
        units, sentences, i = [], hit.chunk.sentences, 0
        while i < len(sentences):
            a, b = sentences[i]
            rows = [(hit.chunk_id, i)]
            prev = self._previous(hit, i) if ANAPHOR.match(doc.text[a:b]) else None
            if prev and not self._is_heading(doc, prev[0]):
                a, rows = prev[0][0], [prev[1], (hit.chunk_id, i)]
            if items := self._list_items(hit, i):
                b, rows = items[-1][0][1], rows + [row for _, row in items]
            units.append((a, b, self._is_heading(doc, (a, b)), rows))
            i += 1 + sum(c == hit.chunk_id for _, (c, _) in items)  # its items are not units of their own
        return units

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
            out.append(Evidence(hit.chunk.source, a, b, text, score, sim, ov, rank, heading, doc.text, doc.section(a)))
        return sorted(out, key=lambda e: -e.score)
