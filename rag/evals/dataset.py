"""Eval datasets: one labelled question per JSON line, checked against the corpus before anything runs."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import EvalInputError
from rag.ingest.corpus import load_corpus

FIELDS = {"id": str, "question": str, "answer": str, "keys": list, "sources": list, "answerable": bool}
SHOWN_PROBLEMS = 10
# Every quote and dash a Russian text may use becomes one ASCII form, so «ЦА – 2040» matches "ца - 2040".
FOLD = str.maketrans({**{q: '"' for q in "«»“”„‟‹›\"'‘’‚"}, **{d: "-" for d in "‐‑‒–—―−"}, "ё": "е"})


def normalise(text: str) -> str:
    """Lowercase, ё → е, one kind of quote and dash, single spaces."""
    return " ".join(text.lower().translate(FOLD).split())


@dataclass(frozen=True)
class Question:
    """A question with its reference answer, key facts (groups of alternatives) and gold source files."""

    id: str
    question: str
    answer: str
    keys: list[list[str]]
    sources: list[str]
    answerable: bool


def corpus_texts(corpus_dir: Path) -> dict[str, str]:
    """Cleaned text of every readable file, by its source name (what citations and `sources` use)."""
    docs, _ = load_corpus(corpus_dir)
    return {d.source: d.text for d in docs}


def parse(line: str) -> tuple[Question | None, list[str]]:
    """One line → a Question, or the reasons it is not one."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return None, [f"not valid JSON ({e.msg} at column {e.colno})"]
    if not isinstance(obj, dict):
        return None, ["not a JSON object"]
    problems = [f"missing field {name!r}" for name in FIELDS if name not in obj]
    problems += [
        f"field {name!r} must be {kind.__name__}, not {type(obj[name]).__name__}"
        for name, kind in FIELDS.items()
        if name in obj and type(obj[name]) is not kind
    ]
    if problems:
        return None, problems
    if not obj["id"].strip() or not obj["question"].strip():
        problems.append("empty 'id' or 'question'")
    if not all(isinstance(g, list) and g and all(isinstance(k, str) and k.strip() for k in g) for g in obj["keys"]):
        problems.append("'keys' must be a list of non-empty lists of non-empty strings, e.g. [[\"Астана\"], [\"2025\", \"2027\"]]")
    if not all(isinstance(s, str) for s in obj["sources"]):
        problems.append("'sources' must be a list of file names")
    if obj["answerable"] and not (obj["keys"] and obj["sources"]):
        problems.append("an answerable question needs at least one key group and one source")
    if not obj["answerable"] and (obj["keys"] or obj["sources"]):
        problems.append("an unanswerable question has no keys and no sources")
    if problems:
        return None, problems
    return Question(**{name: obj[name] for name in FIELDS}), []


def grounding_problems(q: Question, folded: dict[str, str]) -> list[str]:
    """Sources that are not in the corpus, and keys that occur in none of the question's sources."""
    problems = [f"unknown source file {s!r} (not a readable file of the corpus)" for s in q.sources if s not in folded]
    texts = [folded[s] for s in q.sources if s in folded]
    if texts:
        problems += [
            f"key {k!r} occurs in none of its sources' cleaned text"
            for group in q.keys
            for k in group
            if not any(normalise(k) in t for t in texts)
        ]
    return problems


def load_dataset(path: Path, texts: dict[str, str]) -> list[Question]:
    """Every question of a dataset, or EvalInputError naming every problem with its line number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise EvalInputError(f"cannot read dataset {path} ({e}): give a UTF-8 JSONL file with --dataset") from e
    folded = {source: normalise(text) for source, text in texts.items()}
    questions, problems, seen = [], [], set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        q, bad = parse(line)
        if q:
            bad = grounding_problems(q, folded)
            if q.id in seen:
                bad.append(f"duplicate id {q.id!r}")
            seen.add(q.id)
            questions.append(q)
        problems += [f"line {n}{f' ({q.id})' if q else ''}: {p}" for p in bad]
    if not questions and not problems:
        problems.append("no questions")
    if problems:
        shown = "; ".join(problems[:SHOWN_PROBLEMS]) + (f"; … {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else "")
        raise EvalInputError(f"dataset {path} has {len(problems)} problem(s): {shown} — fix them (format: README, «Evaluation»)")
    return questions
