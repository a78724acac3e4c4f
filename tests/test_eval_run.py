"""A real, small eval run end to end over the seeds: files written, numbers sane, the gate and the command."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import EvalInputError, GateFailed
from rag.evals.gate import gate
from rag.evals.report import write_outputs
from rag.evals.run import run_eval

ROOT = Path(__file__).resolve().parent.parent
PICKED = {"e12", "e36", "e41", "u03"}  # two Russian facts, one English question, one site-furniture trap
ASK_FIELDS = {"question", "answer", "abstained", "citations", "timings_ms"}


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    lines = [line for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if json.loads(line)["id"] in PICKED]
    path = tmp_path_factory.mktemp("eval") / "small.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(small_dataset, seed_rag, seed_settings, embedder):
    return run_eval(small_dataset, seed_settings, ["bm25", "hybrid"], embedder=embedder, progress=False)


@pytest.fixture(scope="module")
def out(run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval") / "out"
    write_outputs(run, out)
    return out


def test_predictions_are_ask_json_plus_id_for_every_question_and_configuration(out):
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted((p["config"], p["id"]) for p in predictions) == sorted((c, i) for c in ("bm25", "hybrid") for i in PICKED)
    assert all(ASK_FIELDS <= set(p) for p in predictions)


def test_report_numbers_are_sane(out):
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert list(report["configs"]) == ["bm25", "hybrid"]
    for config in report["configs"].values():
        m = config["metrics"]
        assert (m["questions"], m["answerable"], m["unanswerable"]) == (4, 3, 1)
        assert all(m[k] is None or 0.0 <= m[k] <= 1.0 for k in ("recall_at_1", "mrr", "key_fact_accuracy", "token_f1", "abstention_recall"))
        assert m["recall_at_1"] <= m["recall_at_3"] <= m["recall_at_5"]
        assert m["quotes_checked"] > 0 and m["quotes_unverified"] == 0 and config["unverified_quotes"] == []
        assert m["answered_unanswerable"] == 0, "a question about the WhatsApp subscription call was answered"
        assert 0 < m["latency_p50_ms"] <= m["latency_p95_ms"]
    hybrid = report["configs"]["hybrid"]["metrics"]
    assert hybrid["key_fact_accuracy"] >= 2 / 3 and hybrid["recall_at_5"] >= 2 / 3


def test_bm25_cannot_match_an_english_question_and_the_report_says_so(out):
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    failed = {f["id"]: f for f in report["configs"]["bm25"]["failures"]}
    assert failed["e36"]["gold_rank"] is None and failed["e36"]["why"] == "abstained"
    assert failed["e36"]["answer"] == "В статьях нет ответа на этот вопрос."
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| metric | bm25 | hybrid |" in md and "| Key facts right |" in md and "![" in md
    assert "## bm25:" in md and "| e36 | Which side proposed" in md


def test_chart_is_a_png(out):
    data = (out / "chart.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_gate_passes_within_and_fails_outside_the_thresholds(run, tmp_path):
    metrics = {r.name: r.metrics for r in run.results}
    ok, strict = tmp_path / "ok.toml", tmp_path / "strict.toml"
    ok.write_text("[hybrid.min]\nkey_fact_accuracy = 0.5\n[hybrid.max]\nquotes_unverified = 0\n", encoding="utf-8")
    strict.write_text("[bm25.min]\nrecall_at_1 = 1.01\n[hybrid.max]\nlatency_p50_ms = 0\n", encoding="utf-8")
    gate(metrics, ok)
    with pytest.raises(GateFailed) as e:
        gate(metrics, strict)
    assert "bm25 recall_at_1" in str(e.value) and "hybrid latency_p50_ms" in str(e.value) and e.value.exit_code == 5


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[hybrid.min]\nkey_facts = 0.9\n", "unknown metrics"),  # a typo must not switch a check off
        ("[hybrid.min]\nrecall_at_1 = 'high'\n", "non-numbers"),
        ("[hybrid.least]\nrecall_at_1 = 0.9\n", "may only hold"),
        ("[dense.min]\nrecall_at_1 = 0.9\n", "does not evaluate"),
        ("[hybrid.min\n", "cannot read thresholds"),
    ],
)
def test_unusable_thresholds_are_refused(run, tmp_path, toml, message):
    path = tmp_path / "t.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(EvalInputError, match=message):
        gate({r.name: r.metrics for r in run.results}, path)


def rag(*args):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], check=False, capture_output=True, text=True, timeout=600, env=dict(os.environ))


def test_rag_eval_command_writes_the_report_and_exits_5_when_the_gate_fails(small_dataset, seed_rag, seed_settings, tmp_path):
    strict = tmp_path / "strict.toml"
    strict.write_text("[hybrid.min]\nkey_fact_accuracy = 1.01\n", encoding="utf-8")
    out = rag("eval", "--dataset", str(small_dataset), "--out", str(tmp_path / "out"), "--config", "hybrid",
              "--corpus", str(seed_settings.corpus_dir), "--index", str(seed_settings.index_dir), "--gate", str(strict))
    assert out.returncode == 5, out.stderr
    assert "| Key facts right |" in out.stdout and "eval gate failed" in out.stderr and "Traceback" not in out.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"predictions.jsonl", "report.json", "report.md", "chart.png"}


def test_rag_eval_refuses_an_unknown_configuration_before_loading_anything(small_dataset, tmp_path):
    out = rag("eval", "--dataset", str(small_dataset), "--out", str(tmp_path / "out"), "--config", "gpt")
    assert out.returncode == 2 and "unknown configuration gpt: choose from bm25, dense, hybrid, llm" in out.stderr
    assert not (tmp_path / "out").exists()


def test_rag_eval_llm_without_an_endpoint_fails_before_loading_anything(small_dataset, tmp_path):
    out = rag("eval", "--dataset", str(small_dataset), "--out", str(tmp_path / "out"), "--config", "llm")
    assert out.returncode == 2 and "RAG_LLM_URL" in out.stderr and not (tmp_path / "out").exists()
