"""The shortest phrase that answers a factoid question — the person with their role, the organisation, the
place, the date, the number with what it counts — taken from the evidence sentence (which the citation quotes
whole). Other questions (statements, definitions, reasons, lists) are answered with the sentence itself."""
from __future__ import annotations

import re

from rag.answer import numerals
from rag.answer.decide import WHEN, entity_in, persons
from rag.answer.question import Question
from rag.index import analysis
from rag.retrieve.retriever import Evidence

STOP = re.compile(r"[,.;:!?()«»“”\"—–]|\s-\s")
PREPOSITIONS = frozenset("в во на из с со к ко у под над при".split())
MAX_ROLE_WORDS = 6


def role_before(text: str, start: int) -> str:
    """Title words standing before a name: role_before("заявил президент Кыргызстана Садыр Жапаров", 29) ==
    "президент Кыргызстана" (the verb ends it)."""
    words = []
    for m in reversed(list(re.finditer(r"[^\W\d_]+(?:-[^\W\d_]+)*", text[:start]))):
        between = text[m.end() : start if not words else words[-1][1]]
        if STOP.search(between):
            break
        tag = analysis.tag(m.group(0).lower())
        if not ({"NOUN", "ADJF"} & set(str(tag).replace(" ", ",").split(","))) or "Name" in tag or "Surn" in tag:
            break
        words.append((m.group(0), m.start()))
        if len(words) >= MAX_ROLE_WORDS:
            break
    if not any("NOUN" in analysis.tag(w.lower()) for w, _ in words):
        return ""  # a role has a noun («президент Кыргызстана»), not only adjectives
    return " ".join(w for w, _ in reversed(words))


def role_after(text: str, end: int) -> str:
    """An apposition after a name: role_after("Станислав Зась, генеральный секретарь ОДКБ, отметил", 14) ==
    "генеральный секретарь ОДКБ"."""
    m = re.match(r",\s+([^,.;:!?()«»\"—–]{3,80}?)(?=[,.;:!?()]|\s[-—–]\s|$)", text[end:])
    if not m:
        return ""
    words = m.group(1).split()
    first = analysis.tag(words[0].lower())
    if len(words) > MAX_ROLE_WORDS or "VERB" in first or not ({"NOUN", "ADJF"} & set(str(first).replace(" ", ",").split(","))):
        return ""
    return m.group(1)


def person(q: Question, e: Evidence) -> str:
    """A person the question does not name already, with their role; «Кто такой X?» gets X with X's role."""
    spans = persons(q, e)
    if not q.names_asked:
        return ""  # «Кого принял…»: the answer may be a group, not a name — the sentence says it
    if q.describes:
        wanted = [(a, b) for a, b in spans if entity_in(q.describes, e.document[a:b])]
    else:
        wanted = [(a, b) for a, b in spans if not any(entity_in(w, e.document[a:b]) for w in q.entities)]
    if not wanted:
        return ""
    a, b = wanted[0]
    name = e.document[a:b]
    role = role_after(e.document, b) or role_before(e.document, a)
    return f"{name}, {role[0].lower() + role[1:]}" if role else name


def entity(q: Question, e: Evidence, *kinds: str) -> str:
    """The first entity of the kinds the question does not name, with its preposition for a place («в Астане»)."""
    for a, b, k in sorted(e.entities, key=lambda s: kinds.index(s[2]) if s[2] in kinds else len(kinds)):
        name = e.document[a:b]
        if k not in kinds or any(entity_in(w, name) for w in q.entities):
            continue
        if name.count("“") > name.count("”") or name.count("«") > name.count("»"):
            name += e.document[b : b + 1] if e.document[b : b + 1] in "”»" else ""
        before = e.document[max(e.start, a - 4) : a].split()
        return f"{before[-1]} {name}" if k == "LOC" and before and before[-1].lower() in PREPOSITIONS else name
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
        return entity(q, e, "ORG")
    if q.kind == "media":
        return entity(q, e, "MEDIA", "ORG")
    if q.kind == "place":
        return entity(q, e, "LOC")
    if q.kind == "date":
        return date(q, e)
    if q.kind == "number":
        return number(q, e)
    return ""
