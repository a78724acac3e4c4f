"""Answers with citations: built from the best evidence, or an honest abstention."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from itertools import chain

from rag.config import Settings
from rag.index import analysis
from rag.retrieve.retriever import Evidence
from rag.texts import text

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
NUMBER = re.compile(r"\d+")
ACRONYM = re.compile(r"\b[A-ZА-ЯЁ]{2,}\b")
MONTHS = r"(янв|фев|мар|апр|ма[йяе]|июн|июл|авг|сен|окт|ноя|дек)[а-я]*\.?"
DAY_MONTH = rf"\b\d{{1,2}} {MONTHS}|\b\d{{2}}\.\d{{2}}\.\d{{4}}"
WHEN = (rf"{DAY_MONTH}|\b{MONTHS} \d{{4}}|\b\d{{4}} (год|г\.)|\b(вчера|сегодня|завтра|недавно|понедельник|вторник|"
        r"сред[уа]|четверг|пятниц|суббот|воскресень)")
FRACTIONS = re.compile(r"\b(половин|треть|четверт|несколько|десятк|сотн|тысяч|миллион|миллиард)", re.IGNORECASE)
# Organisations in Russian news are named in quotes or by an acronym: «Контртеррористический комитет», ОДКБ.
WHICH_ORGANISATION = re.compile(
    r"\b(как(ой|ая|ое|ую|ие|их|ом|ого|ому)|which|what)\s+(\w+\s+)?"
    r"(организаци|компани|парти[юия]|агентств|ведомств|издани|фонд[аеу]?\b|банк[аеу]?\b|organi[sz]ation|company|agency)",
    re.I,
)
ORG_NAME = re.compile(r"[«“„\"][^»”“\"]{2,}[»”“\"]|\b[A-ZА-ЯЁ]{2,}\b")
# What kind of answer a question asks for, and how to see it in a sentence.
EXPECTS = [
    (re.compile(r"\b(в каком году|какого года|what year|which year)\b", re.I), lambda t: re.search(r"\b\d{4}\b", t)),
    (re.compile(r"\b(на какие годы|на какой (срок|период)|на сколько лет|for which years|for what period)\b", re.I), lambda t: re.search(r"\d", t)),
    (re.compile(r"\b(какого числа|what date)\b", re.I), lambda t: re.search(DAY_MONTH, t, re.I)),
    (re.compile(r"\b(когда|when)\b", re.I), lambda t: re.search(WHEN, t, re.I)),
    (re.compile(r"\b(кто|кого|кому|who|whom)\b", re.I), lambda t: names_a_person(t)),
    (WHICH_ORGANISATION, lambda t: ORG_NAME.search(t)),
    (
        re.compile(r"\b(сколько|скока|скольких|how many|how much)\b", re.I),
        lambda t: NUMBER.search(t) or FRACTIONS.search(t) or analysis.tagged(t, "NUMR"),
    ),
]


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


def names_a_person(sentence: str) -> bool:
    """A first name, surname or patronymic, or an unknown capitalised word that is not the sentence's first."""
    later = " ".join(re.findall(r"\w+", sentence)[1:])
    capitalised = re.findall(r"\b[A-ZА-ЯЁ][a-zа-яё]+", later)
    return bool(analysis.tagged(" ".join(capitalised), "Name", "Surn", "Patr")) or any(
        not analysis.is_dictionary_word(w.lower()) for w in capitalised
    )


WHO_IS = re.compile(r"^\s*(кто (?:такой |такая |такие )?|who is |who's )(?P<phrase>[^?]+)\??\s*$", re.I)


@dataclass(frozen=True)
class Asked:
    """What a question demands of its evidence, worked out once per question, not once per sentence."""

    shows: list[Callable[[str], object]]  # the sentence must show each: a number, a date, a person…
    numbers: list[str]  # must occur in the article
    role: frozenset[str] | None  # "Кто генеральный секретарь ОДКБ?": these words must stand together
    distinctive: frozenset[str]  # terms of the question's acronyms and ordinals: must occur in the article
    russian: bool  # the answer must share a word with the question


def asked(question: str) -> Asked:
    """A "how many" question needs a number in the evidence, "when" a date, "what year" a year; the
    question's numbers, acronyms and ordinals must occur in the article ("the seventh meeting" is not
    answered by an article about the sixth, "ОДКБ" not by one about "ШОС"). English names and acronyms
    are not spelled as in Russian articles, so only Russian questions are held to the last two."""
    russian = bool(CYRILLIC.search(question))
    m = WHO_IS.match(question) if russian else None
    # Questions with a verb ("Кто поблагодарил…") are not role questions.
    role = frozenset(analysis.terms(m["phrase"])) if m and not analysis.tagged(m["phrase"], "VERB", "INFN") else None
    marked = ACRONYM.findall(question) + analysis.tagged(question, "Anum") if russian else []
    return Asked(
        shows=[shows for asks, shows in EXPECTS if asks.search(question)],
        numbers=NUMBER.findall(question),
        role=role,
        distinctive=frozenset(t for w in marked for t in analysis.terms(w)),
        russian=russian,
    )


def names_the_role(role: frozenset[str], sentence: str) -> bool:
    """All the role's words within a few words of each other (not "секретари ... ШОС" nor
    "премьер-министр Армении ... президент Таджикистана")."""
    seq = analysis.terms(sentence)
    width = len(role) + 1
    return any(role <= set(seq[i : i + width]) for i in range(max(1, len(seq) - width + 1)))


def answers_the_kind(a: Asked, e: Evidence) -> bool:
    """Whether a piece of evidence is of the kind the question asks for (and not a heading). A sentence that shares no word
    with a Russian question is only similar in topic: its chunk's context lifts it (sentence vectors are
    read in context), so alone it is a near miss, e.g. the year of another event in the same article."""
    return (
        not e.heading  # a heading is structure: it names a topic, the text under it answers
        and (e.overlap > 0 or not a.russian)
        and all(shows(e.text) for shows in a.shows)
        and (a.role is None or names_the_role(a.role, e.text))
        and all(n in e.document for n in a.numbers)
        and (not a.distinctive or a.distinctive <= article_terms(e.document))  # an article's terms: ~3 ms
    )


@lru_cache(maxsize=256)
def article_terms(document: str) -> frozenset[str]:
    return frozenset(analysis.terms(document))


def confidence(question: str, e: Evidence, coverage: float, settings: Settings) -> float:
    """How sure the evidence answers the question, on the scale the abstain thresholds are calibrated on.
    Words of a Russian question that the articles never use make an answer less likely."""
    if not CYRILLIC.search(question):  # cross-lingual: word overlap and coverage say nothing
        return e.similarity
    return e.score - settings.coverage_weight * (1.0 - coverage)


def threshold(question: str, settings: Settings) -> float:
    return settings.abstain_threshold if CYRILLIC.search(question) else settings.abstain_threshold_crosslingual


def right_kind(question: str, evidence: list[Evidence]) -> Iterator[Evidence]:
    """Evidence of the kind the question asks for, best first, checked only as far as it is read."""
    a = asked(question)
    return (e for e in evidence if answers_the_kind(a, e))


def of_right_kind(question: str, evidence: list[Evidence]) -> list[Evidence]:
    """Evidence of the kind the question asks for, best first."""
    return list(right_kind(question, evidence))


def extractive(question: str, evidence: list[Evidence], coverage: float, settings: Settings) -> Answer:
    """The best evidence of the right kind answers, quoted exactly; too weak evidence → abstain."""
    candidates = right_kind(question, evidence)
    best = next(candidates, None)
    if best is None or confidence(question, best, coverage, settings) < threshold(question, settings):
        return abstention(question)
    citations, seen = [], set()
    for e in chain([best], candidates) if settings.max_citations > 0 else ():
        further = bool(citations)  # the answer is always cited; further quotes must be strong and state facts
        if further and (confidence(question, e, coverage, settings) < threshold(question, settings)):
            continue
        if (e.source, e.start) not in seen:
            seen.add((e.source, e.start))
            citations.append(Citation(e.source, e.text, e.start, e.end, round(e.score, 4)))
            if len(citations) >= settings.max_citations:
                break  # no further evidence is checked
    return Answer(question, tidy(best.text), False, citations)
