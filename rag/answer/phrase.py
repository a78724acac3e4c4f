"""The shortest phrase that answers a factoid question — the person with their role, the organisation, the
place, the date, the number with what it counts — taken from the evidence sentence (which the citation quotes
whole). Other questions (statements, definitions, reasons, lists) are answered with the sentence itself."""
from __future__ import annotations

import re

from rag.answer import numerals
from rag.answer.decide import PREPOSITIONS, WHEN, WHERE, after_preposition, entity_in, persons
from rag.answer.question import Question
from rag.answer.roles import role_of
from rag.index import analysis
from rag.retrieve.retriever import Evidence

VERB_REACH = 8  # words between a name and its verb, within the name's clause
CLAUSE_END = re.compile(r"[,;:()«»\"]|\s[-—–]\s")


def does_the_asked(q: Question, e: Evidence, a: int, b: int) -> bool:
    """«Кто принял секретарей?» is answered by a name only when the sentence has the name within a few words of
    the question's verb in its clause («Токаев принял…»); otherwise the sentence answers (the doer may be a group).
    A question with no verb («Кто автор…») asks nothing of the kind."""
    verbs = {analysis.lemma(w) for w in analysis.words(q.text) if {"VERB", "INFN"} & set(str(analysis.tag(w)).replace(" ", ",").split(","))}
    verbs -= {"быть", "являться", "стать", "звать"}
    if not verbs:
        return True
    before = CLAUSE_END.split(e.document[max(e.start, a - 80) : a])[-1]
    after = CLAUSE_END.split(e.document[b : min(e.end, b + 80)])[0]
    around = analysis.words(before)[-VERB_REACH:] + analysis.words(after)[:VERB_REACH]
    return bool(verbs & {analysis.lemma(w) for w in around})


def person(q: Question, e: Evidence) -> str:
    """A person the question does not name already, with their role; «Кто такой X?» gets X with X's role."""
    spans = persons(q, e)
    if not q.names_asked:
        return ""  # «Кого принял…»: the answer may be a group, not a name — the sentence says it
    if q.describes:
        wanted = [(a, b) for a, b in spans if entity_in(q.describes, e.document[a:b])]
    else:
        wanted = [(a, b) for a, b in spans if not any(entity_in(w, e.document[a:b]) for w in q.entities)]
    if not q.describes and not q.role:
        wanted = [(a, b) for a, b in wanted if does_the_asked(q, e, a, b)]
    if not wanted:
        return ""
    asked = set(analysis.terms(q.text))
    roles = [(role_of(e, a, b), a, b) for a, b in wanted]
    # «Кто президент Кыргызстана?» in a sentence listing five presidents: the one whose role the question names.
    role, a, b = max(roles, key=lambda r: len(asked & set(analysis.terms(r[0]))))
    name = e.document[a:b]
    return f"{name}, {role[0].lower() + role[1:]}" if role else name


def distance_to_named(q: Question, e: Evidence, a: int) -> int:
    """Characters from a span to the nearest mention of an entity the question names (none: far away)."""
    spots = [x for x, y, _ in e.entities if any(entity_in(w, e.document[x:y]) for w in q.entities)]
    return min((abs(a - x) for x in spots), default=10**6)


def entity(q: Question, e: Evidence, *kinds: str) -> str:
    """The entity of the kinds the question does not name, with its preposition for a place («в Астане»): the one
    next to what the question names («министр иностранных дел КНР Ван И»), else a place after a preposition
    («пройдёт в Астане», not «президент Казахстана»), else the first."""
    def rank(s):
        a, _, k = s
        located = k == "LOC" and (after_preposition(e, a) or a == e.start)
        where = bool(WHERE.match(q.phrase.strip()))
        return (kinds.index(k) if k in kinds else len(kinds), where and not located, distance_to_named(q, e, a), not located, a)

    for a, b, k in sorted(e.entities, key=rank):
        name = e.document[a:b]
        if k not in kinds or any(entity_in(w, name) for w in q.entities):
            continue
        if name.count("“") > name.count("”") or name.count("«") > name.count("»"):
            name += e.document[b : b + 1] if e.document[b : b + 1] in "”»" else ""
        if k == "LOC" and after_preposition(e, a):
            before = e.document[max(e.start, a - 24) : a].split()
            lead = before[-1:] if before[-1].lower() in PREPOSITIONS else before[-2:]
            return " ".join([*lead, name])
        return name
    return ""


def date(q: Question, e: Evidence) -> str:
    """The date expression, with a year that follows it: «9 августа», «16.05.2024», «2025–2027 годы»."""
    if q.wants_year and (years := numerals.years(e.text)):
        m = re.search(rf"{years[0]}(\s*[-–—]\s*\d{{4}})?(\s+(год\w*|г\.))?", e.text)
        return m.group(0)
    m = WHEN.search(e.text)
    if not m:
        return ""
    tail = re.match(r"\s+\d{4}(\s+(год\w*|г\.))?", e.text[m.end() :])
    return m.group(0) + (tail.group(0) if tail else "")


def number(q: Question, e: Evidence) -> str:
    """The number with what it counts: «183 региональных и локальных конфликтов»."""
    found = numerals.quantities(e.text)
    for quantity in sorted(found, key=lambda x: x.unit != q.focus):
        if q.focus is None or quantity.unit == q.focus or e.text[quantity.start].isdigit():
            return e.text[quantity.start : quantity.end]
    return ""


def shortest(q: Question, e: Evidence) -> str:
    """The phrase that answers, or "" when the sentence is the answer (or no phrase can be cut from it)."""
    if not e.entities and q.kind in ("person", "organisation", "media", "place"):
        return ""  # without NER spans (an index built before them) names are not cut out
    if q.kind == "person":
        return person(q, e)
    if q.kind == "organisation":
        return entity(q, e, "ORG", "MEDIA")
    if q.kind == "media":
        return entity(q, e, "MEDIA", "ORG")
    if q.kind == "place":
        return entity(q, e, "LOC")
    if q.kind == "date":
        return date(q, e)
    if q.kind == "number":
        return number(q, e)
    return ""
