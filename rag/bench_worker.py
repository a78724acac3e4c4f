"""One benchmark phase in a fresh process, so its peak memory is its own: `python -m rag.bench_worker
TASK SPEC.json RESULT.json` with TASK build (our index), serve (our latencies, recall, one added article)
or baseline (the LangChain pipeline)."""
from __future__ import annotations

import json
import os
import random
import resource
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from .config import load_settings
from .eval_dataset import Question, parse
from .eval_metrics import gold_rank, percentile, ranked_files, recall_at

ANN_DEPTH = 10  # recall@10 of an approximate FAISS index against exact search
WARMUP = "прогрев кэша модели"  # not a benchmark question, so no timed question hits a cache it filled


def peak_rss_mb() -> float:
    """The highest resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20, 2)


def latency(values_ms: list[float]) -> dict:
    return {"p50_ms": round(percentile(values_ms, 50), 2), "p95_ms": round(percentile(values_ms, 95), 2), "n": len(values_ms)}


def squeeze(text: str) -> str:
    return " ".join(text.split())


def questions(files: list[Path]) -> list[str]:
    """Every distinct question text of the eval-format files, in file order."""
    texts = [json.loads(line)["question"] for f in files for line in Path(f).read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(squeeze(t) for t in texts))


def labelled(path: Path) -> list[Question]:
    """The answerable questions of a dataset (validated line by line, not against the corpus: it is large)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            q, problems = parse(line)
            if q is None:
                raise ValueError(f"{path}: {problems}")
            if q.answerable:
                out.append(q)
    return out


def recall(ranked: dict[str, list[str]], gold: list[Question]) -> dict:
    """Recall@1/@5 of a gold source among the files of each question's retrieved chunks (best first)."""
    ranks = [gold_rank(ranked_files(ranked[squeeze(q.question)]), q.sources) for q in gold]
    return {f"recall_at_{k}": round(sum(recall_at(r, k) for r in ranks) / len(ranks), 4) for k in (1, 5)} | {"questions": len(ranks)}


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

    from . import index as index_mod
    from .embeddings import Embedder

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


def ann_recall(rag, texts: list[str]) -> dict:
    """Recall@10 of the index's FAISS index against exact inner-product search over the same vectors."""
    import faiss

    dense = faiss.downcast_index(rag.index.dense_main)
    if isinstance(dense, faiss.IndexFlat):
        return {"kind": type(dense).__name__, "recall_at_10": None, "exact": True}
    if ivf := faiss.try_extract_index_ivf(dense):
        ivf.make_direct_map()  # IVF stores vectors by list: map ids to places so they can be read back
    vectors = rag.index.dense_main.reconstruct_n(0, rag.index.dense_main.ntotal)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    queries = rag.embedder.embed_queries(texts)
    depth = min(ANN_DEPTH, exact.ntotal)
    _, approx_ids = rag.index.dense_main.search(queries, depth)
    _, exact_ids = exact.search(queries, depth)
    found = sum(len(set(a) & set(e)) for a, e in zip(approx_ids.tolist(), exact_ids.tolist()))
    return {"kind": type(dense).__name__, "recall_at_10": round(found / (depth * len(texts)), 4), "exact": False}


def serve(spec: dict) -> dict:
    """Warm latencies of retrieval and whole answers, gold-source recall, ANN recall; then one new article."""
    from . import index as index_mod
    from .chunking import encoding
    from .pipeline import RAG
    from .retrieval import Retriever

    settings = load_settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]))
    t0 = time.perf_counter()
    rag = RAG(settings, refresh=False)
    load_s = time.perf_counter() - t0
    texts, gold = questions(settings.bench_questions), labelled(settings.bench_recall_dataset)
    texts += [squeeze(q.question) for q in gold if squeeze(q.question) not in texts]
    # A Retriever of its own has an empty query-vector cache, so every timed search embeds its question.
    retriever = Retriever(rag.index, rag.embedder, settings)
    rag.ask(WARMUP)
    retriever.search(WARMUP)
    search_ms, answer_ms, ranked = [], [], {}
    # Interleaved, so neither pass alone pays for pages of the index touched first.
    for q in tqdm(texts, desc="retrieval and answers", unit="q", disable=not spec["progress"]):
        t = time.perf_counter()
        retriever.search(q)
        search_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        _, gathered = rag.ask_traced(q)
        answer_ms.append((time.perf_counter() - t) * 1000)
        ranked[q] = [h.chunk.source for h in gathered.hits]
    result = {
        "load_s": round(load_s, 2),
        "retrieval": latency(search_ms),
        "answer": latency(answer_ms),
        "recall": recall(ranked, gold),
        "ann": ann_recall(rag, texts),
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
        from .bench_baseline import run as task_fn
    else:
        task_fn = {"build": build, "serve": serve}[task]
    result = task_fn(spec)
    Path(result_file).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
