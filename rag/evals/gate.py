"""The CI gate: each set's metrics against the minimums and maximums of a thresholds file (TOML), and the
margin rule those bounds must keep from the measured values."""
from __future__ import annotations

import tomllib
from pathlib import Path

from rag.errors import EvalInputError, GateFailed
from rag.evals.metrics import summarise

METRICS = set(summarise([]))
BOUNDS = ("min", "max")
TABLES = (*BOUNDS, "measured")
MARGIN_QUESTIONS = 2  # a bound sits at least this many questions' worth away from the measured value
INVARIANTS = {"quotes_unverified"}  # must be 0 whatever was measured: every quote is the cited text
COUNTS = {"false_abstentions", "answered_unanswerable", "questions", "answerable", "unanswerable", "quotes_checked"}
OVER_UNANSWERABLE = {"abstention_recall"}

Thresholds = dict[str, dict[str, dict[str, dict[str, float]]]]  # {set: {config: {min|max|measured: {metric: value}}}}


def read_thresholds(path: Path) -> Thresholds:
    """The file's bounds, checked so that a typo cannot switch a check off."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise EvalInputError(f"cannot read thresholds {path} ({e}): give a TOML file like eval/thresholds.toml") from e
    for set_name, configs in data.items():
        for config, tables in configs.items() if isinstance(configs, dict) else [("?", None)]:
            if not isinstance(tables, dict) or not set(tables) <= set(TABLES):
                raise EvalInputError(f"{path}: [{set_name}.{config}] may only hold the tables {', '.join(f'[{set_name}.{config}.{t}]' for t in TABLES)}")
            for table, limits in tables.items():
                unknown = sorted(set(limits) - METRICS)
                if unknown or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in limits.values()):
                    raise EvalInputError(
                        f"{path}: [{set_name}.{config}.{table}] has unknown metrics or non-numbers ({', '.join(unknown) or 'values'}): "
                        f"use numbers for metrics of report.json ({', '.join(sorted(METRICS))})"
                    )
    return data


def check_configs(thresholds: Thresholds, path: Path, sets: list[str], configs: list[str]) -> None:
    """Refuse a run that would leave a gated configuration of a set it evaluates unchecked."""
    for set_name in sets:
        if missing := sorted(set(thresholds.get(set_name, {})) - set(configs)):
            raise EvalInputError(f"{path} gates configuration(s) {', '.join(missing)} on {set_name}, which this run does not evaluate: add --config {missing[0]}")


def step(metric: str, measured: dict[str, float]) -> float | None:
    """How much one question moves a metric: 1 for counts, 1/N for a share over N questions."""
    if metric in COUNTS:
        return 1.0
    if metric in OVER_UNANSWERABLE:
        n = measured.get("unanswerable")
    elif metric == "abstention_precision":
        n = measured.get("false_abstentions", 0) + measured.get("unanswerable", 0) - measured.get("answered_unanswerable", 0)
    else:
        n = measured.get("answerable")
    return 1.0 / n if n else None


def margin_problems(thresholds: Thresholds) -> list[str]:
    """Every bound closer than MARGIN_QUESTIONS questions to its measured value (or without one): such a gate
    fails on the next unlucky question instead of on a real regression."""
    out = []
    for set_name, configs in thresholds.items():
        for config, tables in configs.items():
            measured = tables.get("measured", {})
            for bound in BOUNDS:
                for metric, limit in tables.get(bound, {}).items():
                    if metric in INVARIANTS:
                        continue
                    where = f"{set_name}.{config}.{bound}.{metric} = {limit}"
                    if metric not in measured or (unit := step(metric, measured)) is None:
                        out.append(f"{where}: no measured value (and question counts) in [{set_name}.{config}.measured]")
                        continue
                    margin = MARGIN_QUESTIONS * unit
                    value = measured[metric]
                    if (limit > value - margin + 1e-9) if bound == "min" else (limit < value + margin - 1e-9):
                        out.append(f"{where}: measured {value}, so the bound must be {'≤' if bound == 'min' else '≥'} {round(value - margin if bound == 'min' else value + margin, 4)}")
    return out


def violations(metrics: dict[str, dict[str, dict]], thresholds: Thresholds) -> list[str]:
    """Every metric outside its bound, for the sets in `metrics` ({set: {config: metrics}}); a metric that
    could not be measured (None) is outside too."""
    out = []
    for set_name, configs in thresholds.items():
        if set_name not in metrics:
            continue
        for config, tables in configs.items():
            for bound in BOUNDS:
                for name, limit in tables.get(bound, {}).items():
                    value = metrics[set_name][config][name]
                    if value is None or (value < limit if bound == "min" else value > limit):
                        sign = "<" if bound == "min" else ">"
                        out.append(f"{set_name} {config} {name} = {value if value is None else round(value, 3)} {sign} {bound} {limit}")
    return out


def gate(metrics: dict[str, dict[str, dict]], path: Path) -> None:
    """Raise GateFailed naming every metric outside the bounds in `path`."""
    if bad := violations(metrics, read_thresholds(path)):
        raise GateFailed(f"eval gate failed ({path}): " + "; ".join(bad) + " — find the cause in report.md before changing the thresholds")
