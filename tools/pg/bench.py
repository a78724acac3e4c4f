"""The embedded store against PostgreSQL + pgvector on the benchmark's corpus (issue 17):

    python -m tools.pg.bench postgresql://postgres@127.0.0.1:55432/rag [--size 10000] [--work /tmp/rag-pg-bench]

Build (embedded: chunk + embed + write; PostgreSQL: the same chunks and vectors copied in, so it embeds nothing),
retrieval p50/p95 (hybrid search with the question vectors cached: the store's share of an answer) and answer
p50/p95, dense recall@10 against exact search over the same vectors, adding one article (`rag index`), RSS of this
process, and whether both stores give the same answers. The database named in the URL is emptied first."""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import numpy as np
import psycopg

from rag.encode.embedder import Embedder
from rag.index import stores
from rag.index.build import _all_vectors
from rag.index.pg_build import copy_index
from rag.pipeline import RAG
from tools.bench.corpus import NEW_ARTICLE_BASE, Generator, article_path, ensure_corpus
from tools.bench.settings import load_settings


def _ms(samples: list[float]) -> tuple[float, float]:
    return round(float(np.percentile(samples, 50)) * 1000, 1), round(float(np.percentile(samples, 95)) * 1000, 1)


def _questions(settings) -> list[str]:
    out = []
    for path in settings.bench_questions:
        out += [json.loads(line)["question"] for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def measure(rag: RAG, questions: list[str], vectors: np.ndarray) -> dict:
    for q in questions:  # question vectors cached, spelling and pymorphy warmed: the store is what is timed
        rag.ask(q)
    search, answer = [], []
    for q in questions:
        t = time.perf_counter()
        rag.retriever.search(rag.retriever.speller.correct(q))
        search.append(time.perf_counter() - t)
        t = time.perf_counter()
        rag.ask(q)
        answer.append(time.perf_counter() - t)
    hits = 0
    for q in questions:
        v = rag.retriever.query_vector(q)
        exact = set(np.argsort(-(vectors @ v), kind="stable")[:10].tolist())
        hits += len(exact & set(rag.index.dense_top(v, 10)))
    return {"search_ms": _ms(search), "answer_ms": _ms(answer), "recall@10": round(hits / (10 * len(questions)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/rag-pg-bench"))
    args = ap.parse_args()
    settings = load_settings()
    generator = Generator(settings)
    corpus = ensure_corpus(settings, args.size, generator=generator)
    work_corpus = args.work / "corpus"
    if not work_corpus.exists():  # a copy: adding an article must not change the cached corpus
        shutil.copytree(corpus.path, work_corpus, copy_function=lambda a, b: shutil.copy2(a, b))
    embedder = Embedder(settings)
    emb = settings.model_copy(update={"corpus_dir": work_corpus, "index_dir": args.work / "index"})
    pg = settings.model_copy(update={"corpus_dir": work_corpus, "store": args.url})
    rows = {}
    t = time.perf_counter()
    report = stores.build(emb, embedder)
    rows["embedded"] = {"build_s": round(time.perf_counter() - t, 1), "embedded_chunks": report.embedded_chunks}
    index = stores.load(emb, embedder)
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS rag_postings, rag_chunks, rag_documents, rag_published, rag_builds CASCADE")
        conn.execute("DROP SEQUENCE IF EXISTS rag_build_ids, rag_row_ids")
    rows["postgres"] = {"build_s": round(copy_index(pg, index).seconds, 1), "embedded_chunks": 0}
    vectors = _all_vectors(index.dense)
    questions = _questions(settings)
    answers = {}
    for name, s in (("embedded", emb), ("postgres", pg)):
        rag = RAG(s, embedder)
        rows[name].update(measure(rag, questions, vectors), chunks=len(rag.index.chunks))
        answers[name] = [{k: v for k, v in rag.ask(q).to_dict().items() if k != "timings_ms"} for q in questions]
        rows[name]["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    path = article_path(work_corpus, NEW_ARTICLE_BASE + 7)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generator.article_text(NEW_ARTICLE_BASE + 7), encoding="utf-8")
    for name, s in (("embedded", emb), ("postgres", pg)):
        t = time.perf_counter()
        stores.build(s, embedder, progress=False)
        rows[name]["add_article_s"] = round(time.perf_counter() - t, 2)
    path.unlink()
    same = sum(a == b for a, b in zip(answers["embedded"], answers["postgres"]))
    print(f"corpus: {corpus.articles + corpus.seed_files} files, {rows['embedded']['chunks']} chunks; {len(questions)} questions; "
          f"same answer on both stores: {same}/{len(questions)}")
    print("| store | build s | search p50/p95 ms | answer p50/p95 ms | dense recall@10 | add an article s | RSS MB (cumulative) |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['build_s']} | {r['search_ms'][0]} / {r['search_ms'][1]} | {r['answer_ms'][0]} / {r['answer_ms'][1]} | "
              f"{r['recall@10']} | {r['add_article_s']} | {r['rss_mb']} |")
    (args.work / "result.json").write_text(json.dumps({"rows": rows, "same_answers": same, "questions": len(questions)}, indent=1))


if __name__ == "__main__":
    main()
