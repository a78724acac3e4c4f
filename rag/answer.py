"""Answers with citations: built from the best evidence, or an honest abstention."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .config import Settings
from .retrieval import Evidence
from .texts import text

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
NUMBER = re.compile(r"\d+")
MONTHS = r"январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр"
# What kind of answer a question asks for, and how to see it in a sentence.
EXPECTS = [
    (re.compile(r"\b(в каком году|какого года|what year|which year)\b", re.I), re.compile(r"\b\d{4}\b")),
    (re.compile(r"\b(сколько|скока|скольких|how many|how much)\b", re.I), re.compile(r"\d|\b(один|два|три|четыре|пять|шесть|семь|восемь|девять|десять|половин|треть|четверть|десятк|сотн|тысяч|миллион)", re.I)),
    (re.compile(r"\b(когда|какого числа|when)\b", re.I), re.compile(rf"\d|\b({MONTHS})|\b(вчера|сегодня|завтра|недавно|понедельник|вторник|сред[уа]|четверг|пятниц|суббот|воскресень)", re.I)),
]


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


def answers_the_kind(question: str, e: Evidence) -> bool:
    """A "how many" question needs a number in the evidence, "when" a date, "what year" a year;
    every number the question names must occur in the passage ("… in 2010?" is not answered by 2023)."""
    for asks, shows in EXPECTS:
        if asks.search(question) and not shows.search(e.text):
            return False
    return all(n in e.context for n in NUMBER.findall(question))


def confidence(question: str, e: Evidence, coverage: float, settings: Settings) -> float:
    """How sure the evidence answers the question, on the scale the abstain thresholds are calibrated on.
    Words of a Russian question that the articles never use make an answer less likely."""
    if not CYRILLIC.search(question):  # cross-lingual: word overlap and coverage say nothing
        return e.similarity
    return e.score - settings.coverage_weight * (1.0 - coverage)


def threshold(question: str, settings: Settings) -> float:
    return settings.abstain_threshold if CYRILLIC.search(question) else settings.abstain_threshold_crosslingual


def of_right_kind(question: str, evidence: list[Evidence]) -> list[Evidence]:
    """Evidence of the kind the question asks for, best first."""
    return [e for e in evidence if answers_the_kind(question, e)]


def extractive(question: str, evidence: list[Evidence], coverage: float, settings: Settings) -> Answer:
    """The best evidence of the right kind answers, quoted exactly; too weak evidence → abstain."""
    candidates = of_right_kind(question, evidence)
    if not candidates or confidence(question, candidates[0], coverage, settings) < threshold(question, settings):
        return abstention(question)
    citations, seen = [], set()
    for e in candidates:
        if len(citations) >= settings.max_citations:
            break
        if (e.source, e.start) not in seen and (not citations or confidence(question, e, coverage, settings) >= threshold(question, settings)):
            seen.add((e.source, e.start))
            citations.append(Citation(e.source, e.text, e.start, e.end, round(e.score, 4)))
    return Answer(question, tidy(candidates[0].text), False, citations)
