"""chart.png: the main shares of every set side by side, configurations as bars, 95 % intervals as error bars."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display (CI, servers)
import matplotlib.pyplot as plt

from rag.evals.intervals import INTERVAL_METRICS
from rag.evals.results import SetRun

LABELS = {
    "key_fact_accuracy": "Key facts right",
    "top_citation_correct": "Top citation in a gold file",
    "recall_at_1": "Retrieval Recall@1",
    "abstention_precision": "Abstention precision",
    "abstention_recall": "Abstention recall",
}


def chart(runs: list[SetRun], path: Path) -> None:
    """One panel per share; in each, a group of bars per set (one bar per configuration) with its interval."""
    ran = [r for r in runs if not r.skipped]
    configs = list(dict.fromkeys(c.name for r in ran for c in r.results))
    fig, axes = plt.subplots(1, len(INTERVAL_METRICS), figsize=(4.2 * len(INTERVAL_METRICS), 4.8), sharey=True, layout="constrained")
    width = 0.8 / max(len(configs), 1)
    for ax, metric in zip(axes, INTERVAL_METRICS):
        for i, config in enumerate(configs):
            xs, values, low, high = [], [], [], []
            for x, r in enumerate(ran):
                result = next((c for c in r.results if c.name == config), None)
                value = result.metrics[metric] if result else None
                if value is None:
                    continue
                lo, hi = result.intervals.get(metric) or (value, value)
                xs.append(x + i * width - 0.4 + width / 2)
                values.append(value)
                low.append(max(value - lo, 0))
                high.append(max(hi - value, 0))
            bars = ax.bar(xs, values, width, yerr=[low, high], capsize=3, label=config if metric == INTERVAL_METRICS[0] else None)
            ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
        ax.set_xticks(range(len(ran)), [r.name for r in ran], fontsize=9)
        ax.set_title(LABELS[metric], fontsize=10)
        ax.set_ylim(0, 1.15)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("share (higher is better), 95 % bootstrap interval")
    skipped = [r.name for r in runs if r.skipped]
    fig.suptitle("Question sets side by side" + (f" (skipped: {', '.join(skipped)})" if skipped else ""))
    fig.legend(loc="outside upper right", ncols=len(configs))
    fig.savefig(path, dpi=110)
    plt.close(fig)
