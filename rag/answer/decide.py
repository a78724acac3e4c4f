"""One decision, shared by answering and calibration: which evidence answers the analysed question, which rule
rejected each other candidate, and whether the best is sure enough to answer rather than abstain."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from rag.answer import numerals
from rag.answer.question import Question, speech_verb
from rag.answer.roles import role_of
from rag.answer.translit import skeleton
from rag.config import Settings
from rag.index import analysis
from rag.retrieve.retriever import Evidence

MONTHS = r"(янв|фев|мар|апр|ма[йяе]|июн|июл|авг|сен|окт|ноя|дек)[а-я]*\.?"
DAY_MONTH = rf"\b\d{{1,2}} {MONTHS}|\b\d{{2}}\.\d{{2}}\.\d{{4}}"
WHEN = re.compile(rf"{DAY_MONTH}|\b{MONTHS} \d{{4}}|\b\d{{4}} (год|г\.)|\b\d{{4}}\s*[-–—]\s*\d{{4}}|\b(вчера|сегодня|завтра|"
                  r"недавно|понедельник|вторник|сред[уа]|четверг|пятниц|суббот|воскресень)", re.I)
DURATION = re.compile(r"\b(лет|год\w*|десятилети\w*|месяц\w*|недел\w*|дн(я|ей)|век\w*)\b", re.I)
# Organisations in Russian news are named in quotes or by an acronym: «Контртеррористический комитет», ОДКБ.
ORG_NAME = re.compile(r"[«“„\"][^»”“\"]{2,}[»”“\"]|\b[A-ZА-ЯЁ]{2,}\b")


@dataclass(frozen=True)
class Check:
    rule: str
    passed: bool
    why: str = ""


@dataclass
class Candidate:
    evidence: Evidence
    checks: list[Check]
    confidence: float

    @property
    def accepted(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass
class Decision:
    """The best accepted evidence (None: abstain), and every candidate with its checks, for `--explain`."""

    question: Question
    best: Candidate | None
    threshold: float
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def abstained(self) -> bool:
        return self.best is None or self.best.confidence < self.threshold


@lru_cache(maxsize=256)
def article_terms(document: str) -> frozenset[str]:
    return frozenset(analysis.terms(document))


@lru_cache(maxsize=256)
def article_numbers(document: str) -> frozenset[str]:
    return frozenset(numerals.numbers(document))


@lru_cache(maxsize=256)
def article_ordinals(document: str) -> frozenset[int]:
    return frozenset(numerals.ordinals(document))


@lru_cache(maxsize=256)
def article_skeletons(document: str) -> frozenset[str]:
    return frozenset(skeleton(w) for w in set(analysis.words(document)))


def entity_in(entity: str, document: str) -> bool:
    """A named entity occurs in an article: by lemma in Russian («Ташкенте» ~ «Ташкент»), by transliteration
    across scripts (Tokayev ~ Токаев). entity_in("Ташкенте", "Встреча прошла в Ташкенте.") is True."""
    if re.search(r"[а-яё]", entity, re.I) or entity.isupper():
        terms = set(analysis.terms(entity))
        have = article_terms(document)
        return bool(terms) and all(t in have for t in terms) or bool(
            re.search(rf"(?<!\w){re.escape(entity)}(?!\w)", document, re.I))
    return all(skeleton(w) in article_skeletons(document) for w in analysis.words(entity))


# --- rules: each returns why the evidence fails, or "" when it passes -------------------------------------------


def shares_a_word(q: Question, e: Evidence, pool: list[Evidence]) -> str:
    """A sentence sharing no word with a Russian question is only near in topic (the year of another event)."""
    return "" if e.overlap > 0 or q.english else "shares no word with the question"


def names_every_entity(q: Question, e: Evidence, pool: list[Evidence]) -> str:
    """Each entity the question names is in the article: «…встреча в Ташкенте?» is not answered by an article
    about Astana. An English name no retrieved article spells is not held against any (it may be an English word)."""
    for ent in q.entities:
        if entity_in(ent, e.document):
            continue
        if q.english and not any(entity_in(ent, o.document) for o in pool):
            continue
        return f"the article does not name {ent!r}"
    return ""


def names_every_number(q: Question, e: Evidence, pool: list[Evidence]) -> str:
    """Each number of the question is a number token of the article ("5" is not in "2025")."""
    missing = [n for n in q.numbers if n not in article_numbers(e.document)]
    return f"the article has no number {missing[0]}" if missing else ""


def names_every_year(q: Question, e: Evidence, pool: list[Evidence]) -> str:
    """Each year of the question is in the article: a question about 2031 is not answered by one about 2025."""
    missing = [y for y in q.years if y not in article_numbers(e.document)]
    return f"the article has no year {missing[0]}" if missing else ""


def names_every_ordinal(q: Question, e: Evidence, pool: list[Evidence]) -> str:
    """Each ordinal of the question is in the article, by value: «6-я встреча» = «Шестой встречи», not «седьмая»."""
    missing = [o for o in q.ordinals if o not in article_ordinals(e.document)]
    return f"the article has no ordinal {missing[0]}" if missing else ""


def holds_the_role(q: Question, e: Evidence, pool: list[Evidence]) -> str:
    """«Кто был президентом Кыргызстана?»: a person of the sentence holds the role (its title or apposition, by
    NER spans); without spans, the role's words stand within a few words of each other."""
    if q.role is None or not q.role:
        return ""
    if e.entities:
        for a, b in persons(q, e):
            if q.role <= set(analysis.terms(role_of(e, a, b))):
                return ""
        return "no person of the sentence holds the role"
    seq = analysis.terms(e.text)
    width = len(q.role) + 1
    found = any(q.role <= set(seq[i : i + width]) for i in range(max(1, len(seq) - width + 1)))
    return "" if found else "the role's words do not stand together"


def unnamed(q: Question, name: str) -> bool:
    """An entity the question does not name already: «Какая страна… Центральной Азии?» is not answered by «Центральной Азии»."""
    return not any(entity_in(w, name) for w in q.entities)


def spans_of(e: Evidence, *kinds: str, q: Question | None = None) -> list[str]:
    """The sentence's entities of these kinds, those the question names left out when `q` is given."""
    return [e.document[a:b] for a, b, k in e.entities if k in kinds and (q is None or unnamed(q, e.document[a:b]))]


def names_a_person(sentence: str) -> bool:
    """Without NER spans (an old index): a first name, surname or patronymic among capitalised later words."""
    later = " ".join(re.findall(r"\w+", sentence)[1:])
    capitalised = re.findall(r"\b[A-ZА-ЯЁ][a-zа-яё]+", later)
    return bool(analysis.tagged(" ".join(capitalised), "Name", "Surn", "Patr"))


def counts_the_focus(q: Question, e: Evidence) -> bool:
    """«Сколько стран…» wants a number: in digits, or in words counting the asked noun («пяти стран»), not
    «трем силам зла»."""
    for quantity in numerals.quantities(e.text):
        if q.focus is None or quantity.unit == q.focus or e.text[quantity.start].isdigit():
            return True
    return False


# «…, — сказал Токаев.», «по словам Токаева»: the person is the quote's speaker.
SPEAKER_BEFORE = re.compile(r"(?:по словам|по мнению|как (?:сообщил|отметил|заявил)\w*)\s+(?:\w+\s+){0,3}$", re.I)


def is_speaker(q: Question, e: Evidence, a: int) -> bool:
    """A person introduced by a verb of saying right before the name («добавил Токаев», «по словам Токаева»)."""
    before = e.document[max(e.start, a - 40) : a]
    words = re.findall(r"[^\W\d_]+", before)
    return bool(words) and speech_verb(words[-1]) or bool(SPEAKER_BEFORE.search(before))


def persons(q: Question, e: Evidence, kinds: tuple[str, ...] = ("PER",)) -> list[tuple[int, int]]:
    """Spans that can answer: not one the question names; for «кому/с кем…» not a quote's speaker («…, — добавил
    Токаев» does not answer «К кому перейдёт председательство?»), unless the question asks who said something."""
    keep_speaker = q.about_speech or q.names_asked
    return [(a, b) for a, b, k in e.entities
            if k in kinds and (keep_speaker or not is_speaker(q, e, a)) and (q.describes or unnamed(q, e.document[a:b]))]


def names_someone(q: Question, e: Evidence) -> bool:
    """«Кто…» wants a person; «С кем…», «Кого…» may be answered by a country, an organisation or a group."""
    if not e.entities:
        return names_a_person(e.text)
    return bool(persons(q, e, ("PER",) if q.names_asked else ("PER", "LOC", "ORG")))


PREPOSITIONS = frozenset("в во на из с со к ко у под над при около возле".split())
WHERE = re.compile(r"^(где|куда|откуда|where)$", re.I)


def after_preposition(e: Evidence, a: int) -> bool:
    """A span right after a preposition, or after one and a lowercase word: «пройдёт в Астане», «в городе Алматы»,
    not «лидер Казахстана»."""
    before = e.document[max(e.start, a - 24) : a].split()
    return bool(before) and (before[-1].lower() in PREPOSITIONS or len(before) > 1 and before[-2].lower() in PREPOSITIONS
                             and before[-1].islower() and before[-1].isalpha())


def names_a_place(q: Question, e: Evidence) -> bool:
    """A place the question does not name; «где/куда/откуда» want it as a location (after a preposition, or the
    dateline's city opening the text), not a modifier («лидер Казахстана»)."""
    if not e.entities:
        return bool(re.search(r"\b[А-ЯЁ][а-яё]+", e.text[1:]))
    places = [(a, b) for a, b, k in e.entities if k == "LOC" and unnamed(q, e.document[a:b])]
    if WHERE.match(q.phrase.strip()):
        places = [(a, b) for a, b in places if after_preposition(e, a) or a == e.start]
    return bool(places)


SHOWS: dict[str, Callable[[Question, Evidence], bool]] = {
    "person": names_someone,
    "media": lambda q, e: bool(spans_of(e, "MEDIA", "ORG", q=q)),
    "organisation": lambda q, e: bool(spans_of(e, "ORG", "MEDIA", q=q)) or any(
        m.group(0) not in spans_of(e, "LOC", "MEDIA", "PER") for m in ORG_NAME.finditer(e.text)),
    "place": names_a_place,
    "date": lambda q, e: bool(numerals.years(e.text)) if q.wants_year else bool(
        WHEN.search(e.text) or q.wants_period and DURATION.search(e.text)),
    "number": counts_the_focus,
}


def shows_the_kind(q: Question, e: Evidence, pool: list[Evidence]) -> str:
    """The sentence holds what the question asks for: a person (NER PER), an organisation (ORG, a quoted name),
    a place (LOC), a date (a year for «в каком году»), a number counting the asked noun."""
    shows = SHOWS.get(q.kind)
    return "" if shows is None or shows(q, e) else f"names no {q.kind}"


RULES = [shares_a_word, names_every_entity, names_every_number, names_every_year, names_every_ordinal,
         holds_the_role, shows_the_kind]


def confidence(q: Question, e: Evidence, coverage: float, settings: Settings) -> float:
    """How sure the evidence answers the question, on the scale the abstain thresholds are calibrated on.
    Words of a Russian question that the articles never use make an answer less likely; for an English one
    (cross-lingual) word overlap and coverage say nothing."""
    return e.similarity if q.english else e.score - settings.coverage_weight * (1.0 - coverage)


def threshold(q: Question, settings: Settings) -> float:
    return settings.abstain_threshold_crosslingual if q.english else settings.abstain_threshold


def check(q: Question, e: Evidence, pool: list[Evidence]) -> list[Check]:
    """Every rule on one piece of evidence, stopping at the first that fails."""
    checks = []
    for rule in RULES:
        why = rule(q, e, pool)
        checks.append(Check(rule.__name__, not why, why))
        if why:
            break
    return checks


def accepted(q: Question, evidence: list[Evidence]) -> Iterator[Evidence]:
    """Evidence every rule accepts, best first, checked only as far as it is read."""
    return (e for e in evidence if all(c.passed for c in check(q, e, evidence)))


def decide(q: Question, evidence: list[Evidence], coverage: float, settings: Settings, explain: bool = False) -> Decision:
    """The best accepted evidence and whether it is confident enough; with `explain`, every candidate's checks."""
    decision = Decision(q, None, threshold(q, settings))
    for e in evidence:
        c = Candidate(e, check(q, e, evidence), confidence(q, e, coverage, settings))
        if explain:
            decision.candidates.append(c)
        if c.accepted and decision.best is None:
            decision.best = c
            if not explain:
                break
    return decision
