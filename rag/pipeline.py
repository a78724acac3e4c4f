"""The one entry point the CLI, the web UI, the API and the eval share: load (or build) the index, answer.

`RAG.steps(question, history)` yields what is known as soon as it is known — Understood, Retrieved, Found,
Decided, (in llm mode, issue 16: Written pieces of the model's text, then Verified), Answered — so a chat can
show «ищу в статьях…» and then the answer without waiting for the rest; `RAG.ask` is the last of those steps."""
from __future__ import annotations

import sys
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from rag.answer.extract import Answer, decide
from rag.answer.generate import Generator
from rag.answer.metadata import about_document, cite
from rag.answer.rules import check_names, names_a_person
from rag.config import MODES, Settings
from rag.converse import attribution, followup
from rag.encode.embedder import Embedder
from rag.errors import QuestionError, SettingsError
from rag.index import build as index_mod
from rag.index import stores
from rag.index.interface import Store
from rag.ingest.corpus import Document
from rag.retrieve.retriever import Evidence, Hit, Retriever
from rag.texts import text


@dataclass
class Gathered:
    """What retrieval found for one question."""

    query: str  # the question as searched: colloquial words spelled out, typos corrected
    hits: list[Hit]
    evidence: list[Evidence]
    coverage: float
    timings: dict[str, float]


MAX_MARK_SHARE = 0.5  # combining marks per letter: Russian needs none after NFC (й, ё compose); zalgo piles them up


def question_problem(question: str) -> str | None:
    """Why a text cannot be read as a question, or None: lone surrogates or control characters (they break
    the tokenizers and the JSON answer), no letters at all (emoji, digits), or letters buried in combining
    marks (zalgo). E.g. "🙂🙂" → no words; "Г̷̢д̸е̵" → zalgo; "Где саммит?" → None."""
    question = unicodedata.normalize("NFC", question)
    bad = {unicodedata.category(ch) for ch in question if unicodedata.category(ch) in ("Cs", "Cc") and ch not in "\t\n\r"}
    if bad:
        return text("unreadable_question", what=" и ".join(sorted({"Cs": "половинки суррогатных пар", "Cc": "управляющие символы"}[c] for c in bad)))
    letters = sum(unicodedata.category(ch).startswith("L") for ch in question)
    if not letters:
        return text("no_words_question")
    if (marks := sum(unicodedata.category(ch) == "Mn" for ch in question)) > MAX_MARK_SHARE * letters:
        return text("zalgo_question", marks=marks, letters=letters)
    return None


@dataclass(frozen=True)
class Understood:
    """The question as understood: `rewritten` when a follow-up was made standalone from the conversation."""

    question: str
    rewritten: bool


@dataclass(frozen=True)
class Retrieved:
    query: str  # colloquial words spelled out, typos corrected
    hits: list[Hit]
    ms: float


@dataclass(frozen=True)
class Found:
    """The evidence sentences and how much of the question the articles' words cover."""

    evidence: list[Evidence]
    coverage: float
    ms: float


@dataclass(frozen=True)
class Decided:
    """The answer is chosen (text and citations); only the bookkeeping is left."""

    answer: Answer


@dataclass(frozen=True)
class Written:
    """Issue 16, llm mode: a piece of the model's answer as it is written, not checked yet."""

    text: str


@dataclass(frozen=True)
class Verified:
    """Issue 16, llm mode: the generated answer with every sentence checked against its passage (`sentences`,
    `mode` "llm"), or the extractive answer (`mode` "extractive") with a `notice` saying why."""

    answer: Answer


@dataclass(frozen=True)
class Answered:
    answer: Answer
    gathered: Gathered = field(repr=False)


Step = Understood | Retrieved | Found | Decided | Written | Verified | Answered


def extractive(query: str, evidence: list[Evidence], coverage: float, documents: Mapping[str, Document], settings: Settings) -> Answer:
    """The extractive answer, cited: from a document's metadata when the question is about the document, else the
    rules' decision (`decide`), else, for «who said…», the quotation's attribution. The eval's ablation calls it too,
    so a rule switched off is measured on the answers the pipeline gives."""
    answer = about_document(query, evidence, documents) or decide(query, evidence, coverage, settings)
    if attribution.asks_who_said(query) and (answer.abstained or not names_a_person(answer.answer)):
        answer = attribution.credited(query, evidence, coverage, settings) or answer
    return cite(answer, documents)  # citations carry the document's title, date, outlet and heading


class RAG:
    """A loaded index plus the model, ready to answer questions from several threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, build: bool = False):
        """Load the published index of the store the settings choose (`settings.index_dir`, or the database of
        `settings.store`). Reading never rewrites it: only `rag index` builds, or `build=True` (tests,
        `rag serve --build`), which first brings it up to date with the corpus folder."""
        check_names(settings.disabled_rules)
        self.settings = settings
        self.embedder = embedder or Embedder(settings)
        if build:
            for problem in stores.build(self.settings, self.embedder).problems:
                print(f"rag: skipped {problem}", file=sys.stderr)
        self.retriever = Retriever(stores.load(settings, self.embedder), self.embedder, settings)
        self._polled_at = time.monotonic()
        self._reload = threading.Lock()
        self.generator = Generator(settings) if settings.answer_mode == "llm" else None  # issue 16

    @property
    def index(self) -> Store:
        return self.retriever.index

    def refresh(self) -> bool:
        """Serve the store's newest published build if it is not the one served (True then). The reload hook:
        one cheap look (a query, a readlink) when nothing changed; questions in flight finish on the old build."""
        index = self.index
        if index.published_version() == index.version:
            return False
        with self._reload:
            if self.index is index:  # another thread may have reloaded meanwhile
                self.retriever = Retriever(stores.load(self.settings, self.embedder, getattr(index, "conn", None)), self.embedder, self.settings)
        return True

    def _poll(self) -> None:
        """Several servers share a PostgreSQL store: each looks for a newer build every `store_poll_seconds`.
        (The embedded store's reload is the server's own business.)"""
        if self.settings.store and time.monotonic() - self._polled_at >= self.settings.store_poll_seconds:
            self._polled_at = time.monotonic()
            self.refresh()

    def stale_reason(self) -> str | None:
        """Why the served index differs from the corpus folder or the stages' configs; None when up to date."""
        return index_mod.stale_reason(self.index, self.settings.corpus_dir, index_mod.stage_configs(self.settings, self.embedder))

    def _checked(self, question: str, k: int | None, mode: str | None) -> str:
        question = " ".join(question.split())
        if not question:
            raise QuestionError(text("empty_question"))
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(text("long_question", length=len(question), limit=self.settings.max_question_chars))
        if problem := question_problem(question):
            raise QuestionError(problem)
        if k is not None and k < 1:
            raise SettingsError(f"k = {k}: the number of chunks to retrieve must be at least 1")
        if mode is not None and mode not in MODES:
            raise SettingsError(f"mode = {mode!r}: choose one of {', '.join(MODES)}")
        return question

    def steps(
        self, question: str, history: Iterable[Mapping[str, str]] | None = None, k: int | None = None, mode: str | None = None
    ) -> Iterator[Step]:
        """Answer one question (a follow-up in its conversation when `history` is given), step by step."""
        t0 = time.perf_counter()
        asked = self._checked(question, k, mode)  # the user's own words are refused, not a rewrite of them
        self._poll()
        understood = followup.resolve(asked, history or ())
        if len(understood.question) > self.settings.max_question_chars:
            understood = followup.Resolved(asked, False)
        yield Understood(understood.question, understood.rewritten)
        question = understood.question
        retriever = self.retriever
        query = retriever.normalise(question)
        hits = retriever.search(query, k=k, mode=mode)
        t1 = time.perf_counter()
        yield Retrieved(query, hits, round((t1 - t0) * 1000, 1))
        evidence, coverage = retriever.evidence(query, hits), retriever.coverage(query)
        t2 = time.perf_counter()
        yield Found(evidence, coverage, round((t2 - t1) * 1000, 1))
        documents = self.index.documents
        answer = extractive(query, evidence, coverage, documents, self.settings)
        answer.question = question
        yield Decided(answer)
        timings = {"retrieval": round((t1 - t0) * 1000, 1), "evidence": round((t2 - t1) * 1000, 1)}
        if self.generator is not None:  # issue 16: after the extractive decision, which the model cannot overturn
            for piece in self.generator.stream(question, evidence, answer):
                if isinstance(piece, str):
                    yield Written(piece)
                else:
                    answer = cite(piece, documents)
            timings.update(answer.timings_ms)
            yield Verified(answer)
        answer.timings_ms = {**timings, "total": round((time.perf_counter() - t0) * 1000, 1)}
        yield Answered(answer, Gathered(query, hits, evidence, coverage, timings))

    def gather(self, question: str, k: int | None = None, mode: str | None = None) -> Gathered:
        """Everything the answer is decided from: the typo-corrected query, hits, evidence and word statistics."""
        question = self._checked(question, k, mode)
        self._poll()
        retriever = self.retriever
        t0 = time.perf_counter()
        query = retriever.normalise(question)
        hits = retriever.search(query, k=k, mode=mode)
        t1 = time.perf_counter()
        evidence = retriever.evidence(query, hits)
        t2 = time.perf_counter()
        timings = {"retrieval": round((t1 - t0) * 1000, 1), "evidence": round((t2 - t1) * 1000, 1)}
        return Gathered(query, hits, evidence, retriever.coverage(query), timings)

    def ask(
        self, question: str, k: int | None = None, mode: str | None = None, history: Iterable[Mapping[str, str]] | None = None
    ) -> Answer:
        """Answer one question with citations, or abstain: the last of `steps`."""
        return self.ask_traced(question, k=k, mode=mode, history=history)[0]

    def ask_traced(
        self, question: str, k: int | None = None, mode: str | None = None, history: Iterable[Mapping[str, str]] | None = None
    ) -> tuple[Answer, Gathered]:
        """The answer together with what it was decided from (the eval scores the retrieved hits too)."""
        *_, last = self.steps(question, history, k=k, mode=mode)
        return last.answer, last.gathered

