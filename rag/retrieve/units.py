"""Evidence units of a retrieved chunk: its sentences, a sentence that points back joined to the one before it,
and a sentence that introduces a list joined to the list's items. Each unit carries the rows (chunk id, sentence
number) of the sentence vectors its direction is summed from; the retriever scores units, not sentences."""
from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass

from rag.index.interface import Store
from rag.ingest.chunking import Chunk
from rag.ingest.corpus import STRUCTURED

# A sentence with a demonstrative among its first three words ("Это наивысший показатель…", "Да, это наша…",
# "Потенциал этого центра…", «Здесь мы видим…») or those after a credit («Как подчеркнул министр, это…», «По его
# словам, этот…»), or «подобные», «указанные» anywhere, makes no sense alone: it is scored and quoted with the
# sentence before it.
ANAPHOR = re.compile(
    r"^\W*(?:(?:как|по)\s[^,.]{1,60},\s*)?(?:\w+\W+){0,2}?(эт(?:о|от|а|и|ого|ой|ому|им|их|ом|у)|так(?:ой|ая|ое|ие|их|ого|им|ую)|данн\w+|"
    r"подобн\w+|указанн\w+|именно|поэтому|там|тут|здесь|тогда)\b"
    # …and words that only point back, wherever they stand («…мы категорически отвергаем подобные подходы»)
    r"|^.*?\b(?:подобн|указанн|вышеупомянут|вышеназванн|вышеуказанн|вышеперечисленн)\w*\b",
    re.IGNORECASE,
)
HEADING_MAX_WORDS = 15
# A sentence that ends its paragraph with a colon introduces what follows: «Есть несколько ресурсов…:» and the
# list items after it are one answer (each item alone is a fragment: «команду aptitude»).
LIST_INTRO = re.compile(r":\s*(?:\[\d+\]\s*)?$")  # a footnote's mark may follow the colon: «…следующим образом:[99]»
# A closing quote ends a sentence only after its stop (Russian writes «…силами зла».): a subheading «Борьба с "тремя
# силами зла"» has none.
SENTENCE_END = re.compile(r"[.!?…][»\"”)]*$")
# A table of contents' entry «4. Обязательные файлы» or «5.1. Файл README.Debian»: HTML, Markdown and DOCX number
# their list items outside the text, so a section number written in the text names a section elsewhere.
SECTION_ENTRY = re.compile(r"^\s*(?:[A-ZА-Я]|\d+)(?:\.\d+)*\.\s+\S")
LIST_MAX_ITEMS = 12


def containing(spans: list[tuple[int, int]], span: tuple[int, int]) -> tuple[int, int] | None:
    """The one of `spans` (in order, not overlapping: a document's paragraphs, headings or items) that holds
    `span`, found by bisection: containing([(0, 5), (7, 9)], (7, 8)) == (7, 9); None when none does."""
    i = bisect_right(spans, (span[0], math.inf)) - 1
    return spans[i] if i >= 0 and span[1] <= spans[i][1] else None


@dataclass(frozen=True)
class Unit:
    """[start, end) of Document.text, whether it is a heading, and the sentence vectors' rows it is made of."""

    start: int
    end: int
    heading: bool
    rows: tuple[tuple[int, int], ...]


class Units:
    """The evidence units of one loaded build's chunks."""

    def __init__(self, index: Store):
        self.index = index

    def _previous(self, chunk: Chunk, chunk_id: int, i: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The sentence before sentence i of a chunk and its vector (chunk id, sentence number), looking
        into the chunk before."""
        if i:
            return chunk.sentences[i - 1], (chunk_id, i - 1)
        before = self.index.chunks[chunk_id - 1] if chunk_id else None
        if before is None or before.source != chunk.source:
            return None
        earlier = [j for j, s in enumerate(before.sentences) if s[1] <= chunk.sentences[0][0]]
        return (before.sentences[earlier[-1]], (chunk_id - 1, earlier[-1])) if earlier else None

    def _is_heading(self, doc, span: tuple[int, int]) -> bool:
        """A heading the reader found (HTML, Markdown, DOCX headings, a wrapped text's numbered or FAQ headings),
        or in a paragraph-per-line text a short paragraph without a full stop. HTML, Markdown and DOCX mark their
        headings, so there a short line without a full stop is a list item, a term or a command: text, unless it
        opens with a section number (a table of contents' entry)."""
        if self._marked_heading(doc, span):
            return True
        text = doc.text[span[0] : span[1]]
        if doc.format in STRUCTURED:
            return bool(SECTION_ENTRY.match(text)) and not SENTENCE_END.search(text)
        return containing(doc.paragraphs, span) == span and len(text.split()) <= HEADING_MAX_WORDS and not SENTENCE_END.search(text)

    @staticmethod
    def _marked_heading(doc, span: tuple[int, int]) -> bool:
        return containing(doc.headings, span) is not None

    def _list_items(self, doc, chunk: Chunk, chunk_id: int, i: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """The items (span, vector row) of the list sentence i of a chunk introduces, when it ends its
        paragraph with a colon (in HTML, Markdown, DOCX: any paragraph a list follows): the sentences of the list items, table rows and code blocks the reader marked,
        or in plain text and PDF the whole paragraphs that do not end like a sentence; read on into the chunks
        after, as a list does not stop where a chunk does (none when it introduces no list)."""
        a, b = chunk.sentences[i]
        # Where the reader marks lists, the paragraph before one introduces it, colon or not («…, то» + steps).
        introduces = LIST_INTRO.search(doc.text[a:b]) or doc.format in STRUCTURED and not self._is_item(doc, (a, b))
        paragraph = containing(doc.paragraphs, (a, b))
        if not introduces or paragraph is None or paragraph[1] != b:  # an intro ends its paragraph
            return []
        items = []
        for span, row in self._following(chunk, chunk_id, i):
            if len(items) == LIST_MAX_ITEMS or not self._is_item(doc, span):
                break
            items.append((span, row))
        return items

    def _following(self, chunk: Chunk, chunk_id: int, i: int):
        """The sentences after sentence i of a chunk, with their vector rows, then those of the chunks after
        it in the same document (each sentence once: chunks overlap)."""
        yield from ((span, (chunk_id, j)) for j, span in enumerate(chunk.sentences) if j > i)
        end, after = chunk.end, chunk_id + 1
        while after < len(self.index.chunks) and (nxt := self.index.chunks[after]).source == chunk.source:
            yield from ((span, (after, j)) for j, span in enumerate(nxt.sentences) if span[0] >= end)
            end, after = max(end, nxt.end), after + 1

    def _is_item(self, doc, span: tuple[int, int]) -> bool:
        if self._marked_heading(doc, span):
            return False
        if doc.format in STRUCTURED:
            return containing(doc.items, span) is not None
        text = doc.text[span[0] : span[1]].rstrip(" ;,")
        return containing(doc.paragraphs, span) == span and not SENTENCE_END.search(text)

    def of(self, chunk: Chunk, chunk_id: int) -> list[Unit]:
        """The evidence units of a chunk, in order: sentences,
        with an anaphoric one joined to the sentence before it (across a paragraph break too, but never to a heading),
        and one that introduces a list joined to its items."""
        doc = self.index.documents[chunk.source]
        units, sentences, i = [], chunk.sentences, 0
        while i < len(sentences):
            a, b = sentences[i]
            rows = [(chunk_id, i)]
            prev = self._previous(chunk, chunk_id, i) if ANAPHOR.match(doc.text[a:b]) else None
            if prev and not self._is_heading(doc, prev[0]):
                a, rows = prev[0][0], [prev[1], (chunk_id, i)]
            if items := self._list_items(doc, chunk, chunk_id, i):
                b, rows = items[-1][0][1], rows + [row for _, row in items]
            units.append(Unit(a, b, self._is_heading(doc, (a, b)), tuple(rows)))
            i += 1 + sum(c == chunk_id for _, (c, _) in items)  # its items are not units of their own
        return units
