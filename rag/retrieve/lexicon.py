"""Colloquial questions in the articles' words (rag/data/colloquial.toml): «что решил совбез» is searched as
«что решил совет безопасности», «глава МИД» as «глава министерства иностранных дел», and the fillers of speech
(«ну», «короче», «слушай») are dropped. Spelling is corrected after this, so a short form is never "corrected"
into another word one edit away."""
from __future__ import annotations

import re
import tomllib
from collections.abc import Container
from functools import cache

from rag.config import DATA_DIR

# A noun's endings: «совбез» matches «совбеза», «совбезов», «совбезами».
ENDINGS = ("", "а", "я", "у", "ю", "ом", "ем", "ой", "ей", "е", "и", "ы", "ов", "ев", "ам", "ям", "ами", "ями", "ах", "ях", "ь", "ью")
EXACT_BELOW = 4  # a key this short matches only as written, in lowercase («чё»; «Че Гевара» is a name)
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@cache
def table() -> tuple[dict[str, str], frozenset[str], dict[str, str]]:
    """Every inflected form of every key → the articles' words, the fillers, and the acronyms (as written)."""
    data = tomllib.loads((DATA_DIR / "colloquial.toml").read_text(encoding="utf-8"))
    forms = {key + ending: words for key, words in data["words"].items()
             for ending in (ENDINGS if len(key) >= EXACT_BELOW else ("",))}
    return forms, frozenset(data["fillers"]["words"]), data["acronyms"]


def expand(question: str, corpus_words: Container[str] = ()) -> str:
    """expand("ну и чё решил совбез Молдовы?") == "и что решил совет безопасности Молдовы?". A word the corpus uses
    as it is written stays: an article that says «генсек» is found by «генсек»."""
    forms, fillers, acronyms = table()

    def one(m: re.Match) -> str:
        low = m.group(0).lower()
        if low in fillers:
            return ""
        if m.group(0) in acronyms:  # «глава МИД» in an article that writes «министр иностранных дел»
            return m.group(0) if low in corpus_words else acronyms[m.group(0)]
        if len(low) < EXACT_BELOW and m.group(0) != low:
            return m.group(0)
        return m.group(0) if low in corpus_words else forms.get(low, m.group(0))

    expanded = WORD.sub(one, question)
    if expanded == question:
        return question
    tidied = tidy(expanded)
    return tidied if WORD.search(tidied) else question  # «ну?» is left to the question checks


def tidy(text: str) -> str:
    """What a dropped filler leaves behind: tidy(", что , решил ?") == "что решил?"."""
    text = re.sub(r"(^|\s),", r"\1", text)  # the filler's comma («короче, …», «…, пожалуйста, …»)
    text = re.sub(r"\s+([,.?!;:])", r"\1", re.sub(r"\s{2,}", " ", text))
    text = re.sub(r",+([.?!;:])", r"\1", text)  # «выставка, подскажите?» → «выставка?»
    return text.strip(" ,.;:-")
