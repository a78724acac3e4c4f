"""The record every format reader returns: the document's blocks in reading order, plus what the file says of itself."""
from __future__ import annotations

from dataclasses import dataclass, field

# An "item" is a list item, a table row, a code block or a block quote: a part of what the paragraph before it introduces
# («Поставьте пакеты:» and then «autoconf», «automake»), not a sentence that stands alone.
PARAGRAPH, HEADING, ITEM = "paragraph", "heading", "item"


@dataclass(frozen=True)
class Block:
    """One paragraph (kind "paragraph"), list item, table row or code block (kind "item"), or a heading (kind "heading")."""

    text: str
    kind: str = PARAGRAPH


@dataclass(frozen=True)
class Extracted:
    """A file read by its format's reader, before the furniture rules. Metadata fields are None when the file
    does not say; `origin` says where the text came from (the library and the part of the file)."""

    blocks: list[Block]
    format: str
    origin: str
    title: str | None = None
    date: str | None = None  # as the file gives it: ISO, or a date written in the text
    author: str | None = None
    outlet: str | None = None
    language: str | None = None
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (text, reason) for `rag inspect`
