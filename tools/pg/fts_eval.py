"""Our BM25 terms (pymorphy3 lemma + Snowball stem) against PostgreSQL's built-in `russian` text search, as the
lexical ranking of the same store (issue 17):

    python -m tools.pg.fts_eval postgresql://…/db [--dataset eval/dev.jsonl]

The store must hold a published build (`rag index` with RAG_STORE, or `python -m tools.bench --store URL`). For every answerable
question with gold sources: the rank of the first chunk from a gold source in each lexical ranking (top 50),
as Recall@1/@5 and MRR; ts_rank_cd over to_tsvector('russian', chunk) with the question's lexemes OR-ed
(plainto_tsquery ANDs them all, and a question's words are rarely all in one chunk)."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from rag.config import ROOT, Settings
from rag.index import analysis
from rag.index.pg_store import LIVE_CHUNK, open_store

FTS = f"""
SELECT c.source FROM rag_chunks c JOIN rag_documents d ON d.id = c.document,
  to_tsquery('russian', replace(plainto_tsquery('russian', %(q)s)::text, ' & ', ' | ')) AS query
WHERE {LIVE_CHUNK}
  AND to_tsvector('russian', substr(d.doc->>'text', c.start + 1, c."end" - c.start)) @@ query
ORDER BY ts_rank_cd(to_tsvector('russian', substr(d.doc->>'text', c.start + 1, c."end" - c.start)), query) DESC, c.id
LIMIT 50"""


def scores(ranks: list[int | None]) -> dict:
    return {"recall@1": round(float(np.mean([r is not None and r < 1 for r in ranks])), 3),
            "recall@5": round(float(np.mean([r is not None and r < 5 for r in ranks])), 3),
            "mrr": round(float(np.mean([1 / (r + 1) if r is not None else 0 for r in ranks])), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--dataset", type=Path, default=ROOT / "eval" / "dev.jsonl")
    args = ap.parse_args()
    store = open_store(args.url, ef_search=Settings().pg_ef_search)
    rows = [json.loads(line) for line in args.dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("answerable") and r.get("sources")]
    ours, theirs, times = [], [], {"ours": [], "russian": []}
    for r in rows:
        gold = set(r["sources"])
        t = time.perf_counter()
        ranked = [store.chunks[i].source for i in store.bm25_top(analysis.terms(r["question"]), 50)]
        times["ours"].append(time.perf_counter() - t)
        t = time.perf_counter()
        fts = [s for (s,) in store.conn.execute(FTS, {"q": r["question"], "v": store.build}).fetchall()]
        times["russian"].append(time.perf_counter() - t)
        ours.append(next((k for k, s in enumerate(ranked) if s in gold), None))
        theirs.append(next((k for k, s in enumerate(fts) if s in gold), None))
    print(f"{len(rows)} answerable questions of {args.dataset.name}; {len(store.chunks)} chunks")
    for name, ranks in (("ours (pymorphy3 + Snowball, BM25)", ours), ("postgres russian (ts_rank_cd)", theirs)):
        key = "ours" if name.startswith("ours") else "russian"
        print(f"{name}: {scores(ranks)}, p50 {np.percentile(times[key], 50) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
