"""Texts shown to people, read from rag/data/texts.toml so they can be edited without touching code."""
from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

TEXTS_FILE = Path(__file__).parent / "data" / "texts.toml"


@cache
def texts() -> dict[str, str]:
    return tomllib.loads(TEXTS_FILE.read_text(encoding="utf-8"))


def text(key: str, **values) -> str:
    """One text by key, with {placeholders} filled in."""
    return texts()[key].format(**values)
