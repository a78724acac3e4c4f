"""The CI gate: a run's metrics against the minimums and maximums of a thresholds file (TOML)."""
from __future__ import annotations

import tomllib
from pathlib import Path

from rag.errors import EvalInputError, GateFailed
from rag.evals.metrics import summarise

METRICS = set(summarise([]))
BOUNDS = ("min", "max")


def read_thresholds(path: Path, configs: list[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """{configuration: {"min"|"max": {metric: value}}}, checked so a typo cannot switch a check off;
    with `configs`, also that the run will evaluate every configuration the file gates."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise EvalInputError(f"cannot read thresholds {path} ({e}): give a TOML file like eval/thresholds.toml") from e
    for config, bounds in data.items():
        if not isinstance(bounds, dict) or not set(bounds) <= set(BOUNDS):
            raise EvalInputError(f"{path}: [{config}] may only hold [{config}.min] and [{config}.max] tables")
        for bound, limits in bounds.items():
            unknown = sorted(set(limits) - METRICS)
            if unknown or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in limits.values()):
                raise EvalInputError(
                    f"{path}: [{config}.{bound}] has unknown metrics or non-numbers ({', '.join(unknown) or 'values'}): "
                    f"use numbers for metrics of report.json ({', '.join(sorted(METRICS))})"
                )
    if configs is not None and (missing := sorted(set(data) - set(configs))):
        raise EvalInputError(f"{path} gates configuration(s) {', '.join(missing)}, which this run does not evaluate: add --config {missing[0]}")
    return data


def violations(metrics: dict[str, dict], thresholds: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Every metric outside its bound; a metric that could not be measured (None) is outside too."""
    out = []
    for config, bounds in thresholds.items():
        for bound, limits in bounds.items():
            for name, limit in limits.items():
                value = metrics[config][name]
                if value is None or (value < limit if bound == "min" else value > limit):
                    sign = "<" if bound == "min" else ">"
                    out.append(f"{config} {name} = {value if value is None else round(value, 3)} {sign} {bound} {limit}")
    return out


def gate(metrics: dict[str, dict], path: Path) -> None:
    """Raise GateFailed naming every metric outside the bounds in `path`."""
    if bad := violations(metrics, read_thresholds(path, list(metrics))):
        raise GateFailed(f"eval gate failed ({path}): " + "; ".join(bad) + " — find the cause in report.md before changing the thresholds")
