"""PDF → blocks from its text layer (pypdf); the lines of each page are unwrapped like hard-wrapped text."""
from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from rag.errors import BadFileError
from rag.ingest.blocks import Extracted
from rag.ingest.read_text import unwrap

logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged but readable PDF need not flood the log


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
    text = "\n\n".join(p.strip() for p in pages)
    if not text.strip():
        raise BadFileError(f"scanned PDF without a text layer ({len(pages)} pages): run OCR on it first, then add it")
    created = info.get("/CreationDate")
    date = f"{created[2:6]}-{created[6:8]}-{created[8:10]}" if isinstance(created, str) and created.startswith("D:") and len(created) >= 10 else None
    return Extracted(unwrap(text), "pdf", f"PDF text layer by pypdf, {len(pages)} pages",
                     title=info.get("/Title") or None, date=date, author=info.get("/Author") or None)
