"""DOCX → blocks with python-docx: paragraphs with heading styles are headings, tables are read by row."""
from __future__ import annotations

import io
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError

from rag.errors import BadFileError
from rag.ingest.blocks import HEADING, ITEM, Block, Extracted


def _kind(paragraph) -> str:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    return HEADING if name.startswith(("Heading", "Title")) else ITEM if name.startswith("List") else "paragraph"


def read_docx(data: bytes) -> Extracted:
    """A Word document's paragraphs and tables in order, its title, author and creation date."""
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise BadFileError(f"broken DOCX ({type(e).__name__}): open and save it again in Word or LibreOffice") from e
    blocks, title = [], None
    for item in document.iter_inner_content():
        if isinstance(item, docx.table.Table):
            blocks += [Block(" | ".join(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip())), ITEM) for row in item.rows]
        else:
            blocks.append(Block(item.text, _kind(item)))
            if blocks[-1].kind == HEADING and item.style.name == "Title":
                title = title or item.text.strip()
    props = document.core_properties
    return Extracted(blocks, "docx", "DOCX paragraphs and tables by python-docx", title=props.title or title,
                     date=props.created.date().isoformat() if props.created else None,
                     author=props.author or None, language=props.language or None)
