"""👍/👎 on answers, kept with the question, the answer and its citations in SQLite beside the index folder, and
exported as eval JSONL (docs/eval.md's format) so that disliked answers become questions to fix."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rag.config import Settings

SCHEMA = """CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY, at REAL NOT NULL, rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
  question TEXT NOT NULL, asked TEXT NOT NULL, answer TEXT NOT NULL, abstained INTEGER NOT NULL, citations TEXT NOT NULL)"""


def path(settings: Settings) -> Path:
    """In the index folder's parent: `rag index` swaps build folders, the feedback must outlive them."""
    return settings.index_dir.parent / "feedback.sqlite3"


class Store:
    def __init__(self, file: Path):
        file.parent.mkdir(parents=True, exist_ok=True)
        self.file, self._lock = file, threading.Lock()
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.file, timeout=10)

    def add(self, rating: str, question: str, asked: str, answer: str, abstained: bool, citations: list[dict]) -> int:
        with self._lock, self._connect() as db:
            cur = db.execute(
                "INSERT INTO feedback (at, rating, question, asked, answer, abstained, citations) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), rating, question, asked, answer, int(abstained), json.dumps(citations, ensure_ascii=False)),
            )
            return int(cur.lastrowid)

    def rows(self) -> Iterator[dict]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            for r in db.execute("SELECT * FROM feedback ORDER BY id"):
                yield {**dict(r), "abstained": bool(r["abstained"]), "citations": json.loads(r["citations"])}


def eval_record(row: dict) -> dict:
    """One feedback row as an eval question: a liked answer is the reference; a disliked one is kept to be labelled
    (`answerable` unknown, `disliked_answer` what the bot said)."""
    sources = sorted({c["source"] for c in row["citations"]})
    base = {"id": f"fb{row['id']}", "question": row["question"], "feedback": row["rating"]}
    if row["rating"] == "up":
        return {**base, "answer": row["answer"], "keys": [], "sources": sources, "answerable": not row["abstained"]}
    return {**base, "disliked_answer": row["answer"], "sources": [], "answerable": None, "asked": row["asked"]}


def export(store: Store) -> Iterator[str]:
    for row in store.rows():
        # One record a line: the separators that str.splitlines() also breaks at are escaped like JSON's own.
        yield json.dumps(eval_record(row), ensure_ascii=False).replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
