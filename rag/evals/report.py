"""Write an eval run out: predictions.jsonl, report.json, report.md with the side-by-side table, chart.png."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display (CI, servers)
import matplotlib.pyplot as plt

from rag.evals.dataset import Question
from rag.evals.metrics import Scored, keys_matched
from rag.evals.run import ConfigResult, EvalRun

# (metric, label, kind): kind "rate" is a share in [0, 1], "count" a number of questions or quotes, "ms" a latency.
ROWS = [
    ("recall_at_1", "Retrieval Recall@1", "rate"),
    ("recall_at_3", "Retrieval Recall@3", "rate"),
    ("recall_at_5", "Retrieval Recall@5", "rate"),
    ("mrr", "Retrieval MRR", "rate"),
    ("key_fact_accuracy", "Key facts right", "rate"),
    ("token_f1", "Token F1 vs reference", "rate"),
    ("top_citation_correct", "Top citation in a gold file", "rate"),
    ("gold_citation_share", "Citations to gold files", "rate"),
    ("quotes_checked", "Quotes checked", "count"),
    ("quotes_unverified", "Quotes not found at their span", "count"),
    ("abstention_precision", "Abstention precision", "rate"),
    ("abstention_recall", "Abstention recall", "rate"),
    ("false_abstentions", "False abstentions (answerable)", "count"),
    ("answered_unanswerable", "Unanswerable questions answered", "count"),
    ("generated_sentences", "Generated sentences (llm)", "count"),
    ("unsupported_removed", "Unsupported sentences removed", "count"),
    ("unsupported_rate", "Share of sentences removed", "rate"),
    ("llm_fallbacks", "Extractive fallbacks (llm)", "count"),
    ("latency_p50_ms", "Latency p50, ms", "ms"),
    ("latency_p95_ms", "Latency p95, ms", "ms"),
]
CHARTED = [(metric, label) for metric, label, kind in ROWS if kind == "rate" and metric != "unsupported_rate"]
ANSWER_CHARS = 300


def cell(value, kind: str) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if kind == "rate" else f"{value:.0f}"


def table(results: list[ConfigResult]) -> str:
    """The metrics of every configuration side by side, as a markdown table."""
    lines = ["| metric | " + " | ".join(r.name for r in results) + " |", "|---|" + "---:|" * len(results)]
    lines += [f"| {label} | " + " | ".join(cell(r.metrics[m], kind) for r in results) + " |" for m, label, kind in ROWS]
    lines.append("| Run time, s | " + " | ".join(f"{r.seconds:.1f}" for r in results) + " |")
    return "\n".join(lines)


def why(s: Scored, question: Question, prediction: dict) -> str:
    """What went wrong with a failed question, in a few words."""
    if not s.answerable:
        reasons = ["answered, but the articles hold no answer"] if not s.abstained else []
    elif s.abstained:
        reasons = ["abstained"]
    else:
        missing = [g for g in question.keys if not keys_matched(prediction["answer"], [g])] or question.keys
        reasons = [] if s.keys_ok else ["key fact missing: " + " / ".join(missing[0])]
    reasons += [f"quote not at its span: {c['source']} [{c['start']}:{c['end']}]" for c in s.bad_quotes]
    return "; ".join(reasons)


def failures(run: EvalRun, result: ConfigResult) -> list[dict]:
    out = []
    for q, s, p in zip(run.questions, result.scored, result.predictions):
        if s.failed:
            out.append({
                "id": q.id, "question": q.question, "expected": q.answer, "answer": p["answer"],
                "cited": p["citations"][0]["source"] if p["citations"] else None,
                "gold_rank": s.rank, "why": why(s, q, p),
            })
    return out


def md(text) -> str:
    text = "–" if text is None else str(text)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS] + "…"


def chart(results: list[ConfigResult], path: Path) -> None:
    """Grouped bars per configuration: every share metric on the left, latency on the right."""
    fig, (ax, lat) = plt.subplots(1, 2, figsize=(14, 5.5), width_ratios=[5, 1], layout="constrained")
    width = 0.8 / len(results)
    for i, r in enumerate(results):
        offset = i * width - 0.4 + width / 2
        bars = ax.bar([x + offset for x in range(len(CHARTED))], [r.metrics[m] or 0.0 for m, _ in CHARTED], width, label=r.name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        bars = lat.bar([x + offset for x in range(2)], [r.metrics["latency_p50_ms"] or 0.0, r.metrics["latency_p95_ms"] or 0.0], width)
        lat.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.set_xticks(range(len(CHARTED)), [label for _, label in CHARTED], rotation=25, ha="right", fontsize=9)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("share (higher is better)")
    ax.grid(axis="y", alpha=0.3)
    lat.set_xticks(range(2), ["p50", "p95"])
    lat.set_ylabel("latency, ms (lower is better)")
    lat.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{results[0].metrics['questions']} questions, configurations side by side")
    fig.legend(loc="outside upper right", ncols=len(results))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(run: EvalRun, failed: dict[str, list[dict]], chart_name: str) -> str:
    first = run.results[0].metrics
    parts = [
        "# Evaluation report",
        (
            f"Dataset `{run.dataset}`: {first['questions']} questions ({first['answerable']} answerable, "
            f"{first['unanswerable']} unanswerable), corpus `{run.corpus}`, run time {run.seconds:.0f} s."
        ),
        (
            "Retrieval metrics use the files of the chunks the pipeline retrieves (deduplicated by file); "
            "answer and citation metrics use answerable questions, where an abstention scores 0."
        ),
        table(run.results),
        f"![configurations side by side]({chart_name})",
    ]
    for r in run.results:
        bad = [c for s in r.scored for c in s.bad_quotes]
        parts.append(f"## {r.name}: {len(failed[r.name])} failed question(s)")
        if bad:
            parts.append("Quotes NOT found at their span: " + "; ".join(f"{c['source']} [{c['start']}:{c['end']}]" for c in bad))
        else:
            parts.append(f"All {r.metrics['quotes_checked']} quotes are exact substrings of their cited files at their spans.")
        if failed[r.name]:
            rows = ["| id | question | expected | answer given | cited | gold rank | why |", "|---|---|---|---|---|---:|---|"]
            rows += [
                f"| {f['id']} | {md(f['question'])} | {md(f['expected'])} | {md(f['answer'])} | {md(f['cited'])} | {md(f['gold_rank'])} | {md(f['why'])} |"
                for f in failed[r.name]
            ]
            parts.append("\n".join(rows))
    return "\n\n".join(parts) + "\n"


def write_outputs(run: EvalRun, out: Path) -> dict[str, Path]:
    """Write the run's files into `out` (created if missing) and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("predictions.jsonl", "report.json", "report.md", "chart.png")}
    with paths["predictions.jsonl"].open("w", encoding="utf-8") as f:
        for r in run.results:
            f.writelines(json.dumps(p, ensure_ascii=False) + "\n" for p in r.predictions)
    failed = {r.name: failures(run, r) for r in run.results}
    report = {
        "dataset": str(run.dataset), "corpus": str(run.corpus), "seconds": run.seconds,
        "configs": {
            r.name: {"metrics": r.metrics, "seconds": r.seconds, "failures": failed[r.name],
                     "unverified_quotes": [c for s in r.scored for c in s.bad_quotes]}
            for r in run.results
        },
    }
    paths["report.json"].write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    chart(run.results, paths["chart.png"])
    paths["report.md"].write_text(markdown(run, failed, paths["chart.png"].name), encoding="utf-8")
    return paths
