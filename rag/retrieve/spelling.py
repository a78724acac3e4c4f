"""Fix typos in questions against the words the articles actually use ("самит" → "саммит")."""
from __future__ import annotations

import re

from rag.index.analysis import HOMOGLYPHS, STOPWORDS, is_dictionary_word

ALPHABET = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
MIN_LENGTH = 4  # shorter words have too many neighbours one edit away
WORD = re.compile(r"[^\W\d_]+")
CYRILLIC = re.compile(r"[а-яё]")


def edits1(word: str) -> set[str]:
    """Every string one deletion, swap, replacement or insertion away (Norvig's speller)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in ALPHABET}
        | {a + c + b for a, b in splits for c in ALPHABET}
    )


class Speller:
    """Corrects words that are neither Russian dictionary words nor corpus words, when one edit fixes them."""

    def __init__(self, word_counts: dict[str, int]):
        self.counts = word_counts

    def correct_word(self, word: str) -> str:
        low = word.lower()
        if not CYRILLIC.search(low):
            return word
        if (fixed := low.translate(HOMOGLYPHS)) != low:  # "гдe" typed with a Latin "e"
            word = low = fixed
        if low in self.counts or len(low) < MIN_LENGTH or low in STOPWORDS or is_dictionary_word(low):
            return word  # a real word the articles don't use is information, not a typo
        candidates = [w for w in edits1(low) if w in self.counts]
        # The most frequent, and among equals the first alphabetically: a set's order changes with the hash seed.
        return min(candidates, key=lambda w: (-self.counts[w], w)) if candidates else word

    def correct(self, text: str) -> str:
        return WORD.sub(lambda m: self.correct_word(m.group(0)), text)
