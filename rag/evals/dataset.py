"""Eval datasets: one labelled question per JSON line, checked against the corpus before anything runs."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import EvalInputError
from rag.ingest.corpus import load_corpus

FIELDS = {"id": str, "question": str, "answer": str, "keys": list, "sources": list, "answerable": bool}
# Optional: what the question asks for and how it is worded (the report breaks results down by both), the
# earlier turns of a follow-up, and the contrast pair a question belongs to.
TYPES = ("person", "organisation", "place", "date", "number", "list", "definition", "reason", "how", "statement", "yesno", "metadata")
STYLES = ("plain", "paraphrase", "colloquial", "typo", "english", "followup", "near_miss", "off_topic", "imperative")
OPTIONAL = {"type": str, "style": str, "history": list, "pair": str}
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
    type: str | None = None
    style: str | None = None
    history: list[dict] = field(default_factory=list)  # [{"role": "user", "content": "…"}], oldest first
    pair: str | None = None


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
        for name, kind in {**FIELDS, **OPTIONAL}.items()
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
    if obj.get("type", TYPES[0]) not in TYPES:
        problems.append(f"'type' {obj['type']!r} is none of {', '.join(TYPES)}")
    if obj.get("style", STYLES[0]) not in STYLES:
        problems.append(f"'style' {obj['style']!r} is none of {', '.join(STYLES)}")
    if not all(isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str) for t in obj.get("history", [])):
        problems.append("'history' must be a list of {\"role\": \"user\"|\"assistant\", \"content\": \"…\"} turns")
    if problems:
        return None, problems
    return Question(**{name: obj[name] for name in {**FIELDS, **OPTIONAL} if name in obj}), []


def grounding_problems(q: Question, folded: dict[str, str]) -> list[str]:
    """Sources that are not in the corpus, and key groups none of whose alternatives occurs in a source: one
    alternative per group is enough, so an inflected form («мировом единстве» beside «мировое единство»)
    may stand beside the text's own."""
    problems = [f"unknown source file {s!r} (not a readable file of the corpus)" for s in q.sources if s not in folded]
    texts = [folded[s] for s in q.sources if s in folded]
    if texts:
        problems += [
            f"key {' / '.join(map(repr, group))}: no alternative occurs in its sources' cleaned text"
            for group in q.keys
            if not any(normalise(k) in t for k in group for t in texts)
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


def words(question: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", normalise(question)))


def within_one_word(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The word sequences are equal or one word apart: one word replaced, added or left out."""
    if abs(len(a) - len(b)) > 1 or len(set(a) ^ set(b)) > 2:  # cheap necessary conditions
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long = sorted((a, b), key=len)
    i = next((i for i, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1 :]


def shared_questions(sets: dict[str, list[str]]) -> list[str]:
    """Questions of different sets that are the same or a one-word edit of each other (a trap written from a
    test question, a calibration question reworded by one word): each would let one set leak into another."""
    tagged = [(name, q, words(q)) for name, questions in sets.items() for q in questions]
    return [
        f"{n1}: {q1!r} ~ {n2}: {q2!r}"
        for i, (n1, q1, w1) in enumerate(tagged)
        for n2, q2, w2 in tagged[i + 1 :]
        if n1 != n2 and within_one_word(w1, w2)
    ]
