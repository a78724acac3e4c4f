"""The server's structured log: one JSON line per question (latency per step, abstained, confidence, top source,
whether a follow-up was rewritten) and per index event (build, swap, skipped file), to stderr and optionally
`log_file`. The question text is logged only with `log_questions`: questions on an intranet may be personal."""
from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable, Mapping

from rag.answer.extract import Answer, candidates
from rag.answer.rules import asked as analyse, confidence
from rag.config import Settings
from rag.errors import QuestionError
from rag.pipeline import RAG, Gathered

LOGGER = logging.getLogger("rag.serve")
LOGGER.setLevel(logging.INFO)
LOGGER.propagate = False  # the lines are the product's, not part of whatever logging the host application set up


def configure(settings: Settings) -> None:
    """Send the log to stderr, and to `log_file` when it is set (appended, one JSON object a line)."""
    for handler in list(LOGGER.handlers):
        LOGGER.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if settings.log_file:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(settings.log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOGGER.addHandler(handler)


def event(name: str, **fields) -> None:
    """One JSON line: {"time", "event": name, **fields}."""
    if not LOGGER.handlers:  # used before the server configured it (a test, a script): stderr
        LOGGER.addHandler(logging.StreamHandler(sys.stderr))
    LOGGER.info(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "event": name, **fields}, ensure_ascii=False))


def question_record(asked: str, answer: Answer, gathered: Gathered | None, rewrite_ms: float, settings: Settings) -> dict:
    """The log fields of one answered question. `top_source` is the first citation, or for an abstention the
    best retrieved chunk's file (what the answer would have come from); `confidence` is the best evidence's,
    on the scale of `abstain_threshold`."""
    t = answer.timings_ms
    ms = {"rewrite": round(rewrite_ms, 1), **{k: t[k] for k in ("retrieval", "evidence") if k in t}}
    if "total" in t:
        ms["answer"] = round(t["total"] - sum(t.get(k, 0.0) for k in ("retrieval", "evidence")), 1)
        ms["total"] = round(rewrite_ms + t["total"], 1)
    best = next(candidates(analyse(gathered.query, gathered.coverage, settings), gathered.evidence), None) if gathered else None
    top = answer.citations[0].source if answer.citations else (gathered.hits[0].chunk.source if gathered and gathered.hits else None)
    record = {
        "ms": ms, "abstained": answer.abstained,
        "confidence": round(confidence(gathered.query, best, gathered.coverage, settings), 4) if best else None,
        "top_source": top, "rewritten": answer.question != asked,
    }
    if settings.log_questions:
        record["question"] = asked
        if answer.question != asked:
            record["rewrite"] = answer.question
    return record


def log_answer(rag: RAG, question: str, answer: Answer, gathered: Gathered | None, channel: str) -> None:
    """One JSON line for an answered question (`question` as the user asked it; a follow-up's rewrite is
    `answer.question`)."""
    event("question", channel=channel, build=rag.index.version, **question_record(question, answer, gathered, 0.0, rag.settings))


def logged_ask(rag: RAG, question: str, history: Iterable[Mapping[str, str]], channel: str, k: int | None = None, mode: str | None = None) -> Answer:
    """Answer a question in its conversation (`RAG.ask` resolves follow-ups) and log it; a refused question is
    logged with its error and raised again."""
    try:
        answer, gathered = rag.ask_traced(question, k=k, mode=mode, history=list(history))
    except QuestionError as e:
        fields = {"question": question} if rag.settings.log_questions else {}
        event("question", channel=channel, build=rag.index.version, error=str(e), **fields)
        raise
    log_answer(rag, question, answer, gathered, channel)
    return answer
