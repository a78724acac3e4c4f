"""`rag soak`'s parts that need no server: unique questions from real words, the summary and its table."""
import random
from itertools import islice
from pathlib import Path

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
    stats.rss = [(0, 100_000_000), (20, 200_000_000), (50, 200_000_000), (100, 210_000_000)]
    s = summarize(stats, 100, 2)
    assert s["errors"] == 1 and s["refused"] == 1 and s["kinds"]["api"]["requests"] == 100
    assert round(s["kinds"]["api"]["p50_ms"]) == 50 and round(s["kinds"]["api"]["p99_ms"]) == 99
    assert round(s["rss_growth_after_warmup_pct"]) == 5  # 200 → 210 MB; the first fifth (100 → 200) is warm-up
    table = report(s)
    assert "1 errors" in table and "chat: 500 boom" in table and "+5.0 %" in table
