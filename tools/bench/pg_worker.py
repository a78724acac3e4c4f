"""The PostgreSQL phases in fresh processes (tools/bench/worker.py runs them): `pg_build` publishes the embedded
build's chunks and vectors in the database (rag.index.pg_build.copy_index: nothing is embedded again), `pg_serve`
measures what the embedded `serve` phase measures, on the PostgreSQL store, and adds one article."""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import psycopg

from tools.bench.measure import (
    WARMUP,
    labelled,
    latency,
    peak_rss_mb,
    questions,
    recall,
    squeeze,
    store_search,
    timed_questions,
)
from tools.bench.settings import load_settings

TABLES = "rag_postings, rag_chunks, rag_documents, rag_published, rag_builds"


def database_mb(url: str) -> float:
    """The rag_* tables with their indexes (HNSW, postings, TOAST), as PostgreSQL counts them."""
    with psycopg.connect(url) as conn:
        size = conn.execute("SELECT sum(pg_total_relation_size(t)) FROM unnest(string_to_array(%s, ', ')) t", (TABLES,)).fetchone()[0]
    return round(float(size) / 2**20, 1)


def build(spec: dict) -> dict:
    """Empty the database's rag_* tables, then publish the embedded index there as one build."""
    from rag.encode.embedder import Embedder
    from rag.index import stores
    from rag.index.pg_build import copy_index

    settings = load_settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]))
    pg = settings.model_copy(update={"store": settings.bench_store})
    embedder = Embedder(settings)  # only to check the index was made with this model
    index = stores.load(settings, embedder)
    with psycopg.connect(pg.store, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLES} CASCADE")
        conn.execute("DROP SEQUENCE IF EXISTS rag_build_ids, rag_row_ids")
    report = copy_index(pg, index)
    return {**asdict(report), "build_s": round(report.seconds, 2), "embedded_chunks": 0, "database_mb": database_mb(pg.store),
            "peak_rss_mb": peak_rss_mb()}


def serve(spec: dict) -> dict:
    """Warm latencies, recall, dense recall@10 against the embedded phase's exact top 10, the same answers as the
    embedded store (its `serve` phase wrote them), RSS; then one new article by `rag index`'s code, warm."""
    from rag.index import stores
    from rag.ingest.chunking import encoding
    from rag.pipeline import RAG
    from rag.retrieve.retriever import Retriever

    settings = load_settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]))
    settings = settings.model_copy(update={"store": settings.bench_store})
    reference = json.loads(Path(spec["answers"]).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    rag = RAG(settings)
    load_s = time.perf_counter() - t0
    texts, gold = questions(settings.bench_questions), labelled(settings.bench_recall_dataset)
    texts += [squeeze(q.question) for q in gold if squeeze(q.question) not in texts]
    retriever = Retriever(rag.index, rag.embedder, settings)  # an empty query-vector cache, as in `serve`
    search_ms, answer_ms, ranked, answers = timed_questions(rag, retriever, texts, "PostgreSQL: retrieval and answers", spec["progress"])
    same = sum(answer == reference["answers"].get(q) for q, answer in answers.items())
    found = depth = 0
    for q in texts:
        exact = reference["exact_top10"][q]
        found += len(set(exact) & set(rag.index.dense_top(retriever.query_vector(q), len(exact))))
        depth += len(exact)
    result = {
        "load_s": round(load_s, 2), "retrieval": latency(search_ms), "answer": latency(answer_ms),
        "store_search": store_search(rag, texts), "recall": recall(ranked, gold), "dense_recall_at_10": round(found / depth, 4), "ef_search": settings.pg_ef_search,
        "same_answers": same, "questions": len(texts), "peak_rss_mb": peak_rss_mb(),
    }
    t0 = time.perf_counter()
    rag.embedder.embed_passages([WARMUP])
    encoding(settings.tiktoken_encoding, settings.cache_dir)
    passage_model_s = time.perf_counter() - t0
    article = Path(spec["add_article"])
    article.parent.mkdir(parents=True, exist_ok=True)
    article.write_text(spec["add_text"], encoding="utf-8")
    t0 = time.perf_counter()
    report = stores.build(settings, rag.embedder, progress=False)
    result["add_article"] = {
        **asdict(report), "seconds": round(time.perf_counter() - t0, 2), "passage_model_load_s": round(passage_model_s, 2),
        "full_rebuild": report.embedded_chunks == report.chunks,
    }
    result["database_mb"] = database_mb(settings.store)
    return result
