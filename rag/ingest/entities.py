"""Named entities of a cleaned document, found once when the build indexes it: natasha's slovnet NER (its navec
vectors ship in the PyPI package, so it runs offline) tags PER, LOC and ORG spans of `Document.text`. The index
stores them with the document, so a question never waits for the model (~1 s to load, ~1 ms a sentence). Reading a
file alone (an upload's check, an eval set's validation) does not need them and does not load the model."""
from __future__ import annotations

import re
import threading
from dataclasses import replace
from functools import cache
from importlib.metadata import version

from rag.ingest.corpus import Document

VERSION = 1  # bump when spans() changes: every file is read again
TYPES = ("PER", "LOC", "ORG")
CYRILLIC = re.compile(r"[А-ЯЁа-яё]")
_lock = threading.Lock()  # one tagger for the process (the live watcher reads files in a thread); slovnet promises no thread safety


def config() -> dict:
    """What the spans depend on: recorded in the index with the ingest stage."""
    return {"version": VERSION, **{lib: version(lib) for lib in ("natasha", "slovnet", "navec")}}


@cache
def _models():
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter  # imported here: only reading a file needs them

    return Segmenter(), NewsNERTagger(NewsEmbedding())


def person_name(name: str) -> bool:
    """Russian text writes people's names in Cyrillic: the tagger's PER «Tengrinews» or «Sputnik» is a brand or a
    site. person_name("Ассоль Мирманова") is True, person_name("Tengrinews") False."""
    return bool(CYRILLIC.search(name))


def spans(text: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """The (start, end, type) spans of the text, in order, tagged a paragraph at a time so that no span runs from a
    headline into the text under it: spans("Иван Петров прибыл в Минск.", [(0, 27)]) ==
    [(0, 11, "PER"), (21, 26, "LOC")]."""
    from natasha import Doc

    segmenter, tagger = _models()
    found = []
    with _lock:
        for start, end in paragraphs:
            doc = Doc(text[start:end])
            doc.segment(segmenter)
            doc.tag_ner(tagger)
            found += [(start + s.start, start + s.stop, s.type) for s in doc.spans
                      if s.type in TYPES and (s.type != "PER" or person_name(s.text))]
    return found


def tagged(doc: Document) -> Document:
    """The document with its entity spans, as the build indexes it."""
    return replace(doc, entities=spans(doc.text, doc.paragraphs))
