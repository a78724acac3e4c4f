"""Names across scripts: Tokayev, Tokaev and Токаев share one consonant skeleton."""
from __future__ import annotations

import re
from functools import lru_cache

from unidecode import unidecode

# Vowels and the letters English spellings add or drop (y in Tokayev, h in Kazakhstan, j/w) carry no identity.
SOFT = re.compile(r"[aeiouyjhw']")


@lru_cache(maxsize=200_000)
def skeleton(word: str) -> str:
    """A word's consonants in Latin, doubles collapsed: skeleton("Tokayev") == skeleton("Токаев") == "tkv"."""
    latin = SOFT.sub("", unidecode(word).lower())
    return re.sub(r"(.)\1+", r"\1", latin)
