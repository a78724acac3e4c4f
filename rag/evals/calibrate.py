"""Measure the abstain thresholds on labelled questions instead of guessing them, and the margin they leave."""
from __future__ import annotations

from dataclasses import dataclass

from rag.answer.extract import candidates
from rag.converse.followup import resolve
from rag.answer.rules import CYRILLIC, asked, confidence
from rag.evals.dataset import Question
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
    wrong: tuple[str, ...]  # ids of the questions the chosen threshold puts on the wrong side
    current: float  # the threshold in the settings now
    current_correct: int  # questions the current threshold classifies right

    @property
    def margin(self) -> float:
        """Lowest answerable minus highest unanswerable confidence: > 0 separates them all, < 0 they overlap."""
        return self.lowest_answerable - self.highest_unanswerable


def best_cut(scored: list[tuple[float, bool]]) -> tuple[float, int]:
    """The threshold that classifies most (confidence, answerable) pairs right; among equals, the middle
    of the widest gap between neighbouring confidences, so it is not tuned to a single question."""
    values = sorted({c for c, _ in scored})
    cuts = [values[0] - 0.01] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 0.01]
    correct = lambda t: sum((c >= t) == answerable for c, answerable in scored)  # noqa: E731
    best = max(correct(t) for t in cuts)
    gap = lambda t: min((abs(c - t) for c, _ in scored), default=0)  # noqa: E731
    return max((t for t in cuts if correct(t) == best), key=gap), best


def scores(rag: RAG, questions: list[Question]) -> dict[str, list[tuple[str, float, bool]]]:
    """(id, confidence of the best evidence the evidence rules let through, answerable) by group: one
    threshold for Russian questions and one for questions without Cyrillic (cross-lingual). Follow-ups are
    resolved with their history first, as the chat does."""
    groups: dict[str, list[tuple[str, float, bool]]] = {"russian": [], "crosslingual": []}
    for q in questions:
        g = rag.gather(resolve(q.question, q.history).question if q.history else q.question)
        best = next(candidates(asked(g.query, g.coverage, rag.settings), g.evidence), None)
        score = confidence(g.query, best, g.coverage, rag.settings) if best else -1.0
        groups["russian" if CYRILLIC.search(g.query) else "crosslingual"].append((q.id, score, q.answerable))
    return groups


def calibrate(rag: RAG, questions: list[Question]) -> list[Cut]:
    """The best threshold of each group, beside what the current one gets right."""
    cuts = []
    for name, scored in scores(rag, questions).items():
        if not scored:
            continue
        threshold, correct = best_cut([(c, a) for _, c, a in scored])
        answerable = [c for _, c, a in scored if a] or [float("nan")]
        unanswerable = [c for _, c, a in scored if not a] or [float("nan")]
        wrong = tuple(i for i, c, a in scored if (c >= threshold) != a)
        current = rag.settings.abstain_threshold if name == "russian" else rag.settings.abstain_threshold_crosslingual
        current_correct = sum((c >= current) == a for _, c, a in scored)
        cuts.append(Cut(name, round(threshold, 3), correct, len(scored), min(answerable), max(unanswerable), wrong, current, current_correct))
    return cuts
