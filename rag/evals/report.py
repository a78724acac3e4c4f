"""Write an eval run out: predictions.jsonl, report.json, report.md (sets side by side with intervals, the
per-type breakdown, the ablation and every failure) and chart.png."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from rag.evals.ablation import DELTAS
from rag.evals.chart import chart
from rag.evals.dataset import Question
from rag.evals.intervals import INTERVAL_METRICS
from rag.evals.metrics import Scored, keys_matched
from rag.evals.results import ConfigResult, SetRun
from rag.evals.run import GATED_CONFIG

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
    ("factoid_answer_chars_p50", "Factoid answer length p50, chars", "count"),
    ("short_answers", "Answered with a phrase (answerable)", "count"),
    ("generated_sentences", "Generated sentences (llm)", "count"),
    ("unsupported_removed", "Unsupported sentences removed", "count"),
    ("unsupported_rate", "Share of sentences removed", "rate"),
    ("llm_fallbacks", "Extractive fallbacks (llm)", "count"),
    ("latency_p50_ms", "Latency p50, ms", "ms"),
    ("latency_p95_ms", "Latency p95, ms", "ms"),
]
LABEL = {metric: label for metric, label, _ in ROWS}
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


def failures(run: SetRun, result: ConfigResult) -> list[dict]:
    out = []
    for q, s, p in zip(run.questions, result.scored, result.predictions):
        if s.failed:
            out.append({
                "id": q.id, "question": q.question, "asked": p["question"], "expected": q.answer, "answer": p["answer"],
                "cited": p["citations"][0]["source"] if p["citations"] else None,
                "gold_rank": s.rank, "why": why(s, q, p),
            })
    return out


def md(text) -> str:
    text = "–" if text is None else str(text)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS] + "…"


def with_interval(value, interval) -> str:
    if value is None:
        return "–"
    return f"{value:.3f} [{interval[0]:.2f}–{interval[1]:.2f}]" if interval else f"{value:.3f}"


def summary(runs: list[SetRun]) -> str:
    """Every set and configuration in one table: the main shares with their 95 % intervals."""
    head = ["set", "config", "questions (answerable / not)"] + [LABEL[m] for m in INTERVAL_METRICS] + ["false abstentions", "unanswerable answered"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for run in runs:
        if run.skipped:
            lines.append(f"| {run.name} | – | skipped: {md(run.skipped)} |" + " |" * (len(head) - 3))
            continue
        for r in run.results:
            m = r.metrics
            cells = [run.name, r.name, f"{m['questions']} ({m['answerable']} / {m['unanswerable']})"]
            cells += [with_interval(m[k], r.intervals.get(k)) for k in INTERVAL_METRICS]
            cells += [str(m["false_abstentions"]), str(m["answered_unanswerable"])]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def breakdown(run: SetRun, result: ConfigResult, field: str) -> dict[str, dict[str, int]]:
    """{type or style: {"right", "total"}}: right is the key facts of an answerable question, an abstention
    on an unanswerable one (and every quote at its span)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"right": 0, "total": 0})
    for q, s in zip(run.questions, result.scored):
        cell = out[getattr(q, field) or "(none)"]
        cell["total"] += 1
        cell["right"] += not s.failed
    return dict(sorted(out.items()))


def breakdown_table(run: SetRun, field: str) -> str:
    tables = {r.name: breakdown(run, r, field) for r in run.results}
    kinds = sorted({k for t in tables.values() for k in t})
    lines = [f"| {field} | questions | " + " | ".join(tables) + " |", "|---|---:|" + "---:|" * len(tables)]
    for k in kinds:
        total = next(t[k]["total"] for t in tables.values() if k in t)
        lines.append(f"| {k} | {total} | " + " | ".join(f"{t[k]['right']} ({t[k]['right'] / t[k]['total']:.0%})" for t in tables.values()) + " |")
    return "\n".join(lines)


def signed(value) -> str:
    return "–" if value is None else ("0" if abs(value) < 1e-9 else f"{value:+.3f}" if abs(value) < 1 or value % 1 else f"{value:+.0f}")


def ablation_table(run: SetRun) -> str:
    lines = ["| rule switched off | right → wrong | wrong → right | " + " | ".join(f"Δ {LABEL[m]}" for m in DELTAS) + " |",
             "|---|---|---|" + "---:|" * len(DELTAS)]
    for a in run.ablation:
        lines.append(f"| `{a.rule}` | {len(a.lost)} {' '.join(a.lost)} | {len(a.gained)} {' '.join(a.gained)} | "
                     + " | ".join(signed(a.deltas[m]) for m in DELTAS) + " |")
    return "\n".join(lines)


def markdown(runs: list[SetRun], failed: dict[str, dict[str, list[dict]]], chart_name: str) -> str:
    parts = [
        "# Evaluation report",
        (
            "Every set separately; shares with their 95 % bootstrap interval (2000 seeded resamples of the set's "
            "questions, answerable and unanswerable apart). Retrieval metrics use the files of the chunks the pipeline "
            "retrieves (deduplicated by file); answer and citation metrics use answerable questions, where an abstention scores 0."
        ),
        summary(runs),
        f"![sets and configurations side by side]({chart_name})",
    ]
    for run in runs:
        parts.append(f"## Set `{run.name}`: {run.eval_set.dataset.name} on `{run.corpus}`")
        if run.skipped:
            parts.append(f"Skipped: {run.skipped}.")
            continue
        if run.stale:
            parts.append(f"**The index is stale** ({md(run.stale)}): these are the numbers of the old build. Run `rag index` first.")
        parts += [table(run.results), "### Right answers by question type", breakdown_table(run, "type"),
                  "### Right answers by wording", breakdown_table(run, "style")]
        if run.ablation:
            parts += [f"### Ablation: {GATED_CONFIG} with one answer rule switched off",
                      "A rule earns its place when switching it off turns right answers wrong (left column) more than it turns wrong ones right.",
                      ablation_table(run)]
        for r in run.results:
            bad = [c for s in r.scored for c in s.bad_quotes]
            parts.append(f"### {run.name} / {r.name}: {len(failed[run.name][r.name])} failed question(s)")
            if bad:
                parts.append("Quotes NOT found at their span: " + "; ".join(f"{c['source']} [{c['start']}:{c['end']}]" for c in bad))
            else:
                parts.append(f"All {r.metrics['quotes_checked']} quotes are exact substrings of their cited files at their spans.")
            if failed[run.name][r.name]:
                rows = ["| id | question | expected | answer given | cited | gold rank | why |", "|---|---|---|---|---|---:|---|"]
                rows += [
                    f"| {f['id']} | {md(f['question'])} | {md(f['expected'])} | {md(f['answer'])} | {md(f['cited'])} | {md(f['gold_rank'])} | {md(f['why'])} |"
                    for f in failed[run.name][r.name]
                ]
                parts.append("\n".join(rows))
    return "\n\n".join(parts) + "\n"


def set_report(run: SetRun, failed: dict[str, list[dict]]) -> dict:
    if run.skipped:
        return {"dataset": str(run.eval_set.dataset), "corpus": str(run.corpus), "skipped": run.skipped}
    return {
        "dataset": str(run.eval_set.dataset), "corpus": str(run.corpus), "skipped": None, "seconds": run.seconds,
        "stale": run.stale,
        "configs": {
            r.name: {"metrics": r.metrics, "intervals": r.intervals, "seconds": r.seconds,
                     "by_type": breakdown(run, r, "type"), "by_style": breakdown(run, r, "style"),
                     "failures": failed[r.name], "unverified_quotes": [c for s in r.scored for c in s.bad_quotes]}
            for r in run.results
        },
        "ablation": [{"rule": a.rule, "doc": a.doc, "deltas": a.deltas, "lost": a.lost, "gained": a.gained, "metrics": a.metrics}
                     for a in run.ablation],
    }


def write_outputs(runs: list[SetRun], out: Path) -> dict[str, Path]:
    """Write the run's files into `out` (created if missing) and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("predictions.jsonl", "report.json", "report.md", "chart.png")}
    with paths["predictions.jsonl"].open("w", encoding="utf-8") as f:
        for run in runs:
            for r in run.results:
                f.writelines(json.dumps({"set": run.name, **p}, ensure_ascii=False) + "\n" for p in r.predictions)
    failed = {run.name: {r.name: failures(run, r) for r in run.results} for run in runs}
    report = {"sets": {run.name: set_report(run, failed[run.name]) for run in runs}}
    paths["report.json"].write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    chart(runs, paths["chart.png"])
    paths["report.md"].write_text(markdown(runs, failed, paths["chart.png"].name), encoding="utf-8")
    return paths
