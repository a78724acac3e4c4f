"""Raise the eval gate after an improvement, by the margin rule of eval/thresholds.toml; never lower it.

    python -m tools.raise_gate eval/out/report.json [eval/thresholds.toml]

For every set and configuration of the report: a share's min (over answerable or over unanswerable questions) becomes measured - 2/N (rounded down) when that is
higher than the min it has, and its measured value is recorded beside it; a set with no bounds yet gets all of
them (shares' mins, counts' maxes = measured + 2, quotes_unverified = 0). Bounds that would fall are left as
they are: lowering a gate to let a change in is a decision for a person, not a script.
"""
from __future__ import annotations

import json
import math
import re
import sys
import tomllib
from pathlib import Path

from rag.evals.gate import MARGIN_QUESTIONS, step

# The shares the gate bounds from below and the counts it bounds from above; how far one question moves each is
# gate.step's business, as the margin rule checks it.
SHARES = ("recall_at_1", "recall_at_5", "mrr", "key_fact_accuracy", "token_f1", "top_citation_correct",
          "gold_citation_share", "abstention_precision", "abstention_recall")
COUNTS = ("false_abstentions", "answered_unanswerable")


def floor3(x: float) -> float:
    return math.floor(x * 1000) / 1000


def bound(measured: float, unit: float) -> float:
    """The min two questions below the measured value as the file records it (4 decimals): from the unrounded
    value, 0.39265 - 2/17 floors to 0.275, above the 0.3926 - 2/17 = 0.27495 the recorded value allows."""
    return floor3(round(measured, 4) - MARGIN_QUESTIONS * unit)


def new_section(name: str, config: str, m: dict) -> str:
    mins = {k: bound(m[k], unit) for k in SHARES if m.get(k) is not None and (unit := step(k, m))}
    lines = [f"[{name}.{config}.min]", *(f"{k} = {v}" for k, v in mins.items()),
             f"[{name}.{config}.max]", "quotes_unverified = 0", *(f"{k} = {m[k] + MARGIN_QUESTIONS}" for k in COUNTS),
             f"[{name}.{config}.measured]  # {name}, {config}: measured by rag eval on {m['questions']} questions",
             *(f"{k} = {m[k]}" for k in ("questions", "answerable", "unanswerable", *COUNTS)),
             *(f"{k} = {round(m[k], 4)}" for k in mins)]
    return "\n".join(lines) + "\n"


def set_line(text: str, section: str, key: str, value) -> str:
    """`key = value` inside [section], replaced or added at its end."""
    head = re.search(rf"^\[{re.escape(section)}\][^\n]*\n", text, re.MULTILINE)
    end = re.search(r"^\[", text[head.end():], re.MULTILINE)
    body_end = head.end() + (end.start() if end else len(text) - head.end())
    body = text[head.end():body_end]
    line = f"{key} = {value}\n"
    body = re.sub(rf"^{key} = .*\n", line, body, flags=re.MULTILINE) if re.search(rf"^{key} = ", body, re.MULTILINE) else body + line
    return text[: head.end()] + body + text[body_end:]


def main(report: Path, thresholds: Path) -> None:
    text = thresholds.read_text(encoding="utf-8")
    bounds = tomllib.loads(text)
    for name, s in json.loads(report.read_text(encoding="utf-8"))["sets"].items():
        if s.get("skipped"):
            continue
        for config, result in s["configs"].items():
            m = result["metrics"]
            if config not in bounds.get(name, {}):
                text = text.rstrip("\n") + "\n\n" + new_section(name, config, m)
                print(f"{name}.{config}: bounds added")
                continue
            for k in SHARES:
                # abstention precision's N is the abstentions of the recorded run: raised with its counts only
                old = bounds[name][config]["min"].get(k) if k != "abstention_precision" else None
                if m.get(k) is None or old is None or not (unit := step(k, m)):
                    continue
                if (new := bound(m[k], unit)) > old:
                    text = set_line(set_line(text, f"{name}.{config}.min", k, new), f"{name}.{config}.measured", k, round(m[k], 4))
                    print(f"{name}.{config}.{k}: min {old} → {new}")
    thresholds.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "eval/thresholds.toml"))
