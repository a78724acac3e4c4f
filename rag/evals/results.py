"""The records of an eval run: one configuration's results on a set, an ablation row, a set's whole run."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.evals.dataset import Question
from rag.evals.metrics import Scored
from rag.evals.sets import EvalSet
from rag.pipeline import Gathered


@dataclass
class ConfigResult:
    """One configuration's answers, per-question scores, metrics and their intervals on one set."""

    name: str
    predictions: list[dict]  # `rag ask --json` objects plus id, config and the retrieved files
    scored: list[Scored]
    metrics: dict
    intervals: dict
    seconds: float
    gathered: list[Gathered] = field(default_factory=list, repr=False)  # what each answer was decided from


@dataclass(frozen=True)
class Ablated:
    """The gated configuration with one rule off: its metrics, their change, and the questions that flip."""

    rule: str
    doc: str
    metrics: dict
    deltas: dict[str, float | None]
    lost: list[str]  # right with the rule, wrong without it: what the rule earns
    gained: list[str]  # wrong with the rule, right without it: what the rule costs


@dataclass
class SetRun:
    """One question set's results; `skipped` says why a set could not run (then it has no results)."""

    eval_set: EvalSet
    corpus: Path
    questions: list[Question] = field(default_factory=list)
    results: list[ConfigResult] = field(default_factory=list)
    ablation: list[Ablated] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None
    stale: str | None = None  # why the index no longer matches its corpus or the stages (the numbers are the old build's)

    @property
    def name(self) -> str:
        return self.eval_set.name
