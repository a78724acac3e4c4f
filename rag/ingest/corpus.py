"""Read a folder of documents: find the files, read each by its format, clean them into Documents."""
from __future__ import annotations

import bisect
import codecs
import hashlib
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
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
# Read as UTF-8, CP1251/KOI8-R Russian is nearly all invalid (its letters are bytes 0xC0-0xFF, seldom followed by
# a continuation byte); a UTF-8 file damaged in a few places is nearly all valid.
DAMAGED_UTF8_VALID_SHARE = 0.5  # at least this share of the non-ASCII characters valid: damaged UTF-8


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
    items: list[tuple[int, int]] = field(default_factory=list)  # list items, table rows, code blocks (not HTML's <p>)
    entities: list[tuple[int, int, str]] = field(default_factory=list)  # natasha's PER/LOC/ORG spans, in order (the build's)

    @classmethod
    def from_dict(cls, d: dict) -> Document:
        """A document as a store saved it (JSON): spans back to tuples, so `span in doc.headings` holds."""
        return cls(**{**d, **{k: [tuple(p) for p in d.get(k, [])] for k in ("paragraphs", "headings", "items", "entities")}})

    def entities_in(self, start: int, end: int) -> list[tuple[int, int, str]]:
        """The entity spans inside [start, end) of the text."""
        i = bisect.bisect_left(self.entities, (start,))
        return [e for e in self.entities[i : bisect.bisect_left(self.entities, (end,))] if e[1] <= end]

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
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _checked(data.decode("utf-16"), name)
        except UnicodeDecodeError as e:
            raise BadFileError(f"{name}: UTF-16 with a broken character at byte {e.start}: save it as UTF-8") from None
    if b"\x00" in data:
        if data.count(b"\x00") * 3 > len(data) and len(data) % 2 == 0:  # every other byte: ASCII-range UTF-16
            raise BadFileError(f"{name}: looks like UTF-16 without a byte-order mark: save it as UTF-8")
        raise BadFileError(f"{name}: binary file (NUL bytes), not text: remove it or save it as UTF-8 text")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        _refuse_damaged_utf8(data, name, e.start)
        candidates = []
        for enc in LEGACY_ENCODINGS:
            try:
                candidates.append(data.decode(enc))
            except UnicodeDecodeError:
                continue
        if not candidates:
            raise BadFileError(f"{name}: not UTF-8, CP1251 or KOI8-R text: save it as UTF-8") from None
        text = max(candidates, key=lambda t: sum(ch in COMMON_RU for ch in t))
    return _checked(text, name)


def _checked(text: str, name: str) -> str:
    controls = sum(ch < " " and ch not in "\n\r\t\f" for ch in text)
    if controls > MAX_CONTROL_SHARE * max(len(text), 1):
        raise BadFileError(f"{name}: looks binary ({controls} control characters): remove it or save it as text")
    return text


def _refuse_damaged_utf8(data: bytes, name: str, first_bad: int) -> None:
    """A UTF-8 file with a few broken bytes is refused, naming the first, instead of read as CP1251/KOI8-R
    mojibake (which decodes any byte). Skipping rather than replacing: an article is never indexed with holes.
    E.g. "Привет" in UTF-8 plus one stray b"\\xff" byte: refused, "1 broken byte sequence(s), the first at byte 12".
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    non_ascii = sum(ch > "\x7f" for ch in text)
    if non_ascii - bad >= DAMAGED_UTF8_VALID_SHARE * non_ascii:
        raise BadFileError(
            f"{name}: UTF-8 with {bad} broken byte sequence(s), the first at byte {first_bad}: fix them "
            "(e.g. `iconv -c -f utf-8 -t utf-8`) and run `rag index` again"
        )


def read_document(
    path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES, max_line_chars: int | None = None
) -> tuple[Document, Extracted, CleanText]:
    """Read and clean one file, with what its reader and the cleaning made of it (`rag inspect` shows both);
    raises BadFileError naming the file. Files over `max_bytes` and lines over `max_line_chars` (RAG_MAX_FILE_MB,
    RAG_MAX_LINE_CHARS) are refused: data dumps, not articles."""
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BadFileError(f"{name}: {size / 2**20:.1f} MB, over the limit of {max_bytes / 2**20:g} MB (RAG_MAX_FILE_MB): "
                               "split it into articles or raise the limit")
        data = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime)
    except OSError as e:
        raise BadFileError(f"{name}: cannot be read ({e.strerror}): check its permissions") from e
    extracted = readers.read(data, name, decode)
    cleaned = clean_blocks(extracted.blocks, extracted.title, structured=extracted.format in STRUCTURED)
    if max_line_chars is not None and (longest := max((len(b.text) for b in extracted.blocks), default=0)) > max_line_chars:
        raise BadFileError(f"{name}: a line of {longest} characters, over the limit of {max_line_chars} "
                           "(RAG_MAX_LINE_CHARS): is it a data dump? split it into paragraphs or raise the limit")
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
        items=cleaned.items,
        date_inferred=inferred,
        outlet=extracted.outlet or cleaned.dateline_outlet or metadata.find_outlet(lines),
        author=extracted.author,
        language=extracted.language or ("ru" if sum(ch in COMMON_RU for ch in cleaned.text.lower()) > len(cleaned.text) / 4 else None),
        format=extracted.format,
        origin=extracted.origin,
    )
    return doc, extracted, cleaned


def load_document(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES, max_line_chars: int | None = None) -> Document:
    """Read and clean one file; raises BadFileError naming the file."""
    return read_document(path, root, max_bytes, max_line_chars)[0]


def find_files(root: Path) -> list[Path]:
    """Every file of a format we read (*.txt, *.md, *.html, *.pdf, *.docx …) below root, in a stable order;
    raises CorpusError if there are none."""
    return scan(root)[0]


def scan(root: Path) -> tuple[list[Path], list[str]]:
    """Every file of a format we read below root in a stable order, and a message for each one passed over: a name that
    is not UTF-8, a folder that cannot be listed (deeper than PATH_MAX, no permission), a symlink that leads
    out of the folder or nowhere, a pipe or device. Folder symlinks are not followed, so a loop cannot trap
    the walk. Raises CorpusError if nothing is left."""
    if not root.is_dir():
        raise CorpusError(f"corpus folder {root} does not exist: pass --corpus DIR or set RAG_CORPUS_DIR")
    inside = os.path.realpath(root)
    files, problems = [], []

    def unlistable(e: OSError) -> None:
        problems.append(f"{_shown(root, e.filename)}: folder cannot be listed ({e.strerror}): move its files higher up")

    for folder, dirs, names in os.walk(root, onerror=unlistable):
        for d in [d for d in dirs if not _is_utf8(d)]:
            dirs.remove(d)
            problems.append(f"{_shown(root, os.path.join(folder, d))}/: folder name is not valid UTF-8: rename it")
        dirs.sort()
        for n in names:
            if not any(fnmatchcase(n, p) for p in PATTERNS):
                continue
            path = Path(folder, n)
            if problem := _unusable(path, inside):
                problems.append(f"{_shown(root, path)}: {problem}")
            else:
                files.append(path)
    if not files:
        raise CorpusError(f"corpus folder {root} has no {', '.join(PATTERNS)} files: add documents and run `rag index`"
                          + "".join(f"; skipped {p}" for p in problems))
    return sorted(files), problems


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")  # os.walk gives undecodable bytes as lone surrogates
        return True
    except UnicodeEncodeError:
        return False


def _shown(root: Path, path) -> str:
    """A path relative to the corpus, printable even when its name is not UTF-8."""
    rel = os.path.relpath(os.fsdecode(path), root)
    return os.fsencode(rel).decode("utf-8", "replace")


def _unusable(path: Path, inside: str) -> str | None:
    """Why a found file cannot be indexed, or None."""
    if not _is_utf8(str(path)):
        return "file name is not valid UTF-8: rename it"
    if path.is_symlink() and os.path.commonpath([inside, os.path.realpath(path)]) != inside:
        return "symlink to a file outside the corpus folder: copy the file in instead"
    try:
        mode = path.stat().st_mode
    except OSError as e:
        return f"cannot be read ({e.strerror}): a broken or looping symlink, or a path too long"
    return None if stat.S_ISREG(mode) else "not a regular file (a pipe, socket or device): remove it"


def load_corpus(root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Document], list[str]]:
    """All readable documents under root, plus one message per file that was skipped."""
    files, problems = scan(root)
    docs = []
    for path in files:
        try:
            docs.append(load_document(path, root, max_bytes))
        except BadFileError as e:
            problems.append(str(e))
    if not docs:
        raise CorpusError(f"no readable articles in {root}: " + "; ".join(problems))
    return docs, problems
