"""A document's date as ISO (with the year inferred when the page omits it) and its outlet."""
from __future__ import annotations

import re
import tomllib
from datetime import date as Date
from functools import cache

from rag.config import DATA_DIR

RULES_FILE = DATA_DIR / "metadata.toml"
MONTHS = {
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7, "авг": 8, "сен": 9,
    "окт": 10, "ноя": 11, "дек": 12,
}
RU_DATE = re.compile(r"\b(\d{1,2}) ([а-яё]{3,9})\.?(?: (\d{4}))?", re.IGNORECASE)
DOTTED = re.compile(r"\b(\d{2})\.(\d{2})\.(\d{4})\b")
ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


@cache
def _outlet_rules() -> list[re.Pattern]:
    return [re.compile(p) for p in tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))["outlet_patterns"]]


def _valid(y: int, m: int, d: int) -> str | None:
    try:
        return Date(y, m, d).isoformat()
    except ValueError:
        return None


def text_year(text: str) -> int | None:
    """The year a text without a dated header belongs to: the earliest year it names (a dateline omits the
    news's own year; later years in the text are plans and forecasts).

    >>> text_year("программа на 2025-2027 годы, принятая в 2024 году")
    2024
    """
    years = [int(y) for y in YEAR.findall(text)]
    return min(years) if years else None


def iso_date(written: str | None, text: str, file_year: int | None = None) -> tuple[str | None, bool]:
    """A written date ("3 апр", "16 сентября 2021 14:37", "16.05.2024", "2011-04-29") as ISO, and whether its
    year was inferred (from the text, else from the file's own date).

    >>> iso_date("3 апр", "в 2024 году")
    ('2024-04-03', True)
    """
    if not written:
        return None, False
    if m := ISO.search(written):
        return _valid(int(m[1]), int(m[2]), int(m[3])), False
    if m := DOTTED.search(written):
        return _valid(int(m[3]), int(m[2]), int(m[1])), False
    if (m := RU_DATE.search(written)) and (month := MONTHS.get(m[2].lower()[:3])):
        if m[3]:
            return _valid(int(m[3]), month, int(m[1])), False
        year = text_year(text) or file_year
        return (_valid(year, month, int(m[1])), True) if year else (None, False)
    return None, False


def find_outlet(lines: list[str]) -> str | None:
    """The outlet a document names for itself («передает Tengrinews.kz», «канал Tengrinews.kz»), by the rules
    in rag/data/metadata.toml, in the order given there.

    >>> find_outlet(["Президент выступил, передает Example.kz со ссылкой на пресс-службу."])
    'Example.kz'
    """
    for rule in _outlet_rules():
        for line in lines:
            if m := rule.search(line):
                return m["outlet"]
    return None
