"""Answers with citations: built from the best evidence, or an honest abstention."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from itertools import chain

from razdel import sentenize

from rag.answer.rules import Asked, asked, confidence, enabled, threshold
from rag.config import Settings
from rag.retrieve.retriever import Evidence
from rag.texts import text


@dataclass(frozen=True)
class Citation:
    """A quote that is an exact substring of the cited file's cleaned text, at [start, end)."""

    source: str
    quote: str
    start: int
    end: int
    score: float
    title: str = ""  # the cited document's, filled in by rag.answer.metadata.cite
    date: str | None = None  # ISO
    outlet: str | None = None
    heading: str = ""  # the heading of the section quoted


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


def candidates(a: Asked, evidence: list[Evidence]) -> Iterator[Evidence]:
    """Evidence that passes every enabled evidence rule, best first (after the preference, see `preferred`),
    checked only as far as it is read."""
    rules = enabled(a.settings, "evidence")
    return preferred(a, (e for e in evidence if all(r.check(a, e) for r in rules)))


def preferred(a: Asked, passing: Iterator[Evidence]) -> Iterator[Evidence]:
    """The passing evidence, best first, except that when the best fails a preference ("prefer" rules), the first
    of those scored within `prefer_margin` of it that every preference likes goes first."""
    rules = enabled(a.settings, "prefer")
    best = next(passing, None)
    if best is None:
        return
    likes = lambda e: all(r.check(a, e) for r in rules)  # noqa: E731
    close, beyond = [best], None
    if not likes(best):
        for e in passing:
            if e.score < best.score - a.settings.prefer_margin:
                beyond = e
                break
            close.append(e)
    liked = next((e for e in close if likes(e)), best)
    yield liked
    yield from (e for e in close if e is not liked)
    if beyond is not None:
        yield beyond
    yield from passing


def accepted(a: Asked, best: Evidence) -> bool:
    """Whether the winning evidence passes every enabled answer rule (today: confident enough)."""
    return all(r.check(a, best) for r in enabled(a.settings, "answer"))


def decide(question: str, evidence: list[Evidence], coverage: float, settings: Settings) -> Answer:
    """The best evidence that the enabled rules let through answers, quoted exactly (the answer is its phrase
    that answers a date or number question, when a phrase rule cuts one); else abstain."""
    a = asked(question, coverage, settings)
    passing = candidates(a, evidence)
    best = next(passing, None)
    if best is None or not accepted(a, best):
        return abstention(question)
    best = widened(a, best)[1]
    citations, seen = [], set()
    for e in chain([best], passing) if settings.max_citations > 0 else ():
        further = bool(citations)  # the answer is always cited; further quotes must be strong and state facts
        if further and (confidence(question, e, coverage, settings) < threshold(question, settings)):
            continue
        if (e.source, e.start) not in seen:
            seen.add((e.source, e.start))
            citations.append(Citation(e.source, e.text, e.start, e.end, round(e.score, 4)))
            if len(citations) >= settings.max_citations:
                break  # no further evidence is checked
    _, short = short_answer(a, best)
    return Answer(question, short or tidy(best.text), False, citations)  # the citation quotes the whole sentence


QUOTE_OPENS = re.compile(r"[\"«“„]|[-–—]\s")


def widened(a: Asked, best: Evidence) -> tuple[str | None, Evidence]:
    """The first enabled "widen" rule that wants the chosen sentence read with the next one of its paragraph (or the
    first of the next paragraph when that opens a quotation, as news sets quotes apart), and the evidence so widened
    (its quote is still the document's text from start to end); (None, best) otherwise."""
    rule = next((r.name for r in enabled(a.settings, "widen") if r.check(a, best)), None)
    if rule is None:
        return None, best
    after = best.document[best.end : best.end + 2000]
    paragraph, _, rest = after.partition("\n")
    if not paragraph.strip() and QUOTE_OPENS.match(rest.lstrip()):
        paragraph = after  # a quotation in the next paragraph continues what the sentence announces
    following = next((s for s in sentenize(paragraph) if s.text.strip()), None)
    if following is None:
        return None, best
    end = best.end + following.stop
    return rule, replace(best, end=end, text=best.document[best.start : end])


def short_answer(a: Asked, best: Evidence) -> tuple[str | None, str]:
    """The first enabled phrase rule that cuts a short answer from the chosen sentence, and the phrase; (None, "")
    when the sentence is the answer."""
    return next(((r.name, p) for r in enabled(a.settings, "phrase") if (p := r.check(a, best))), (None, ""))
