"""Answers with citations: built from the best evidence, or an honest abstention."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import chain

from rag.answer import decide as decide_mod
from rag.answer.decide import Decision, accepted, decide
from rag.answer.phrase import shortest
from rag.answer.question import analyse
from rag.config import Settings
from rag.retrieve.retriever import Evidence
from rag.texts import text

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


@dataclass(frozen=True)
class Citation:
    """A quote that is an exact substring of the cited file's cleaned text, at [start, end)."""

    source: str
    quote: str
    start: int
    end: int
    score: float


@dataclass
class Answer:
    """What `rag ask --json`, the API and the chat return."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def tidy(quote: str) -> str:
    """The quote as an answer: without a leading dialogue dash or an opening quote mark closed outside it."""
    text = re.sub(r"^[-–—]\s+", "", quote)
    if text.startswith('"') and text.count('"') % 2:
        text = text[1:]
    for opening, closing in (("«", "»"), ("“", "”")):
        if text.startswith(opening) and text.count(opening) > text.count(closing):
            text = text[1:]
    return text.strip()


def abstention(question: str) -> Answer:
    return Answer(question, text("abstain"), True)


# Issue 13: the checks moved to rag/answer/decide.py (one decide() for answering and calibration), the
# question's analysis to question.py and the short answer to phrase.py; these names stay for their callers.
def right_kind(question: str, evidence: list[Evidence]) -> Iterator[Evidence]:
    """Evidence every rule accepts for the question, best first, checked only as far as it is read."""
    return accepted(analyse(question), evidence)


def of_right_kind(question: str, evidence: list[Evidence]) -> list[Evidence]:
    """Evidence every rule accepts for the question, best first."""
    return list(right_kind(question, evidence))


def confidence(question: str, e: Evidence, coverage: float, settings: Settings) -> float:
    return decide_mod.confidence(analyse(question), e, coverage, settings)


def extractive(question: str, evidence: list[Evidence], coverage: float, settings: Settings) -> Answer:
    """The best evidence every rule accepts answers — with the shortest phrase that answers a factoid question,
    the whole sentence quoted in the citation; too weak evidence → abstain."""
    return answer_from(decide(analyse(question), evidence, coverage, settings), evidence, coverage, settings)


def answer_from(d: Decision, evidence: list[Evidence], coverage: float, settings: Settings) -> Answer:
    """The answer a decision gives: the short phrase (or the sentence), and the citations, best first."""
    q = d.question
    if d.abstained:
        return abstention(q.text)
    best = d.best.evidence
    citations, seen = [], set()
    for e in chain([best], (e for e in accepted(q, evidence) if e is not best)):
        further = bool(citations)  # the answer is always cited; further quotes must be strong and state facts
        if further and (e.heading or decide_mod.confidence(q, e, coverage, settings) < d.threshold):
            continue
        if (e.source, e.start) not in seen:
            seen.add((e.source, e.start))
            citations.append(Citation(e.source, e.text, e.start, e.end, round(e.score, 4)))
            if len(citations) >= settings.max_citations:
                break  # no further evidence is checked
    return Answer(q.text, shortest(q, best) or tidy(best.text), False, citations)
