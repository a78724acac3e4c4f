"""The one entry point the CLI, the web UI, the API and the eval share: load (or build) the index, answer."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from . import index as index_mod
from .answer import Answer, extractive
from .config import Settings
from .embeddings import Embedder
from .errors import IndexMismatchError, IndexMissingError, QuestionError
from .retrieval import Evidence, Hit, Retriever
from .texts import text


@dataclass
class Gathered:
    """What retrieval found for one question."""

    query: str  # the question with typos corrected, as searched
    hits: list[Hit]
    evidence: list[Evidence]
    coverage: float
    timings: dict[str, float]


class RAG:
    """A loaded index plus the model, ready to answer questions from several threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, refresh: bool = True):
        self.settings = settings
        self.embedder = embedder or Embedder(settings)
        self.retriever = Retriever(self._load(refresh), self.embedder, settings)

    @property
    def index(self) -> index_mod.Index:
        return self.retriever.index

    def _expected(self) -> dict:
        return index_mod.expected_settings(self.settings, self.embedder.model_id, self.embedder.dim)

    def _load(self, refresh: bool) -> index_mod.Index:
        """The saved index; built first when missing, rebuilt when its settings or files changed."""
        try:
            idx = index_mod.load(self.settings.index_dir, self._expected(), self.settings)
        except (IndexMissingError, IndexMismatchError) as e:
            if not refresh:
                raise
            print(f"rag: {e} – building it now", file=sys.stderr)
            self._build()
            return index_mod.load(self.settings.index_dir, self._expected(), self.settings)
        if refresh and (reason := index_mod.stale_reason(idx, self.settings.corpus_dir)):
            print(f"rag: index is out of date ({reason}) – updating it", file=sys.stderr)
            self._build()
            idx = index_mod.load(self.settings.index_dir, self._expected(), self.settings)
        return idx

    def _build(self) -> None:
        """Rebuild from the corpus, reusing unchanged files; the caller loads the result."""
        for problem in index_mod.build(self.settings, self.embedder).problems:
            print(f"rag: skipped {problem}", file=sys.stderr)

    def gather(self, question: str, k: int | None = None, mode: str | None = None) -> Gathered:
        """Everything the answer is decided from: the typo-corrected query, hits, evidence and word statistics."""
        question = " ".join(question.split())
        if not question:
            raise QuestionError(text("empty_question"))
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(text("long_question", length=len(question), limit=self.settings.max_question_chars))
        retriever = self.retriever
        t0 = time.perf_counter()
        query = retriever.speller.correct(question)
        hits = retriever.search(query, k=k, mode=mode)
        t1 = time.perf_counter()
        evidence = retriever.evidence(query, hits)
        t2 = time.perf_counter()
        timings = {"retrieval": round((t1 - t0) * 1000, 1), "evidence": round((t2 - t1) * 1000, 1)}
        return Gathered(query, hits, evidence, retriever.coverage(query), timings)

    def ask(self, question: str, k: int | None = None, mode: str | None = None) -> Answer:
        """Answer one question with citations, or abstain."""
        return self.ask_traced(question, k=k, mode=mode)[0]

    def ask_traced(self, question: str, k: int | None = None, mode: str | None = None) -> tuple[Answer, Gathered]:
        """The answer together with what it was decided from (the eval scores the retrieved hits too)."""
        t0 = time.perf_counter()
        g = self.gather(question, k=k, mode=mode)
        answer = extractive(g.query, g.evidence, g.coverage, self.settings)
        answer.question = question
        answer.timings_ms = {**g.timings, "total": round((time.perf_counter() - t0) * 1000, 1)}
        return answer, g
