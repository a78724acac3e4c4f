"""95 % bootstrap intervals of the main shares: how far a set's numbers can move by the luck of its questions.

Questions are resampled with replacement, answerable and unanswerable ones separately (stratified), so every
resample keeps the set's mix and each share keeps its denominator; seeded, so a run is reproducible.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.evals.metrics import Scored

RESAMPLES = 2000
SEED = 12
LEVEL = 0.95
# Shares with an interval; each reads per-question outcomes of the answerable (A) or unanswerable (U) questions.
INTERVAL_METRICS = ("key_fact_accuracy", "top_citation_correct", "recall_at_1", "abstention_precision", "abstention_recall")


def percentile_interval(samples: np.ndarray) -> tuple[float, float] | None:
    samples = samples[~np.isnan(samples)]
    if not len(samples):
        return None
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(samples, [tail, 100 - tail])
    return round(float(lo), 4), round(float(hi), 4)


def intervals(scored: Sequence[Scored], resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, tuple[float, float] | None]:
    """{metric: (low, high)} for INTERVAL_METRICS; None where the set has no question to measure it on."""
    rng = np.random.default_rng(seed)
    answerable = [s for s in scored if s.answerable]
    unanswerable = [s for s in scored if not s.answerable]
    a = rng.integers(0, max(len(answerable), 1), (resamples, len(answerable)))
    u = rng.integers(0, max(len(unanswerable), 1), (resamples, len(unanswerable)))

    def per(values: list[float], idx: np.ndarray) -> np.ndarray:  # one resampled sum per row
        return np.asarray(values, dtype=float)[idx].sum(axis=1) if values else np.zeros(resamples)

    n_a, n_u = len(answerable) or np.nan, len(unanswerable) or np.nan
    keys = per([s.keys_ok for s in answerable], a) / n_a
    top = per([s.top_citation_ok for s in answerable], a) / n_a
    r1 = per([s.rank == 1 for s in answerable], a) / n_a
    caught = per([s.abstained for s in unanswerable], u)  # traps abstained on
    false = per([s.abstained for s in answerable], a)  # answerable questions abstained on
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(caught + false > 0, caught / (caught + false), np.nan)
    recall = caught / n_u
    samples = {"key_fact_accuracy": keys, "top_citation_correct": top, "recall_at_1": r1,
               "abstention_precision": precision, "abstention_recall": recall}
    return {name: percentile_interval(np.asarray(samples[name], dtype=float)) for name in INTERVAL_METRICS}
