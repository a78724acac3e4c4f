"""A real, small eval run end to end over the seeds: two sets side by side, intervals, the per-type breakdown,
the ablation, a skipped set, follow-ups, the files written and the command."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.answer.rules import RULES
from rag.evals.ablation import rescore
from rag.evals.report import write_outputs
from rag.evals.run import run_eval
from rag.evals.sets import EvalSet

ROOT = Path(__file__).resolve().parent.parent
PICKED = {"e12", "e36", "e41", "u03"}  # two Russian facts, one English question, one site-furniture trap
SHOS = "001_6b3bc755e8fe2ed9.txt"
FOLLOW_UP = {"id": "f1", "question": "Кто об этом заявил?", "answer": "Казахстан.", "keys": [["Казахстан"]], "sources": [SHOS],
             "answerable": True, "type": "person", "style": "followup", "history": [{"role": "user", "content": "Где пройдет саммит ШОС?"}]}
ASK_FIELDS = {"question", "answer", "abstained", "citations", "timings_ms"}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("eval")
    lines = [line for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if json.loads(line)["id"] in PICKED]
    small, followup = folder / "small.jsonl", folder / "followup.jsonl"
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    followup.write_text(json.dumps(FOLLOW_UP, ensure_ascii=False) + "\n" + lines[0] + "\n", encoding="utf-8")
    html = folder / "html-corpus"
    html.mkdir()
    (html / "guide.xlsx").write_bytes(b"PK\x03\x04 a spreadsheet, a format the ingest stage does not read")
    html_set = folder / "guide.jsonl"
    html_set.write_text(json.dumps({**FOLLOW_UP, "id": "g1", "sources": ["guide.xlsx"], "history": []}, ensure_ascii=False) + "\n", encoding="utf-8")
    return {"small": small, "followup": followup, "html": html_set, "html_corpus": html}


@pytest.fixture(scope="module")
def runs(datasets, seed_rag, seed_settings, embedder):
    sets = [
        EvalSet("small", datasets["small"]),
        EvalSet("followup", datasets["followup"]),
        EvalSet("guide", datasets["html"], datasets["html_corpus"], seed_settings.index_dir),
    ]
    return run_eval(sets, seed_settings, ["bm25", "hybrid"], embedder=embedder, progress=False)


@pytest.fixture(scope="module")
def out(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval") / "out"
    write_outputs(runs, out)
    return out


def report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_predictions_are_ask_json_plus_set_config_and_id(out):
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    small = sorted((p["config"], p["id"]) for p in predictions if p["set"] == "small")
    assert small == sorted((c, i) for c in ("bm25", "hybrid") for i in PICKED)
    assert all(ASK_FIELDS <= set(p) for p in predictions)


def test_a_follow_up_is_answered_with_its_history(out):
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    f1 = next(p for p in predictions if p["id"] == "f1" and p["config"] == "hybrid")
    assert f1["question"] != "Кто об этом заявил?"  # made standalone, as the chat does (rag/converse/followup.py)
    assert not f1["abstained"] and f1["citations"][0]["source"] == SHOS


def test_every_set_is_reported_separately_with_intervals(out):
    sets = report(out)["sets"]
    assert list(sets) == ["small", "followup", "guide"]
    for config in sets["small"]["configs"].values():
        m, ci = config["metrics"], config["intervals"]
        assert (m["questions"], m["answerable"], m["unanswerable"]) == (4, 3, 1)
        assert m["quotes_checked"] > 0 and m["quotes_unverified"] == 0 and m["answered_unanswerable"] == 0
        for name in ("key_fact_accuracy", "top_citation_correct", "abstention_recall"):
            assert ci[name][0] <= m[name] <= ci[name][1]
        assert ci["abstention_recall"] == [1.0, 1.0]  # the one trap is always abstained on: no spread
    # The follow-up and e12, «Как зовут президента Казахстана?» (dev is typed)
    assert sets["followup"]["configs"]["hybrid"]["by_type"]["person"] == {"right": 2, "total": 2}
    assert sets["followup"]["configs"]["hybrid"]["by_style"]["followup"]["total"] == 1


def test_a_set_whose_corpus_cannot_be_read_is_skipped_with_the_reason(out, runs):
    guide = report(out)["sets"]["guide"]
    assert guide["skipped"].startswith("corpus not readable") and "has no *.txt, *.md" in guide["skipped"]
    assert "Skipped: corpus not readable" in (out / "report.md").read_text(encoding="utf-8")
    assert runs[2].results == []


def test_the_ablation_switches_each_rule_off_once(out, runs):
    rows = report(out)["sets"]["small"]["ablation"]
    assert [r["rule"] for r in rows] == list(RULES)
    assert all(set(r["deltas"]) >= {"key_fact_accuracy", "abstention_recall"} and r["doc"] for r in rows)
    assert "### Ablation: hybrid with one answer rule switched off" in (out / "report.md").read_text(encoding="utf-8")


def test_the_ablation_rescoring_reproduces_every_dev_answer_with_every_rule_on(seed_rag):
    """The ablation answers again from the gathered evidence: with no rule off it must be the run itself, for every
    kind of question dev has (a document's metadata, «who said it» included: once they were decided by the rules
    alone, and every rule seemed to earn e15)."""
    from tqdm import tqdm

    from rag.evals.dataset import load_dataset
    from rag.evals.run import run_config

    texts = {source: doc.text for source, doc in seed_rag.index.documents.items()}
    questions = load_dataset(ROOT / "eval" / "dev.jsonl", texts)
    hybrid = run_config("hybrid", seed_rag, questions, texts, tqdm(disable=True))
    rescored = rescore(seed_rag.settings, questions, hybrid, texts, seed_rag.index.documents)
    assert [(s.id, s.abstained, s.keys_ok, s.bad_quotes) for s in rescored] == [(s.id, s.abstained, s.keys_ok, s.bad_quotes) for s in hybrid.scored]


def test_bm25_cannot_match_an_english_question_and_the_report_says_so(out):
    failed = {f["id"]: f for f in report(out)["sets"]["small"]["configs"]["bm25"]["failures"]}
    assert failed["e36"]["gold_rank"] is None and failed["e36"]["why"] == "abstained"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| small | hybrid | 4 (3 / 1) |" in md and "| Key facts right |" in md and "![" in md
    assert "### small / bm25:" in md and "| e36 | Which side proposed" in md


def test_chart_is_a_png(out):
    data = (out / "chart.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def rag(*args):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], check=False, capture_output=True, text=True, timeout=600, env=dict(os.environ))


def test_rag_eval_command_writes_the_report_and_exits_5_when_the_gate_fails(datasets, seed_rag, seed_settings, tmp_path):
    strict = tmp_path / "strict.toml"
    strict.write_text("[small.hybrid.min]\nkey_fact_accuracy = 1.01\n", encoding="utf-8")
    out = rag("eval", "--dataset", f"{datasets['small']}:{seed_settings.corpus_dir}:{seed_settings.index_dir}",
              "--dataset", f"{datasets['html']}:{datasets['html_corpus']}", "--out", str(tmp_path / "out"), "--config", "hybrid",
              "--no-ablation", "--gate", str(strict))
    assert out.returncode == 5, out.stderr
    assert "| small | hybrid |" in out.stdout and "eval gate failed" in out.stderr and "Traceback" not in out.stderr
    assert "set guide skipped, not gated: corpus not readable" in out.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"predictions.jsonl", "report.json", "report.md", "chart.png"}


def test_rag_eval_refuses_an_unknown_configuration_before_loading_anything(datasets, tmp_path):
    out = rag("eval", "--dataset", str(datasets["small"]), "--out", str(tmp_path / "out"), "--config", "gpt")
    assert out.returncode == 2 and "unknown configuration gpt: choose from bm25, dense, hybrid, llm" in out.stderr
    assert not (tmp_path / "out").exists()


def test_rag_eval_llm_without_an_endpoint_fails_before_loading_anything(datasets, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RAG_LLM_URL"}
    out = subprocess.run([sys.executable, "-m", "rag.cli", "eval", "--dataset", str(datasets["small"]), "--out", str(tmp_path / "out"),
                          "--config", "llm"], check=False, capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 2 and "RAG_LLM_URL" in out.stderr and not (tmp_path / "out").exists()


def test_calibration_runs_on_validated_sets_with_follow_ups(datasets, seed_rag):
    from rag.evals.calibrate import calibrate
    from rag.evals.dataset import load_dataset

    texts = {source: doc.text for source, doc in seed_rag.index.documents.items()}
    questions = load_dataset(datasets["small"], texts) + load_dataset(datasets["followup"], texts)[:1]
    cuts = {c.group: c for c in calibrate(seed_rag, questions)}
    assert cuts["russian"].total == 4 and cuts["crosslingual"].total == 1
    assert cuts["russian"].current == seed_rag.settings.abstain_threshold
    assert cuts["russian"].correct >= cuts["russian"].current_correct  # the best cut is at least as good as the current


def test_an_index_that_no_longer_matches_its_corpus_is_said_to_be_stale(datasets, runs, seed_settings, embedder, tmp_path, capsys):
    """`rag eval` reads the index as it is and never builds: numbers of an old build say so, on stderr and in
    the report, with the command that brings the index up to date."""
    import shutil

    assert runs[0].stale is None  # the seeds' index is up to date
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(seed_settings.corpus_dir, corpus)
    shutil.copytree(seed_settings.index_dir, index, symlinks=True)
    (corpus / "zz_new.txt").write_text("Новая статья\n\nСовет поселка Липки обсудил ремонт дороги к станции.", encoding="utf-8")
    stale = run_eval([EvalSet("small", datasets["small"], corpus, index)], seed_settings, ["bm25"], embedder=embedder,
                     progress=False, ablation=False)[0]
    assert stale.stale and "zz_new.txt" in stale.stale, stale.stale
    assert "rag index --corpus" in capsys.readouterr().err
    write_outputs([stale], tmp_path / "out")
    assert "The index is stale" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["sets"]["small"]["stale"] == stale.stale
