"""Turn a raw news page into clean article text: no site furniture, no repeated paragraphs, plus metadata."""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from rag.config import DATA_DIR, file_hash
from rag.ingest.blocks import HEADING, ITEM, Block

RULES_FILE = DATA_DIR / "boilerplate.toml"
# Bump when the cleaning code changes what it keeps; a rule edit in RULES_FILE needs no bump (its hash is in config()).
VERSION = 4  # 4: list items, table rows and code blocks marked (items); 3: linear repeat check (issue 18); 2: blocks with headings from every format, tables of contents dropped


def config() -> dict:
    """What the cleaned text depends on: recorded in the index, a change re-cleans every file."""
    return {"version": VERSION, "rules": file_hash(RULES_FILE)}

MONTHS = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
DATE_RE = re.compile(
    rf"\b\d{{1,2}} (?:{MONTHS}) \d{{4}}(?: г(?:ода|\.)?)?(?:,? (?:в )?\d{{1,2}}:\d{{2}})?"
    r"|\b\d{2}\.\d{2}\.\d{4}(?:,? \d{1,2}:\d{2})?|\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2})?",
    re.IGNORECASE,
)
# "АСТАНА, 23 июн - Sputnik." / "МОСКВА, 5 марта. /ТАСС/." – agency datelines open the first paragraph.
DATELINE_RE = re.compile(r"^([A-ZА-ЯЁ][A-ZА-ЯЁ\- ]{1,40}), (\d{1,2} [а-яё]{3,9}\.?(?: \d{4})?)\s*(?:[-—–]|\.)\s*/?([\w .]{2,30}?)/?\.\s")
TITLE_MAX_CHARS = 160
TAIL_MAX_WORDS = 5  # short unpunctuated lines at the very end are page furniture
DUP_MIN_CHARS = 40  # a shorter paragraph inside a longer one is not a repeat (e.g. a name)
DUP_SEARCH_CHARS = 100_000  # repeats inside longer paragraphs are looked for among the first this many characters
SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")


@dataclass(frozen=True)
class CleanText:
    """An article after cleaning; `paragraphs` are (start, end) spans of `text`."""

    text: str
    title: str
    date: str | None
    dateline: str | None
    paragraphs: list[tuple[int, int]]
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (line, reason) for `rag inspect`
    headings: list[tuple[int, int]] = field(default_factory=list)  # spans of `paragraphs` that are headings
    dateline_outlet: str | None = None  # the agency a dateline names ("… — Sputnik.")
    items: list[tuple[int, int]] = field(default_factory=list)  # spans of `paragraphs` that are list items, rows, code


@cache
def _rules() -> dict:
    raw = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    compile_all = lambda key: [re.compile(p, re.IGNORECASE) for p in raw[key]]  # noqa: E731
    return {
        "label": compile_all("label_lines"),
        "promo": compile_all("promo_lines"),
        "survey": compile_all("survey_lines"),
        "menu": set(raw["menu_words"]),
    }


def normalize(text: str) -> str:
    """Unicode NFC, one kind of space and newline, no invisible characters, stripped lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = SPACES.sub(" ", INVISIBLE.sub("", text))
    return "\n".join(line.strip() for line in text.split("\n"))


def _key(line: str) -> str:
    """Comparison key: case, ё/е, punctuation and spacing do not make a paragraph new."""
    return " ".join(re.findall(r"\w+", line.lower().replace("ё", "е")))


def junk_reason(line: str) -> str | None:
    """Why a line is site furniture rather than article text, or None."""
    rules = _rules()
    if not re.search(r"[^\W\d_]", line):
        return "no words (widget numbers or symbols)"
    if DATE_RE.fullmatch(line):
        return "date line (kept as metadata)"
    if any(p.fullmatch(line) for p in rules["label"]):
        return "widget or menu label"
    words = re.findall(r"\w+", line.lower())
    if len(words) <= 6 and all(w in rules["menu"] for w in words):
        return "menu"
    if any(p.fullmatch(line) for p in rules["promo"]):
        return "subscription call"
    if any(p.fullmatch(line) for p in rules["survey"]):
        return "site survey"
    return None


def _is_tail_furniture(line: str) -> bool:
    return len(line.split()) <= TAIL_MAX_WORDS and not re.search(r"[.!?…»\"”]$", line)


def clean(raw: str) -> CleanText:
    """Clean one article given as text with a paragraph per line (see clean_blocks)."""
    return clean_blocks([Block(line) for line in normalize(raw).split("\n")])


def clean_blocks(blocks: list[Block], title: str | None = None, structured: bool = False) -> CleanText:
    """Clean one article's blocks: drop furniture, repeats and table-of-contents entries, find title, date and
    dateline. `title` is the file's own title (HTML, PDF, DOCX metadata), else the headline is guessed.
    `structured`: the reader knew where the text ends (HTML, Markdown, DOCX), so short last lines are kept."""
    blocks = [Block(t, b.kind) for b in blocks if (t := normalize(b.text).replace("\n", " ").strip())]
    date = next((m.group(0) for b in blocks if (m := DATE_RE.search(b.text))), None)
    heading_keys = {_key(b.text) for b in blocks if b.kind == HEADING}
    kept, dropped = [], []
    for b in blocks:
        reason = junk_reason(b.text)
        if not reason and b.kind != HEADING and _key(b.text) in heading_keys:
            reason = "table of contents (repeats a heading)"
        (dropped.append((b.text, reason)) if reason else kept.append(b))
    while not structured and kept and kept[-1].kind != HEADING and _is_tail_furniture(kept[-1].text):
        dropped.append((kept.pop().text, "short line at the end of the page"))
    paragraphs: list[Block] = []
    # Each paragraph's key is worked out once: exact repeats are a set lookup, and a repeat inside a longer
    # paragraph is looked for in the keys of the first DUP_SEARCH_CHARS (every news article fits; a 50 MB
    # dump stays linear instead of comparing each line with all before it).
    keys, searched = set(), "\n"  # searched: "\n"-separated keys, so a match never spans two paragraphs
    for b in kept:
        key = _key(b.text)
        if key in keys or (len(key) >= DUP_MIN_CHARS and key in searched):
            dropped.append((b.text, "repeated paragraph"))
            continue
        paragraphs.append(b)
        keys.add(key)
        if len(searched) < DUP_SEARCH_CHARS:
            searched += key + "\n"
    dateline = outlet = None
    if paragraphs and (m := DATELINE_RE.match(paragraphs[0].text)):
        dateline, outlet = m.group(0).rstrip(". "), m.group(3).strip()
        date = date or m.group(2)
    texts = [p.text for p in paragraphs]
    title = title or _title(texts, dateline)
    text, spans, headings, items, pos = "\n\n".join(texts), [], [], [], 0
    for p in paragraphs:
        spans.append((pos, pos + len(p.text)))
        if p.kind == HEADING:
            headings.append(spans[-1])
        elif p.kind == ITEM:
            items.append(spans[-1])
        pos += len(p.text) + 2
    return CleanText(text, title, date, dateline, spans, dropped, headings, outlet, items)


def _title(paragraphs: list[str], dateline: str | None) -> str:
    """A short first paragraph is the headline; otherwise the opening words stand in for it."""
    if not paragraphs:
        return ""
    first = paragraphs[0]
    if not dateline and len(first) <= TITLE_MAX_CHARS:
        return first
    body = first[len(dateline) :].lstrip(". ") if dateline else first
    sentence = re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0]
    if len(sentence) <= TITLE_MAX_CHARS:
        return sentence
    # A long lead is cut after its first clause («…безопасности, заявил президент…» → «…безопасности…»), not
    # mid-phrase; a lead without a comma before the limit is cut at a word.
    head = sentence[:TITLE_MAX_CHARS]
    cut = head.find(", ")
    return (head[:cut] if cut > 0 else head.rsplit(" ", 1)[0]).rstrip(" ,—–-") + "…"
