"""Fix typos in questions against the words the articles actually use ("самит" → "саммит")."""
from __future__ import annotations

import re
import tomllib
from functools import cache

from rag.index.analysis import HOMOGLYPHS, STOPWORDS, forms, is_dictionary_word
from rag.config import DATA_DIR

ALPHABET = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
MIN_LENGTH = 4  # shorter words have too many neighbours one edit away
WORD = re.compile(r"[^\W\d_]+")
CYRILLIC = re.compile(r"[а-яё]")


# Letters that sound alike and are one slip to who writes by ear: «щёт» for «счёт», «расчёт» for «рассчёт».
SOUND_ALIKE = (("щ", "сч"), ("сч", "щ"))


def edits1(word: str) -> set[str]:
    """Every string one deletion, swap, replacement or insertion away (Norvig's speller), and one sound-alike
    spelling away: edits1("щёту") holds "счёту"."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {a + new + b[len(old) :] for a, b in splits for old, new in SOUND_ALIKE if b.startswith(old)}
        | {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in ALPHABET}
        | {a + c + b for a, b in splits for c in ALPHABET}
    )


@cache
def question_words() -> frozenset[str]:
    """Every form of the words questions ask with (rag/data/question_words.toml), ё and е both."""
    data = tomllib.loads((DATA_DIR / "question_words.toml").read_text(encoding="utf-8"))
    every = {f for w in data["words"] for f in forms(w)}
    return frozenset(every | {f.replace("ё", "е") for f in every})


class Speller:
    """Corrects words that are neither Russian dictionary words nor corpus words, when one edit fixes them: towards
    the corpus's words first, else towards the only dictionary word one edit away."""

    def __init__(self, word_counts: dict[str, int]):
        # A question word counts as a word the articles use once: a corpus word one edit away wins over it.
        self.counts = {**dict.fromkeys(question_words(), 1), **word_counts}

    def correct_word(self, word: str) -> str:
        low = word.lower()
        if not CYRILLIC.search(low):
            return word
        if (fixed := low.translate(HOMOGLYPHS)) != low:  # "гдe" typed with a Latin "e"
            word = low = fixed
        if low in self.counts or len(low) < MIN_LENGTH or low in STOPWORDS or is_dictionary_word(low):
            return word  # a real word the articles don't use is information, not a typo
        edits = edits1(low)
        candidates = [w for w in edits if w in self.counts]
        if candidates:  # the most frequent, and among equals the first alphabetically (a set's order changes with the hash seed)
            return min(candidates, key=lambda w: (-self.counts[w], w))
        # A word the articles lack may still be a misspelt word the question needs («агенству»: the question asks for
        # an agency): the one dictionary word one edit away, if only one is. Not a capitalised word: a name the
        # articles lack must stay as asked, or a near miss would lose the name it is judged by.
        known = [w for w in edits if is_dictionary_word(w)] if word == low else []
        return known[0] if len(known) == 1 else word

    def correct(self, text: str) -> str:
        return WORD.sub(lambda m: self.correct_word(m.group(0)), text)
