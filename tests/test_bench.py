"""The real benchmark at a tiny size in temp folders: outputs written and consistent, the corpus made as promised."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import EvalInputError
from tools.bench.corpus import GENERATED, Generator, ensure_corpus
from tools.bench.run import parse_sizes, run_bench, settings_env
from tools.bench.settings import BenchSettings as Settings

ROOT = Path(__file__).resolve().parent.parent
SIZE = 150
PHASES = ("build", "cold_start", "serve", "add_article_cli")


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """A private cache (the converted model and tiktoken files linked in, not made again); only the recall questions;
    an approximate (IVF) vector index from 100 chunks on, so its recall against exact search is measured too."""
    cache = tmp_path_factory.mktemp("cache")
    shared = Settings().cache_dir
    for name in ("models", "tiktoken"):
        (shared / name).mkdir(parents=True, exist_ok=True)
        (cache / name).symlink_to(shared / name)
    return Settings(
        cache_dir=cache, bench_questions=[], bench_cold_runs=1, bench_encoder_sample=64, ann_min_chunks=100,
    )


@pytest.fixture(scope="module")
def out(settings, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "out"
    run_bench(settings, [SIZE], out, quick=True, progress=False)
    return out


@pytest.fixture(scope="module")
def report(out) -> dict:
    return json.loads((out / "bench.json").read_text(encoding="utf-8"))


def files_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.txt"))}


def test_outputs_exist_and_the_plots_are_pngs(out):
    assert (out / "bench.md").read_text(encoding="utf-8").startswith("# Benchmark")
    for name in ("latency.png", "memory.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_has_every_part_and_sane_numbers(report):
    (r,) = report["results"]
    assert r["size"] == SIZE and set(PHASES) <= set(r["ours"])
    build, serve, base = r["ours"]["build"], r["ours"]["serve"], r["baseline"]
    assert build["chunks"] >= SIZE * 0.8 and build["embedded_chunks"] == build["chunks"]
    assert build["encoder"]["chunks"] == 64 and 0 < build["encoder"]["share_of_ceiling"]
    for recall in (serve["recall"], base["recall"]):
        assert 0.0 <= recall["recall_at_1"] <= recall["recall_at_5"] <= 1.0
        assert recall["questions"] == sum(json.loads(line)["answerable"] for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines())
    for lat in (serve["retrieval"], serve["answer"], base["retrieval"]):
        assert 0 < lat["p50_ms"] <= lat["p95_ms"] and lat["n"] >= 60
    assert serve["ann"]["exact"] is False and "IVF" in serve["ann"]["kind"] and 0.5 <= serve["ann"]["recall_at_10"] <= 1.0
    assert base["chunks"] > 0 and base["index_mb"] > 0 and build["index_mb"] > 0
    assert set(r["ratios"]) >= {"build_time", "answer_p50_vs_baseline_search_p50", "retrieval_p50", "peak_rss"}
    assert len(r["targets"]) == 9 and all(isinstance(t["met"], bool) for t in r["targets"])


def test_one_new_article_is_added_without_a_full_rebuild(report):
    (r,) = report["results"]
    add, cli = r["ours"]["serve"]["add_article"], r["ours"]["add_article_cli"]
    assert 0 < add["embedded_chunks"] < add["chunks"] and not add["full_rebuild"]
    assert add["reused_documents"] == add["documents"] - 1 == r["ours"]["build"]["documents"]
    assert 0 < cli["embedded_chunks"] < cli["chunks"] and cli["documents"] == add["documents"] + 1
    assert r["ours"]["cold_start"]["rebuilt_index"] is False


def test_the_added_articles_are_gone_afterwards(report, out):
    corpus = Path(report["results"][0]["corpus"]["path"])
    assert files_digest(out / "work" / f"size-{SIZE}" / "corpus") == files_digest(corpus)


def test_the_seeds_are_in_the_corpus_verbatim(report):
    corpus = Path(report["results"][0]["corpus"]["path"])
    for seed in (ROOT / "seeds").glob("*.txt"):
        assert (corpus / seed.name).read_bytes() == seed.read_bytes()


def test_no_generated_sentence_is_a_seed_sentence(report, settings):
    corpus = Path(report["results"][0]["corpus"]["path"])
    seed_sentences = [s for s in Generator(settings).seed_sentences if len(s) >= 40]
    generated = " ".join(" ".join(p.read_text(encoding="utf-8").split()) for p in (corpus / GENERATED).rglob("*.txt"))
    assert generated and not [s for s in seed_sentences if s in generated]


def test_the_corpus_is_deterministic_across_processes(report, settings, tmp_path):
    """Made again in a new process with another string-hash seed (set order changes), it is the same, file by file."""
    first = Path(report["results"][0]["corpus"]["path"])
    script = f"from tools.bench.corpus import ensure_corpus; from tools.bench.settings import BenchSettings; print(ensure_corpus(BenchSettings(), {SIZE}, progress=False).path)"
    env = {**settings_env(settings.model_copy(update={"cache_dir": tmp_path})), "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    again = Path(done.stdout.strip())
    assert again != first and again.name == first.name
    assert files_digest(again) == files_digest(first)
    assert ensure_corpus(settings.model_copy(update={"cache_dir": tmp_path}), SIZE, progress=False).cached


def test_resume_reuses_stored_phases_and_says_so(settings, out, report):
    resumed = run_bench(settings, [SIZE], out, quick=True, resume=True, progress=False)
    (r,) = resumed["results"]
    assert all(r["ours"][p].get("resumed") for p in PHASES) and r["baseline"].get("resumed")
    assert r["ours"]["build"]["build_s"] == report["results"][0]["ours"]["build"]["build_s"]
    assert "--resume" in (out / "bench.md").read_text(encoding="utf-8")


def test_sizes_are_parsed_or_refused():
    assert parse_sizes("10000,1000, 1_000") == [1000, 10000]
    for bad in ("", "abc", "0", "1000;2000"):
        with pytest.raises(EvalInputError):
            parse_sizes(bad)


def test_above_the_cap_the_stored_baseline_of_a_smaller_size_is_reused(settings, out, report):
    from tools.bench.run import largest_baseline

    capped = settings.model_copy(update={"bench_baseline_max_chunks": SIZE})
    assert largest_baseline(capped, out, SIZE, [], Generator(capped)) is None  # at or below the cap it is measured
    measured, corpus = largest_baseline(capped, out, 10 * SIZE, [], Generator(capped))
    assert corpus.size == SIZE and measured["build_s"] == report["results"][0]["baseline"]["build_s"]
    assert largest_baseline(capped.model_copy(update={"bench_baseline_max_chunks": SIZE - 1}), out, 10 * SIZE, [], Generator(capped)) is None


def test_above_the_cap_without_a_smaller_baseline_the_run_says_how_to_avoid_building_it(settings, out, report, capfd):
    capped = settings.model_copy(update={"bench_baseline_max_chunks": SIZE - 1})
    run_bench(capped, [SIZE], out, quick=True, resume=True, progress=False)  # every phase resumed: fast
    assert f"put a size ≤ {SIZE - 1} first in --sizes" in capfd.readouterr().err


def test_with_a_store_the_postgres_phases_run_on_the_embedded_build(settings, out, report, pg_url):
    """--store on an earlier run's folder: the embedded phases are reused (the PostgreSQL settings change none of
    them), the PostgreSQL build copies the embedded vectors, and two servers under load see a publish."""
    pg = settings.model_copy(update={"bench_store": pg_url, "bench_pg_clients": 2, "bench_pg_load_seconds": 24})
    resumed = run_bench(pg, [SIZE], out, quick=True, resume=True, progress=False)
    (r,) = resumed["results"]
    assert all(r["ours"][p].get("resumed") for p in PHASES) and r["baseline"].get("resumed")
    p = r["postgres"]
    assert p["build"]["chunks"] == r["ours"]["build"]["chunks"] and p["build"]["embedded_chunks"] == 0
    serve = p["serve"]
    assert serve["dense_recall_at_10"] == 1.0  # HNSW at ef_search 400 over 150 rows finds the exact top 10
    # The embedded side searches an IVF index here (ann_min_chunks 100): most answers, not all, must be the same.
    assert serve["questions"] == r["ours"]["serve"]["answer"]["n"] and serve["same_answers"] >= 0.8 * serve["questions"]
    assert 0 < serve["answer"]["p50_ms"] <= serve["answer"]["p95_ms"] and serve["recall"]["recall_at_5"] > 0.5
    assert serve["store_search"]["n"] == r["ours"]["serve"]["store_search"]["n"] == serve["questions"]
    assert 0 < serve["add_article"]["embedded_chunks"] < serve["add_article"]["chunks"]
    load = p["load"]
    assert load["all"]["errors"] == 0 and all(s["requests"] > 0 for s in load["servers"].values())
    assert load["publish"]["both_serving_s"] < 5 and load["publish"]["done_at_s"] < load["seconds"]  # under load
    assert len(set(load["builds_after"])) == 1 and load["builds_after"] != load["builds_before"]
    text = (out / "bench.md").read_text(encoding="utf-8")
    assert "Embedded store against PostgreSQL" in text and "Two app servers under load" in text
    assert files_digest(out / "work" / f"size-{SIZE}" / "corpus") == files_digest(Path(r["corpus"]["path"]))
