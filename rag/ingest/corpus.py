"""Read a folder of articles: find the files, detect their encoding, clean them into Documents."""
from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import BadFileError, CorpusError
from rag.ingest.cleaning import clean

PATTERNS = ("*.txt", "*.md")
LEGACY_ENCODINGS = ("cp1251", "koi8_r")
# Letters that make up most of Russian text; the right legacy decoding yields them in lowercase.
COMMON_RU = set("оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё")
MAX_CONTROL_SHARE = 0.01


@dataclass(frozen=True)
class Document:
    """One cleaned article. Citations quote `text`; `source` is the path relative to the corpus."""

    source: str
    title: str
    date: str | None
    dateline: str | None
    text: str
    paragraphs: list[tuple[int, int]]
    sha256: str


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


def load_document(path: Path, root: Path) -> Document:
    """Read and clean one file; raises BadFileError naming the file."""
    name = path.relative_to(root).as_posix()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadFileError(f"{name}: cannot be read ({e.strerror}): check its permissions") from e
    cleaned = clean(decode(data, name))
    if not cleaned.text:
        raise BadFileError(f"{name}: no article text left after cleaning: is it an empty or menu-only page?")
    return Document(
        source=name,
        title=cleaned.title,
        date=cleaned.date,
        dateline=cleaned.dateline,
        text=cleaned.text,
        paragraphs=cleaned.paragraphs,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def find_files(root: Path) -> list[Path]:
    """Every *.txt and *.md below root, in a stable order; raises CorpusError if there are none."""
    if not root.is_dir():
        raise CorpusError(f"corpus folder {root} does not exist: pass --corpus DIR or set RAG_CORPUS_DIR")
    files = sorted({p for pattern in PATTERNS for p in root.rglob(pattern) if p.is_file()})
    if not files:
        raise CorpusError(f"corpus folder {root} has no *.txt or *.md files: add articles and run `rag index`")
    return files


def load_corpus(root: Path) -> tuple[list[Document], list[str]]:
    """All readable documents under root, plus one message per file that was skipped."""
    docs, problems = [], []
    for path in find_files(root):
        try:
            docs.append(load_document(path, root))
        except BadFileError as e:
            problems.append(str(e))
    if not docs:
        raise CorpusError(f"no readable articles in {root}: " + "; ".join(problems))
    return docs, problems
