"""Named entities of a cleaned document, found once when the build indexes it: natasha's slovnet NER (its navec
vectors ship in the PyPI package, so it runs offline) tags PER, LOC and ORG spans of `Document.text`. The index
stores them with the document, so a question never waits for the model (~1 s to load, then ~300 000 characters a
second on one core, a batch of paragraphs a pass). Reading a
file alone (an upload's check, an eval set's validation) does not need them and does not load the model."""
from __future__ import annotations

import re
import threading
from dataclasses import replace
from functools import cache
from importlib.metadata import version

from tqdm import tqdm

from rag.ingest.corpus import Document

VERSION = 1  # bump when spans() changes: every file is read again
TYPES = ("PER", "LOC", "ORG")
CYRILLIC = re.compile(r"[А-ЯЁа-яё]")
BATCH = 64  # paragraphs a pass of the tagger: at slovnet's default of 8, Python overhead takes most of the time
_lock = threading.Lock()  # one tagger for the process (the live watcher reads files in a thread); slovnet promises no thread safety


def config() -> dict:
    """What the spans depend on: recorded in the index with the ingest stage."""
    return {"version": VERSION, **{lib: version(lib) for lib in ("natasha", "slovnet", "navec")}}


@cache
def _tagger():
    from natasha import NewsEmbedding, NewsNERTagger  # imported here: only the build needs the model

    tagger = NewsNERTagger(NewsEmbedding())
    tagger.batch_size = BATCH
    return tagger


def person_name(name: str) -> bool:
    """Russian text writes people's names in Cyrillic: the tagger's PER «Tengrinews» or «Sputnik» is a brand or a
    site. person_name("Ассоль Мирманова") is True, person_name("Tengrinews") False."""
    return bool(CYRILLIC.search(name))


def spans(text: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """The (start, end, type) spans of the text, in order, tagged a paragraph at a time so that no span runs from a
    headline into the text under it: spans("Иван Петров прибыл в Минск.", [(0, 27)]) ==
    [(0, 11, "PER"), (21, 26, "LOC")]."""
    return _tag([(text, paragraphs)])[0]


def _tag(texts: list[tuple[str, list[tuple[int, int]]]], progress: bool = False) -> list[list[tuple[int, int, str]]]:
    """The spans of several texts' paragraphs, batched together: a news article has a dozen paragraphs, a batch
    takes 64, and a batch is padded to its longest paragraph, so they go shortest first."""
    pieces = sorted(((i, a, b) for i, (text, paragraphs) in enumerate(texts) for a, b in paragraphs if text[a:b].strip()),
                    key=lambda p: p[2] - p[1])
    with _lock:  # the tagger's own tokenizer: natasha's Doc would also segment sentences, which no rule reads
        markups = _tagger().map([texts[i][0][a:b] for i, a, b in pieces])
        found = [[] for _ in texts]
        with tqdm(total=sum(b - a for _, a, b in pieces), desc="names", unit="char", unit_scale=True,
                  disable=not progress or not pieces) as bar:
            for (i, a, b), markup in zip(pieces, markups):
                bar.update(b - a)
                text = texts[i][0]
                found[i] += [(a + s.start, a + s.stop, s.type) for s in markup.spans
                             if s.type in TYPES and (s.type != "PER" or person_name(text[a + s.start : a + s.stop]))]
    return [sorted(f) for f in found]


def tagged(docs: list[Document], progress: bool = False) -> list[Document]:
    """The documents with their entity spans, as the build indexes them (all the build reads anew, in one go)."""
    return [replace(doc, entities=found) for doc, found in zip(docs, _tag([(d.text, d.paragraphs) for d in docs], progress))]
