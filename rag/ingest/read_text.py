"""Plain text → blocks: paragraphs rebuilt from hard-wrapped lines; one-paragraph-per-line text stays as it is."""
from __future__ import annotations

import re
import unicodedata

from rag.ingest.blocks import HEADING, Block, Extracted

MIN_WRAPPED_LINES = 4
MAX_WRAP_WIDTH = 120  # a file whose longest line is longer writes a paragraph per line
WRAPPED_SHARE = 0.5  # of lines that reach 60 % of the width, in a hard-wrapped file
# A wrapped line may start with "15 июня" or "г. Алматы": only a marker with its dot or bracket starts an item.
LIST_ITEM = re.compile(r"^(?:[-*•–]|\d{1,3}[.)]|[a-zа-я]\))\s+\S", re.IGNORECASE)
NUMBERED = re.compile(
    r"^(?:\d{1,3}(?:\.\d{1,3})*\.|\d{1,3}(?:\.\d{1,3})+|[IVXLC]{1,6}\.|(?:глава|раздел|часть|chapter|section) \d+\.?)\s+\S"
)
HEADING_MAX_WORDS = 14
SENTENCE_END = re.compile(r"[.,;:!…»\"”)]$")


def hard_wrapped(lines: list[str]) -> bool:
    """Whether the lines were wrapped at a fixed width (most lines nearly as long as the longest one).

    >>> hard_wrapped(["a" * 70, "b" * 68, "c" * 65, "d" * 20, "e" * 69])
    True
    """
    lines = [line for line in lines if line.strip()]
    if len(lines) < MIN_WRAPPED_LINES:
        return False
    width = max(len(line) for line in lines)
    return width <= MAX_WRAP_WIDTH and sum(len(line) >= 0.6 * width for line in lines) >= WRAPPED_SHARE * len(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def continues_with_dash(previous: str, line: str) -> bool:
    """A line opening with a dash after a line that ends on a comma or a closing quote goes on with the sentence
    (dialogue: «…сотрудничества", - сказал глава…»); after anything else the dash starts a list item.

    >>> continues_with_dash('"Мы всё сделаем",', "- сказал министр.")
    True
    >>> continues_with_dash("Купить:", "- хлеб")
    False
    """
    return line.lstrip().startswith(("-", "–", "—")) and bool(re.search(r"[,\"»”]$", previous.rstrip()))


def ends_paragraph(line: str, following: str, width: int) -> bool:
    """A wrapped line that stops short where the next line's first word would still have fit ends its paragraph.

    >>> ends_paragraph("Короткая строка.", "Дальше идёт длинный текст", 70)
    True
    """
    first_word = following.split()[0] if following.split() else ""
    return len(line.rstrip()) + 1 + len(first_word) <= width


def is_heading(text: str, numbered_or_alone: bool) -> bool:
    """A short line without sentence punctuation (a question mark is allowed: FAQ headings) standing alone.

    >>> is_heading("2. Как собрать пакет?", True)
    True
    >>> is_heading("Он уехал.", True)
    False
    """
    return numbered_or_alone and len(text.split()) <= HEADING_MAX_WORDS and not SENTENCE_END.search(text)


def unwrap(raw: str) -> list[Block]:
    """Blocks of hard-wrapped text: blank lines, list items, a change of indentation or a line that stops
    short start a new block; the other lines of a block are joined with spaces."""
    lines = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    width = max((len(line.rstrip()) for line in lines), default=0)
    groups: list[list[str]] = [[]]
    for i, line in enumerate(lines):
        if not line.strip():
            groups.append([])
            continue
        current = groups[-1]
        # A deeper indent starts a paragraph, except the hanging indent of a list item's next lines.
        indented = _indent(line) > _indent(current[-1]) if current else False
        item = LIST_ITEM.match(line.strip()) and not continues_with_dash(current[-1] if current else "", line)
        if current and (item or NUMBERED.match(line.strip()) or (indented and not LIST_ITEM.match(current[0].strip()))):
            groups.append(current := [])
        current.append(line)
        following = next((x for x in lines[i + 1 : i + 2] if x.strip()), "")
        if following and ends_paragraph(line, following, width):
            groups.append([])
    blocks = []
    for i, group in enumerate(g for g in groups if g):
        text = " ".join(line.strip() for line in group)
        # A single short line: a heading when numbered ("2.1 Сборка") or alone, a paragraph otherwise.
        kind = HEADING if len(group) == 1 and is_heading(text, bool(NUMBERED.match(text)) or i == 0 or text.endswith("?")) else "paragraph"
        blocks.append(Block(text, kind))
    return blocks


def read_text(text: str) -> Extracted:
    """A plain-text file: unwrapped when hard-wrapped, else one block per line exactly as before."""
    if hard_wrapped(text.split("\n")):
        return Extracted(unwrap(text), "text", "plain text, hard-wrapped lines joined into paragraphs")
    return Extracted([Block(line) for line in text.split("\n")], "text", "plain text, a paragraph per line")
