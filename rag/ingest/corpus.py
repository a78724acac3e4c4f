"""Read a folder of documents: find the files, read each by its format, clean them into Documents."""
from __future__ import annotations

import bisect
import codecs
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rag.errors import BadFileError, CorpusError
from rag.ingest import metadata, readers
from rag.ingest.blocks import Extracted
from rag.ingest.cleaning import CleanText, clean_blocks

PATTERNS = tuple(f"*{suffix}" for suffix in readers.SUFFIXES)
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
STRUCTURED = ("html", "markdown", "docx")  # formats whose reader knows where the text ends
LEGACY_ENCODINGS = ("cp1251", "koi8_r")
# Letters that make up most of Russian text; the right legacy decoding yields them in lowercase.
COMMON_RU = set("оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё")
MAX_CONTROL_SHARE = 0.01


@dataclass(frozen=True)
class Document:
    """One cleaned document. Citations quote `text`; `source` is the path relative to the corpus. `paragraphs`
    are (start, end) spans of `text` in order; `headings` the ones among them that are headings (structure:
    never an answer). `date` is ISO; `date_inferred` says its year was not on the page."""

    source: str
    title: str
    date: str | None
    dateline: str | None
    text: str
    paragraphs: list[tuple[int, int]]
    sha256: str
    headings: list[tuple[int, int]] = field(default_factory=list)
    date_inferred: bool = False
    outlet: str | None = None
    author: str | None = None
    language: str | None = None
    format: str = "text"
    origin: str = ""

    def section_span(self, position: int) -> tuple[int, int] | None:
        """The span of the heading of the section that holds `position` of the text (None before the first)."""
        i = bisect.bisect_right([a for a, _ in self.headings], position) - 1
        return self.headings[i] if i >= 0 else None

    def section(self, position: int) -> str:
        """The heading of the section that holds `position` of the text ("" before the first heading)."""
        span = self.section_span(position)
        return self.text[span[0] : span[1]] if span else ""


def decode(data: bytes, name: str) -> str:
    """Bytes → text: UTF-8 (with or without BOM), else whichever of CP1251/KOI8-R reads as Russian."""
    if b"\x00" in data:
        raise BadFileError(f"{name}: binary file (NUL bytes), not text: remove it or save it as UTF-8 text")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        candidates = []
        for enc in LEGACY_ENCODINGS:
            try:
                candidates.append(data.decode(enc))
            except UnicodeDecodeError:
                continue
        if not candidates:
            raise BadFileError(f"{name}: not UTF-8, CP1251 or KOI8-R text: save it as UTF-8") from None
        text = max(candidates, key=lambda t: sum(ch in COMMON_RU for ch in t))
    controls = sum(ch < " " and ch not in "\n\r\t\f" for ch in text)
    if controls > MAX_CONTROL_SHARE * max(len(text), 1):
        raise BadFileError(f"{name}: looks binary ({controls} control characters): remove it or save it as text")
    return text


def read_document(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Document, Extracted, CleanText]:
    """Read and clean one file, with what its reader and the cleaning made of it (`rag inspect` shows both);
    raises BadFileError naming the file."""
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BadFileError(
                f"{name}: {size / 2**20:.0f} MB is more than the {max_bytes / 2**20:.0f} MB limit: split it, or raise RAG_MAX_FILE_MB"
            )
        data = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime)
    except OSError as e:
        raise BadFileError(f"{name}: cannot be read ({e.strerror}): check its permissions") from e
    extracted = readers.read(data, name, decode)
    cleaned = clean_blocks(extracted.blocks, extracted.title, structured=extracted.format in STRUCTURED)
    if not cleaned.text:
        raise BadFileError(f"{name}: no article text left after cleaning: is it an empty or menu-only page?")
    # Plain text takes the first date it names, as always; the other formats say their date in metadata, or on
    # a line of its own, or in a dateline, not in a sentence (the guide's pages quote changelog dates).
    written = cleaned.date if extracted.format == "text" else extracted.date or next(
        (line for line, reason in cleaned.dropped if reason.startswith("date line")), None
    ) or (cleaned.date if cleaned.dateline else None)
    date, inferred = metadata.iso_date(written, cleaned.text, mtime.year)
    lines = [cleaned.text, *(line for line, _ in cleaned.dropped)]
    doc = Document(
        source=name,
        title=cleaned.title,
        date=date,
        dateline=cleaned.dateline,
        text=cleaned.text,
        paragraphs=cleaned.paragraphs,
        sha256=hashlib.sha256(data).hexdigest(),
        headings=cleaned.headings,
        date_inferred=inferred,
        outlet=extracted.outlet or cleaned.dateline_outlet or metadata.find_outlet(lines),
        author=extracted.author,
        language=extracted.language or ("ru" if sum(ch in COMMON_RU for ch in cleaned.text.lower()) > len(cleaned.text) / 4 else None),
        format=extracted.format,
        origin=extracted.origin,
    )
    return doc, extracted, cleaned


def load_document(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Read and clean one file; raises BadFileError naming the file."""
    return read_document(path, root, max_bytes)[0]


def find_files(root: Path) -> list[Path]:
    """Every file of a format we read (*.txt, *.md, *.html, *.pdf, *.docx …) below root, in a stable order;
    raises CorpusError if there are none."""
    if not root.is_dir():
        raise CorpusError(f"corpus folder {root} does not exist: pass --corpus DIR or set RAG_CORPUS_DIR")
    files = sorted({p for pattern in PATTERNS for p in root.rglob(pattern) if p.is_file()})
    if not files:
        raise CorpusError(f"corpus folder {root} has no {', '.join(PATTERNS)} files: add documents and run `rag index`")
    return files


def load_corpus(root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Document], list[str]]:
    """All readable documents under root, plus one message per file that was skipped."""
    docs, problems = [], []
    for path in find_files(root):
        try:
            docs.append(load_document(path, root, max_bytes))
        except BadFileError as e:
            problems.append(str(e))
    if not docs:
        raise CorpusError(f"no readable articles in {root}: " + "; ".join(problems))
    return docs, problems
