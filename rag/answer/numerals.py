"""Numbers, years, ordinals and quantities in a text, as values: «6-я» = «шестая» = 6, "5" is not inside "2025"."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.index import analysis

NUMERALS_FILE = Path(__file__).resolve().parent.parent / "data" / "numerals.toml"
# A number is a whole token: "2025-2027" holds 2025 and 2027, and no "5".
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?(?![\w]|[.,]\d|-[^\W\d_])")
DIGIT_ORDINAL = re.compile(r"(?<!\w)(\d{1,3})-?(?:ый|ий|ой|ая|яя|ое|ее|ые|ие|го|му|м|й|я|е|х|ю)(?!\w)", re.I)
YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?")


@cache
def table() -> dict[str, dict[str, float]]:
    return tomllib.loads(NUMERALS_FILE.read_text(encoding="utf-8"))


def numbers(text: str) -> list[str]:
    """Digit tokens, not counting years' or ordinals' digits twice: numbers("в 2025 году 5 стран") == ["2025", "5"]."""
    return NUMBER.findall(text)


def years(text: str) -> list[str]:
    """Four-digit years 1800–2099: years("на 2025–2027 годы") == ["2025", "2027"]."""
    return YEAR.findall(text)


def ordinals(text: str) -> set[int]:
    """Ordinal values, in digits or words: ordinals("6-я встреча") == ordinals("шестая встреча") == {6}."""
    found = {int(m.group(1)) for m in DIGIT_ORDINAL.finditer(text)}
    ordinal, english = table()["ordinal"], table()["english_ordinal"]
    for w in WORD.findall(text.lower().replace("ё", "е")):
        if w in english:
            found.add(int(english[w]))
        elif (value := ordinal.get(analysis.lemma(w))) is not None and "Anum" in analysis.tag(w):
            found.add(int(value))
    return found


def cardinal(word: str) -> float | None:
    """A number word's value: cardinal("пяти") == 5, cardinal("силам") is None."""
    return table()["cardinal"].get(analysis.lemma(word.lower()))


@dataclass(frozen=True)
class Quantity:
    """A number and the noun it counts: «183 региональных и локальных конфликтов» → 183, "конфликт"."""

    value: float
    unit: str | None  # the counted noun's lemma, None when no noun follows
    start: int
    end: int  # through the unit noun


def quantities(text: str, reach: int = 4) -> list[Quantity]:
    """Numbers in digits or words with the first noun within `reach` words after them:
    quantities("пять стран и три силы") → [Quantity(5, "страна", …), Quantity(3, "сила", …)]."""
    tokens = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"\d+(?:[.,]\d+)?|[^\W\d_]+", text)]
    out = []
    for i, (tok, a, b) in enumerate(tokens):
        if tok[0].isdigit():
            if YEAR.fullmatch(tok):
                continue
            value = float(tok.replace(",", "."))
        elif (value := cardinal(tok)) is None or "NUMR" not in analysis.tag(tok.lower()) and value < 10:
            continue
        unit, end = None, b
        for word, _, wb in tokens[i + 1 : i + 1 + reach]:
            if word[0].isdigit():
                break
            tag = analysis.tag(word.lower())
            if "NOUN" in tag:
                unit, end = analysis.lemma(word.lower()), wb
                break
        out.append(Quantity(value, unit, a, end))
    return out
