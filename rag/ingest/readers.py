"""Which reader a file needs: sniffed from its first bytes, so a file whose name lies about its format is read
by what it is (an HTML page saved as .txt), and a binary file with a text name is refused with its reason."""
from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import PurePath

from rag.config import file_hash

from rag.errors import BadFileError
from rag.ingest.blocks import Extracted
from rag.ingest.metadata import RULES_FILE
from rag.ingest.read_text import read_text

# Bump when a reader changes what it extracts; the libraries' versions and the metadata rules are recorded too.
VERSION = 4  # 4: an HTML or Markdown list item with a nested list introduces it (a paragraph); 3: list items, table rows, code and quotes are items; 2: credits (who did what) kept as text
LIBRARIES = ("trafilatura", "markdown-it-py", "pypdf", "python-docx")

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
            ".pdf": "pdf", ".docx": "docx"}
HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype html|html|head|body)\b", re.I | re.S)


def config() -> dict:
    """What reading a file depends on: recorded in the index, a change reads every file again."""
    return {"version": VERSION, "metadata_rules": file_hash(RULES_FILE), **{lib: version(lib) for lib in LIBRARIES}}


def sniff(data: bytes, name: str) -> str:
    """The format of a file by its content: PDF and DOCX by their signature, HTML by its opening tag, else
    the name's suffix (text or Markdown).

    >>> sniff(b"<!DOCTYPE html><html><body>x</body></html>", "page.txt")
    'html'
    """
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    if HTML_START.match(data[:4096]):
        return "html"
    named = SUFFIXES.get(PurePath(name).suffix.lower(), "text")
    if named in ("pdf", "docx"):
        raise BadFileError(f"{name}: named {PurePath(name).suffix} but is not a {named.upper()} file: rename or re-save it")
    return named


def read(data: bytes, name: str, decode) -> Extracted:
    """Read one file's bytes by its sniffed format; `decode(bytes, name)` turns text formats into str."""
    kind = sniff(data, name)
    # The readers' libraries load when a file needs them: answering never does (trafilatura alone takes 0.3 s).
    try:
        if kind == "pdf":
            from rag.ingest.read_pdf import read_pdf

            return read_pdf(data)
        if kind == "docx":
            from rag.ingest.read_docx import read_docx

            return read_docx(data)
        text = decode(data, name)
        if kind == "html":
            from rag.ingest.read_html import read_html

            return read_html(text)
        if kind == "markdown":
            from rag.ingest.read_markdown import read_markdown

            return read_markdown(text)
        return read_text(text)
    except BadFileError as e:
        message = str(e)
        raise BadFileError(message if message.startswith(f"{name}:") else f"{name}: {message}") from e
