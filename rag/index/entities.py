"""Named entities of every article, found once at index time by natasha's NER (slovnet + navec, offline), so a
question never waits for the model: PER, LOC, ORG spans, with a dateline's city as a place and news outlets
as MEDIA (an outlet is where the article comes from, not what it is about)."""
from __future__ import annotations

import re
import threading
from functools import cache
from importlib.metadata import version

from rag.index import analysis
from rag.ingest.corpus import Document

# Bump when spans() changes: every article's entities are found again (nothing else is redone).
VERSION = "natasha-spans-3"
TYPES = ("PER", "LOC", "ORG", "MEDIA")
# «БИШКЕК, 3 апр — Sputnik»: an all-caps city opening a paragraph before a date is the dateline's place.
DATELINE = re.compile(r"^(?P<city>[А-ЯЁ][А-ЯЁ-]+(?: [А-ЯЁ][А-ЯЁ-]+)?),\s+\d{1,2}\s")
# «передает Tengrinews.kz», «сообщает Sputnik»: a name with a web domain or after a verb of reporting is an outlet.
DOMAIN_AFTER = re.compile(r"^\.[a-z]{2,4}\b")
# «ИА El.kz», «агентство Reuters», «газета "Вечерний Омск"»: an organisation named as an outlet.
MEDIA_HEAD = re.compile(r"^(ИА|СМИ|РИА|ТАСС|информационн\w+ агентств\w*|агентств\w*|газет\w*|телеканал\w*|радио|портал\w*|сайт\w*|издани\w*)\b", re.I)
REPORTED_BY = re.compile(r"(передает|передаёт|сообщает|сообщил[аио]?|пишет|информирует|по данным|со ссылкой на)\s*$", re.I)
_lock = threading.Lock()  # one tagger object for the process; slovnet does not promise thread safety


def config() -> dict:
    return {"version": VERSION, "natasha": version("natasha"), "slovnet": version("slovnet"), "navec": version("navec")}


@cache
def _models():
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter  # ~1.7 s: loaded only when an index is built

    return Segmenter(), NewsNERTagger(NewsEmbedding())


def tag(text: str) -> list[tuple[int, int, str]]:
    """natasha's raw (start, end, type) spans."""
    from natasha import Doc

    segmenter, tagger = _models()
    with _lock:
        doc = Doc(text)
        doc.segment(segmenter)
        doc.tag_ner(tagger)
    return [(s.start, s.stop, s.type) for s in doc.spans]


def retype(text: str, spans: list[tuple[int, int, str]], outlets: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    """Fix what the tagger gets wrong about news metadata: retype("БИШКЕК, 3 апр — Sputnik. …", [(0, 6, "ORG"),
    (15, 22, "ORG")], frozenset({"Sputnik"})) == [(0, 6, "LOC"), (15, 22, "MEDIA")]."""
    cities = set()
    for m in re.finditer(r"(?m)^.*$", text):
        if d := DATELINE.match(m.group(0)):
            cities.add((m.start(), m.start() + len(d["city"])))
    out = []
    for a, b, kind in spans:
        name = text[a:b]
        if any(ca <= a and b <= cb for ca, cb in cities):
            kind = "LOC"
        elif kind == "ORG" and plural_group(name):
            kind = "MISC"
        elif kind == "ORG" and MEDIA_HEAD.match(name):
            kind = "MEDIA"
        elif name in outlets or DOMAIN_AFTER.match(text[b : b + 5]) or REPORTED_BY.search(text[max(0, a - 25) : a]):
            kind = "MEDIA" if kind == "ORG" or not re.search(r"[а-яё]", name, re.I) else kind
        out.append((a, b, kind))
    return out


def plural_group(name: str) -> bool:
    """«Секретарей Советов безопасности» (capitalised out of respect) is people, not an organisation's name: an ORG
    span headed by a plural common noun, with no quotes or acronym: plural_group("Секретарей Советов") is True."""
    words = name.split()
    if re.search(r"[«“„\"]|\b[A-ZА-ЯЁ]{2,}\b", name) or not words:
        return False
    tag = str(analysis.tag(words[0].lower()))
    return "NOUN" in tag and "plur" in tag and "Orgn" not in tag


def outlets(doc: Document) -> frozenset[str]:
    """Outlets named by the article's metadata: the agency after the dateline's dash («… — Sputnik»)."""
    if not doc.dateline:
        return frozenset()
    return frozenset(p.strip() for p in re.split(r"[-–—/]", doc.dateline)[1:] if p.strip() and not p.strip()[0].isdigit())


def spans(doc: Document) -> list[tuple[int, int, str]]:
    """The article's entity spans (offsets into Document.text), metadata retyped."""
    return retype(doc.text, tag(doc.text), outlets(doc))
