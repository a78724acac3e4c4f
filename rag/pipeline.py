"""The one entry point the CLI, the web UI, the API and the eval share: load (or build) the index, answer."""
from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from rag.answer.extract import Answer, extractive
from rag.answer.generate import Generator
from rag.config import MODES, Settings
from rag.encode.embedder import Embedder
from rag.errors import QuestionError, SettingsError
from rag.index import build as index_mod
from rag.retrieve.retriever import Evidence, Hit, Retriever
from rag.texts import text


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

    def __init__(self, settings: Settings, embedder: Embedder | None = None, build: bool = False):
        """Load the index in `settings.index_dir`. Reading never rewrites it: only `rag index` builds, or
        `build=True` (tests, `rag serve --build`), which first brings it up to date with the corpus folder."""
        self.settings = settings
        self.embedder = embedder or Embedder(settings)
        if build:
            for problem in index_mod.build(self.settings, self.embedder).problems:
                print(f"rag: skipped {problem}", file=sys.stderr)
        self.retriever = Retriever(self._load(), self.embedder, settings)
        self.generator = Generator(settings) if settings.answer_mode == "llm" else None  # issue 16

    @property
    def index(self) -> index_mod.Index:
        return self.retriever.index

    def _load(self) -> index_mod.Index:
        return index_mod.load(self.settings.index_dir, index_mod.serving_stages(self.settings, self.embedder), self.settings)

    def stale_reason(self) -> str | None:
        """Why the served index differs from the corpus folder or the stages' configs; None when up to date."""
        return index_mod.stale_reason(self.index, self.settings.corpus_dir, index_mod.stage_configs(self.settings, self.embedder))

    def gather(self, question: str, k: int | None = None, mode: str | None = None) -> Gathered:
        """Everything the answer is decided from: the typo-corrected query, hits, evidence and word statistics."""
        question = " ".join(question.split())
        if not question:
            raise QuestionError(text("empty_question"))
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(text("long_question", length=len(question), limit=self.settings.max_question_chars))
        if k is not None and k < 1:
            raise SettingsError(f"k = {k}: the number of chunks to retrieve must be at least 1")
        if mode is not None and mode not in MODES:
            raise SettingsError(f"mode = {mode!r}: choose one of {', '.join(MODES)}")
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
        *_, last = self._answer(question, k, mode)
        return last

    def stream(self, question: str, k: int | None = None, mode: str | None = None) -> Iterator[str | Answer]:
        """The answer as it is written: a generator's text pieces first (issue 16), the checked Answer last."""
        for item in self._answer(question, k, mode):
            yield item if isinstance(item, str) else item[0]

    def _answer(self, question: str, k: int | None, mode: str | None) -> Iterator[str | tuple[Answer, Gathered]]:
        t0 = time.perf_counter()
        g = self.gather(question, k=k, mode=mode)
        answer = extractive(g.query, g.evidence, g.coverage, self.settings)
        answer.question = question
        if self.generator is not None:  # issue 16: after the extractive decision, which it cannot overturn
            for piece in self.generator.stream(question, g.evidence, answer):
                if isinstance(piece, str):
                    yield piece
                else:
                    answer = piece
        answer.timings_ms = {**g.timings, **answer.timings_ms, "total": round((time.perf_counter() - t0) * 1000, 1)}
        yield answer, g
