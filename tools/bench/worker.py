"""One benchmark phase in a fresh process, so its peak memory is its own: `python -m rag.bench_worker
TASK SPEC.json RESULT.json` with TASK build (our index), serve (our latencies, recall, one added article),
baseline (the LangChain pipeline), pg_build or pg_serve (the same on PostgreSQL, tools/bench/pg_worker.py)."""
from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from tools.bench.measure import (
    WARMUP,
    dir_mb,
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

ANN_DEPTH = 10  # recall@10 of an approximate FAISS index against exact search


def matmul_gflops(size: int, repeats: int = 5) -> dict:
    """float32 matrix-multiply speed with the threads torch uses: the CPU's practical compute ceiling."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return {"gflops": round(2 * size**3 / best / 1e9, 1), "threads": torch.get_num_threads(), "matrix": size}


def build(spec: dict) -> dict:
    """Our index built from nothing, then the raw encoder on a sample of its chunks, then the matmul ceiling."""
    import faiss

    from rag.encode.embedder import Embedder
    from rag.index import build as index_mod

    settings = load_settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]))
    t0 = time.perf_counter()
    embedder = Embedder(settings)
    embedder.embed_passages([WARMUP])  # the passage model may load lazily: keep its loading out of the build time
    model_s = time.perf_counter() - t0
    report = index_mod.build(settings, embedder, progress=spec["progress"])
    rss = peak_rss_mb()
    idx = index_mod.load(settings.index_dir)
    tokens = sum(c.tokens for c in idx.chunks)
    n = min(settings.bench_encoder_sample, max(1, len(idx.chunks) // 2))  # a sample, not the whole corpus again
    sample = random.Random(settings.bench_seed).sample(idx.chunks, n)
    texts = [c.text for c in sample]
    e5_tokens = sum(embedder.count_tokens(t, passage=True) for t in texts)
    t0 = time.perf_counter()
    embedder.embed_passages(texts, progress=spec["progress"])
    encode_s = time.perf_counter() - t0
    ceiling = matmul_gflops(settings.bench_matmul_size)
    ceiling_tps = ceiling["gflops"] * 1e9 / settings.bench_flop_per_token
    return {
        **asdict(report),
        "model_load_s": round(model_s, 2),
        "build_s": round(report.seconds, 2),
        "tokens": tokens,
        "chunks_per_s": round(report.chunks / report.seconds, 1),
        "tokens_per_s": round(tokens / report.seconds, 1),
        "index_mb": dir_mb(idx.path),
        "dense_index": type(faiss.downcast_index(idx.dense)).__name__,
        "peak_rss_mb": rss,
        "encoder": {
            "chunks": len(texts),
            "seconds": round(encode_s, 2),
            "chunks_per_s": round(len(texts) / encode_s, 1),
            "tokens_per_s": round(sum(c.tokens for c in sample) / encode_s, 1),
            "e5_tokens_per_s": round(e5_tokens / encode_s, 1),
            "e5_tokens_per_chunk": round(e5_tokens / len(texts), 1),
            "matmul": ceiling,
            "ceiling_e5_tokens_per_s": round(ceiling_tps, 1),
            "share_of_ceiling": round(e5_tokens / encode_s / ceiling_tps, 4),
        },
    }


def exact_top(rag, texts: list[str]) -> tuple[list[list[int]], object]:
    """The exact top 10 chunk ids of each question (inner product over the index's own vectors), and the
    question vectors; the PostgreSQL phase scores its HNSW search against these same ids."""
    import faiss

    dense = faiss.downcast_index(rag.index.dense_main)
    queries = rag.embedder.embed_queries(texts)
    depth = min(ANN_DEPTH, dense.ntotal)
    if not isinstance(dense, faiss.IndexFlat):
        if ivf := faiss.try_extract_index_ivf(dense):
            ivf.make_direct_map()  # IVF stores vectors by list: map ids to places so they can be read back
        vectors = rag.index.dense_main.reconstruct_n(0, rag.index.dense_main.ntotal)
        dense = faiss.IndexFlatIP(vectors.shape[1])
        dense.add(vectors)
    return dense.search(queries, depth)[1].tolist(), queries


def ann_recall(rag, texts: list[str], exact_ids: list[list[int]], queries) -> dict:
    """Recall@10 of the index's FAISS index against exact inner-product search over the same vectors."""
    import faiss

    dense = faiss.downcast_index(rag.index.dense_main)
    if isinstance(dense, faiss.IndexFlat):
        return {"kind": type(dense).__name__, "recall_at_10": None, "exact": True}
    _, approx_ids = rag.index.dense_main.search(queries, len(exact_ids[0]))
    found = sum(len(set(a) & set(e)) for a, e in zip(approx_ids.tolist(), exact_ids))
    return {"kind": type(dense).__name__, "recall_at_10": round(found / (len(exact_ids[0]) * len(texts)), 4), "exact": False}


def serve(spec: dict) -> dict:
    """Warm latencies of retrieval and whole answers, gold-source recall, ANN recall; then one new article."""
    from rag.index import build as index_mod
    from rag.ingest.chunking import encoding
    from rag.pipeline import RAG
    from rag.retrieve.retriever import Retriever

    settings = load_settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]))
    t0 = time.perf_counter()
    rag = RAG(settings)
    load_s = time.perf_counter() - t0
    texts, gold = questions(settings.bench_questions), labelled(settings.bench_recall_dataset)
    texts += [squeeze(q.question) for q in gold if squeeze(q.question) not in texts]
    # A Retriever of its own has an empty query-vector cache, so every timed search embeds its question.
    retriever = Retriever(rag.index, rag.embedder, settings)
    search_ms, answer_ms, ranked, answers = timed_questions(rag, retriever, texts, "retrieval and answers", spec["progress"])
    exact_ids, queries = exact_top(rag, texts)
    # What the PostgreSQL phase compares with (tools/bench/pg_worker.py): the same answers, the same exact top 10.
    Path(spec["answers"]).write_text(json.dumps({"answers": answers, "exact_top10": dict(zip(texts, exact_ids))}, ensure_ascii=False))
    result = {
        "load_s": round(load_s, 2),
        "retrieval": latency(search_ms),
        "answer": latency(answer_ms),
        "store_search": store_search(rag, texts),
        "recall": recall(ranked, gold),
        "ann": ann_recall(rag, texts, exact_ids, queries),
        "peak_rss_mb": peak_rss_mb(),
    }
    # One new article into a copy of the index, by this warm process. Its passage encoder and the chunker's
    # tiktoken encoding may not be loaded yet (questions need neither): that loading is timed apart, once.
    t0 = time.perf_counter()
    rag.embedder.embed_passages([WARMUP])
    encoding(settings.tiktoken_encoding, settings.cache_dir)
    passage_model_s = time.perf_counter() - t0
    add_index = Path(spec["add_index"])
    shutil.rmtree(add_index, ignore_errors=True)
    shutil.copytree(settings.index_dir, add_index, symlinks=True)
    article = Path(spec["add_article"])
    article.parent.mkdir(parents=True, exist_ok=True)
    article.write_text(spec["add_text"], encoding="utf-8")
    t0 = time.perf_counter()
    report = index_mod.build(settings.model_copy(update={"index_dir": add_index}), rag.embedder, progress=False)
    seconds = time.perf_counter() - t0
    result["add_article"] = {
        **asdict(report), "report_seconds": report.seconds, "seconds": round(seconds, 2), "passage_model_load_s": round(passage_model_s, 2),
        "full_rebuild": report.embedded_chunks == report.chunks,  # every chunk embedded again
    }
    return result


def main(argv: list[str]) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    task, spec_file, result_file = argv
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    if task == "baseline":
        from tools.bench.baseline import run as task_fn
    elif task.startswith("pg_"):
        from tools.bench import pg_worker

        task_fn = {"pg_build": pg_worker.build, "pg_serve": pg_worker.serve}[task]
    else:
        task_fn = {"build": build, "serve": serve}[task]
    result = task_fn(spec)
    Path(result_file).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
