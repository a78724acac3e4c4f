"""Colloquial words and newsroom abbreviations in questions, rewritten as articles say them (rag/data/colloquial.toml):
«секретари совбезов» → «секретари советов безопасности», before typos are corrected and anything is searched."""
from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

from rag.index import analysis

COLLOQUIAL_FILE = Path(__file__).resolve().parent.parent / "data" / "colloquial.toml"
MAX_ENDING = 3  # «совбез|ов», «генсек|а»: a case ending, not another word that starts the same
MIN_STEM = 4  # «че» is only «че»: «через» is not «что» with an ending
WORD = re.compile(r"(?<![\w-])[^\W\d_]+(?![\w-])")


@cache
def lexicon() -> dict[str, str]:
    return tomllib.loads(COLLOQUIAL_FILE.read_text(encoding="utf-8"))["words"]


def agreeing(words: list[str], like: str) -> list[str]:
    """The leading nominative words (the head and its adjectives) put in the case of `like`; the genitive rest stays:
    agreeing(["генеральный", "секретарь"], "генсека") == ["генерального", "секретаря"]."""
    out, inflecting = [], True
    for w in words:
        inflecting = inflecting and "nomn" in analysis.tag(w)
        out.append(analysis.inflect(w, like) if inflecting else w)
    return out


def standard(word: str) -> str | None:
    """The standard words for one colloquial word form, or None: standard("совбезов") == "советов безопасности"."""
    low = word.lower()
    if (value := lexicon().get(low)) is not None:
        return value
    for n in range(len(low) - 1, max(MIN_STEM, len(low) - MAX_ENDING) - 1, -1):
        if (value := lexicon().get(low[:n])) is not None:
            head, *rest = value.split(" ")
            ending = low[n:]
            # «совбез|ов» → «совет|ов» when that is a form of the word; else the typed form's case and number.
            if analysis.is_dictionary_word(head + ending) and analysis.lemma(head + ending) == analysis.lemma(head):
                return " ".join([head + ending, *rest])
            return " ".join(agreeing(value.split(" "), low))
    return None


def expand(text: str) -> str:
    """Every colloquial word of a text replaced: expand("чо сказал генсек?") == "что сказал генеральный секретарь?"."""
    return WORD.sub(lambda m: standard(m.group(0)) or m.group(0), text)
