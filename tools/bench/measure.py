"""Measurements shared by the benchmark's phases (ours in worker.py, the baseline's in baseline.py)."""
from __future__ import annotations

import json
import resource
from pathlib import Path

from rag.evals.dataset import Question, parse
from rag.evals.metrics import gold_rank, percentile, ranked_files, recall_at

WARMUP = "прогрев кэша модели"  # not a benchmark question, so no timed question hits a cache it filled


def peak_rss_mb() -> float:
    """The highest resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20, 2)


def latency(values_ms: list[float]) -> dict:
    return {"p50_ms": round(percentile(values_ms, 50), 2), "p95_ms": round(percentile(values_ms, 95), 2), "n": len(values_ms)}


def comparable(answer) -> dict:
    """An answer without its timings: what must be equal on both stores."""
    return {k: v for k, v in answer.to_dict().items() if k != "timings_ms"}


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


def store_search(rag, texts: list[str]) -> dict:
    """`Retriever.search` with each question's vector already cached (the timed answers embedded them): the store's
    share of a search (dense top-n, BM25, sentence vectors), which the query embedding hides on a busy CPU."""
    import time

    samples = []
    for q in texts:
        corrected = rag.retriever.normalise(q)
        rag.retriever.query_vector(corrected)
        t = time.perf_counter()
        rag.retriever.search(corrected)
        samples.append((time.perf_counter() - t) * 1000)
    return latency(samples)


def timed_questions(rag, retriever, texts: list[str], desc: str, progress: bool) -> tuple[list[float], list[float], dict, dict]:
    """Each question's search (a new Retriever: its query embedding included) and whole answer, in ms, with the
    files it ranked and its comparable answer. Interleaved, so neither pass alone pays for pages of the index
    touched first."""
    import time

    from tqdm import tqdm

    rag.ask(WARMUP)
    retriever.search(WARMUP)
    search_ms, answer_ms, ranked, answers = [], [], {}, {}
    for q in tqdm(texts, desc=desc, unit="q", disable=not progress):
        t = time.perf_counter()
        retriever.search(q)
        search_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        answer, gathered = rag.ask_traced(q)
        answer_ms.append((time.perf_counter() - t) * 1000)
        ranked[q] = [h.chunk.source for h in gathered.hits]
        answers[q] = comparable(answer)
    return search_ms, answer_ms, ranked, answers
