"""`rag soak`'s parts that need no server: unique questions from real words, the summary and its table."""
import json
import random
from itertools import islice
from pathlib import Path

import pytest

from rag.serve.soak import Stats, questions, report, summarize, vocabulary

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_questions_are_unique_and_made_of_the_articles_words():
    words = vocabulary(SEEDS)
    qs = list(islice(questions(words, random.Random(1), set()), 2000))
    assert len(set(qs)) == 2000
    assert all(any(w in q.lower() for w in words) for q in qs[:50])


def test_the_summary_counts_errors_and_memory_growth_after_warm_up():
    stats = Stats()
    for ms in range(1, 101):
        stats.record("api", ms / 1000, 200)
    stats.record("api", 0.01, 422)
    stats.record("chat", 0.01, 500, "boom")
    stats.rss = [(0, 100_000_000, 50_000_000), (20, 200_000_000, 100_000_000), (50, 200_000_000, 100_000_000),
                 (100, 210_000_000, 101_000_000)]
    s = summarize(stats, 100, 2)
    assert s["errors"] == 1 and s["refused"] == 1 and s["kinds"]["api"]["requests"] == 100
    assert round(s["kinds"]["api"]["p50_ms"]) == 50 and round(s["kinds"]["api"]["p99_ms"]) == 99
    assert round(s["rss_growth_after_warmup_pct"]) == 5  # 200 → 210 MB; the first fifth (100 → 200) is warm-up
    assert round(s["anon_growth_after_warmup_pct"]) == 1  # the heap: 100 → 101 MB
    table = report(s)
    assert "1 errors" in table and "chat: 500 boom" in table and "+5.0 %" in table and "anonymous memory +1.0 %" in table


@pytest.mark.integration
def test_a_short_soak_against_a_real_server_finishes_without_errors(seed_rag, seed_settings, tmp_path):
    """The soak starts `rag serve` itself. The server logs a JSON line per question to stderr: a pipe nobody read
    filled after a few hundred questions and stopped the server mid-soak (the command then never ended)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "rag.cli", "soak", "--minutes", "0.3", "--clients", "3", "--out", str(tmp_path / "soak"),
         "--corpus", str(seed_settings.corpus_dir), "--index", str(seed_settings.index_dir)],
        capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    summary = json.loads((tmp_path / "soak" / "soak.json").read_text(encoding="utf-8"))
    assert summary["errors"] == [] and sum(k["requests"] for k in summary["kinds"].values()) > 300, summary
