"""A person's role as the sentence states it: «президент Кыргызстана Садыр Жапаров», «Станислав Зась, генеральный
секретарь ОДКБ»."""
from __future__ import annotations

import re

from rag.index import analysis
from rag.retrieve.retriever import Evidence

STOP = re.compile(r"[,.;:!?()«»“”\"—–\n]|\s-\s")
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


def role_of(e: Evidence, a: int, b: int) -> str:
    """The role of the name at document[a:b] in its sentence: the apposition after it, else the title before it.
    In «Рахмон, премьер-министр Армении Никол Пашинян» the words after a name are the next name's role."""
    starts = [x for x, _, k in e.entities if k == "PER"]
    after = role_after(e.document[: e.end], b)
    if after and not any(b < x < e.document.index(after, b) + len(after) + 2 for x in starts):
        return after
    return role_before(e.document[e.start :], a - e.start)
