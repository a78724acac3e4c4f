"""Measure the abstain thresholds on labelled questions instead of guessing them."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.answer.extract import CYRILLIC, confidence, of_right_kind
from rag.pipeline import RAG


@dataclass(frozen=True)
class Cut:
    """The threshold chosen for one group of questions and how well it separates them."""

    group: str
    threshold: float
    correct: int
    total: int
    lowest_answerable: float
    highest_unanswerable: float


def read_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def best_cut(scored: list[tuple[float, bool]]) -> tuple[float, int]:
    """The threshold that classifies most (confidence, answerable) pairs right; among equals, the middle
    of the widest gap between neighbouring confidences, so it is not tuned to a single question."""
    values = sorted({c for c, _ in scored})
    cuts = [values[0] - 0.01] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 0.01]
    correct = lambda t: sum((c >= t) == answerable for c, answerable in scored)  # noqa: E731
    best = max(correct(t) for t in cuts)
    gap = lambda t: min((abs(c - t) for c, _ in scored), default=0)  # noqa: E731
    return max((t for t in cuts if correct(t) == best), key=gap), best


def calibrate(rag: RAG, questions: list[dict]) -> list[Cut]:
    """One threshold for Russian questions and one for questions without Cyrillic (cross-lingual)."""
    groups: dict[str, list[tuple[float, bool]]] = {"russian": [], "crosslingual": []}
    for q in questions:
        g = rag.gather(q["question"])
        candidates = of_right_kind(g.query, g.evidence)
        score = confidence(g.query, candidates[0], g.coverage, rag.settings) if candidates else -1.0
        groups["russian" if CYRILLIC.search(g.query) else "crosslingual"].append((score, q["answerable"]))
    cuts = []
    for name, scored in groups.items():
        if not scored:
            continue
        threshold, correct = best_cut(scored)
        answerable = [c for c, a in scored if a] or [float("nan")]
        unanswerable = [c for c, a in scored if not a] or [float("nan")]
        cuts.append(Cut(name, round(threshold, 3), correct, len(scored), min(answerable), max(unanswerable)))
    return cuts
