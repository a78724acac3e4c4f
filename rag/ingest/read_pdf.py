"""PDF → blocks from its text layer (pypdf); the lines of each page are unwrapped like hard-wrapped text."""
from __future__ import annotations

import io
import logging
import re
import statistics

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from rag.errors import BadFileError
from rag.ingest.blocks import HEADING, Block, Extracted
from rag.ingest.read_text import HEADING_MAX_WORDS

SHORT_LINE = 0.8  # of the median line length: a paragraph's last line, or a heading
ENDS_SENTENCE = re.compile(r"[.!?…:»\"”]$")

logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged but readable PDF need not flood the log


def paragraphs(lines: list[str]) -> list[Block]:
    """A PDF's lines (its text layer has one a printed line, across pages) → blocks. Proportional fonts make
    line lengths vary, so a paragraph ends at a line clearly shorter than most that ends a sentence; a short
    line without sentence punctuation is a heading.

    >>> [b.kind for b in paragraphs(["Заголовок", "Первая строка длинного абзаца текста", "и его конец."])]
    ['heading', 'paragraph']
    """
    lines = [" ".join(line.split()) for line in lines if line.strip()]
    if not lines:
        return []
    short = SHORT_LINE * statistics.median(len(line) for line in lines)
    blocks, current = [], []
    for line in lines:
        current.append(line)
        if len(line) < short:
            if not ENDS_SENTENCE.search(line) and len(current) == 1 and len(line.split()) <= HEADING_MAX_WORDS:
                blocks.append(Block(line, HEADING))
                current = []
            elif ENDS_SENTENCE.search(line):
                blocks.append(Block(" ".join(current)))
                current = []
    if current:
        blocks.append(Block(" ".join(current)))
    return blocks


def read_pdf(data: bytes) -> Extracted:
    """A PDF's text layer, its title, author and creation date; a scan (no text layer) or an encrypted PDF
    is refused with its reason."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadFileError("encrypted PDF (needs a password): save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except BadFileError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise BadFileError(f"broken PDF ({type(e).__name__}: {e}): save it again as PDF") from e
    text = "\n".join(pages)  # a paragraph may go on over a page break
    if not text.strip():
        raise BadFileError(f"scanned PDF without a text layer ({len(pages)} pages): run OCR on it first, then add it")
    created = info.get("/CreationDate")
    date = f"{created[2:6]}-{created[6:8]}-{created[8:10]}" if isinstance(created, str) and created.startswith("D:") and len(created) >= 10 else None
    return Extracted(paragraphs(text.split("\n")), "pdf", f"PDF text layer by pypdf, {len(pages)} pages",
                     title=info.get("/Title") or None, date=date, author=info.get("/Author") or None)
