"""The PostgreSQL phases of one corpus size (`python -m tools.bench --store postgresql://…`, issue 17), after the
embedded ones and on the same chunks and vectors:

- pg_build: the embedded build published in the database as it is (rag.index.pg_build.copy_index: COPY, HNSW
  inserts, postings); nothing is embedded, so "build" here is what PostgreSQL adds to the embedded build's time;
- pg_cold_start: a new `rag ask` process with RAG_STORE;
- pg_serve: the embedded `serve` phase's numbers on PostgreSQL, the same answers, one article added (warm);
- pg_load: two `rag serve` processes on the database under load, one article published by `rag index` meanwhile
  (tools/pg/load.py).

They change the database, so they are measured together: --resume reuses them only when all four are stored."""
from __future__ import annotations

import shutil

from tools.pg import load

PG_PHASES = ("pg_build", "pg_cold_start", "pg_serve", "pg_load")
PG_SETTINGS = ("bench_store", "bench_pg_clients", "bench_pg_load_seconds")  # read by these phases only
PG_FOLDER = "zz-bench-pg"  # the articles these phases add; removed afterwards


def public_url(url: str) -> str:
    """The URL without its password (the `pg` extra is imported only when a store is given)."""
    if not url:
        return url
    from rag.index.pg_store import redact

    return redact(url)


def measure(run, question: str, new_texts: list[str]) -> dict:
    """Every PostgreSQL phase of `run` (a tools.bench.run.SizeRun whose embedded phases are done)."""
    settings, url = run.settings, run.settings.bench_store
    if not all(run.stored(name) for name in PG_PHASES):
        for name in PG_PHASES:
            (run.work / f"{name}.json").unlink(missing_ok=True)
    env = {**run.env, "RAG_STORE": url}
    spec = {"corpus": str(run.docs), "index": str(run.index)}
    try:
        build = run.phase("pg_build", lambda: run.worker("pg_build", spec))
        cold = run.phase("pg_cold_start", lambda: run.cold_start(question, env=env))
        serve = run.phase("pg_serve", lambda: run.worker("pg_serve", {
            **spec, "answers": str(run.answers), "add_article": str(run.docs / PG_FOLDER / "article-a.txt"), "add_text": new_texts[0]}))
        under_load = run.phase("pg_load", lambda: load.run(
            settings.model_copy(update={"store": url}), url, run.docs, run.work / "pg-load",
            settings.bench_pg_clients, settings.bench_pg_load_seconds, new_texts[1], base_env=env))
    finally:
        shutil.rmtree(run.docs / PG_FOLDER, ignore_errors=True)
    return {"store": public_url(url), "build": build, "cold_start": cold, "serve": serve, "load": under_load}
