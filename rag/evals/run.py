"""`rag eval`: one labelled dataset through several pipeline configurations, scored side by side."""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from rag.answer.generate import Generator
from rag.config import Settings
from rag.encode.embedder import Embedder
from rag.errors import EvalInputError
from rag.evals.dataset import Question, corpus_texts, load_dataset
from rag.evals.metrics import Scored, ranked_files, score, summarise
from rag.pipeline import RAG

# Settings each configuration overrides. None of them changes the index, so one build serves them all.
# A configuration joins by adding its overrides here. `llm` (issue 16) needs RAG_LLM_URL and is run only when named.
CONFIGS: dict[str, dict] = {
    "bm25": {"retrieval_mode": "bm25", "answer_mode": "extractive"},
    "dense": {"retrieval_mode": "dense", "answer_mode": "extractive"},
    "hybrid": {"retrieval_mode": "hybrid", "answer_mode": "extractive"},
    "llm": {"retrieval_mode": "hybrid", "answer_mode": "llm"},
}
DEFAULT_CONFIGS = ("bm25", "dense", "hybrid")
GATED_CONFIG = "hybrid"  # the default pipeline, which the CI gate holds to the thresholds


@dataclass
class ConfigResult:
    """One configuration's answers, per-question scores and metrics."""

    name: str
    predictions: list[dict]  # `rag ask --json` objects plus id, config and the retrieved files
    scored: list[Scored]
    metrics: dict
    seconds: float


@dataclass
class EvalRun:
    dataset: Path
    corpus: Path
    questions: list[Question]
    results: list[ConfigResult]
    seconds: float


def check_configs(names: Sequence[str]) -> list[str]:
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or not names:
        raise EvalInputError(f"unknown configuration {', '.join(unknown) or '(none)'}: choose from {', '.join(CONFIGS)}")
    return list(dict.fromkeys(names))


def run_config(name: str, rag: RAG, questions: list[Question], bar: tqdm) -> ConfigResult:
    t0 = time.perf_counter()
    texts = {source: doc.text for source, doc in rag.index.documents.items()}
    predictions, scored = [], []
    for q in questions:
        bar.set_postfix_str(f"{name} {q.id}")
        result, gathered = rag.ask_traced(q.question)
        answer = result.to_dict()
        ranked = ranked_files(hit.chunk.source for hit in gathered.hits)
        predictions.append({"id": q.id, "config": name, **answer, "retrieved": ranked})
        scored.append(score(q, answer, ranked, texts))
        bar.update()
    return ConfigResult(name, predictions, scored, summarise(scored), round(time.perf_counter() - t0, 1))


def run_eval(
    dataset: Path, settings: Settings, configs: Sequence[str] = DEFAULT_CONFIGS,
    embedder: Embedder | None = None, progress: bool = True,
) -> EvalRun:
    """Validate the dataset against the corpus, then answer every question in every configuration,
    sharing one embedder and one index."""
    t0 = time.perf_counter()
    configs = check_configs(configs)
    questions = load_dataset(dataset, corpus_texts(settings.corpus_dir))  # fail fast, before the model loads
    if "llm" in configs:  # issue 16: no endpoint set fails now, not after the other configurations ran
        Generator(settings.model_copy(update=CONFIGS["llm"]))
    embedder = embedder or Embedder(settings)
    embedder.embed_queries(["прогрев"])  # the first encoder call is slow; keep it out of the latencies
    results = []
    with tqdm(total=len(questions) * len(configs), desc="eval", unit="q", disable=not progress) as bar:
        for i, name in enumerate(configs):
            rag = RAG(settings.model_copy(update=CONFIGS[name]), embedder)
            results.append(run_config(name, rag, questions, bar))
    return EvalRun(dataset, settings.corpus_dir, questions, results, round(time.perf_counter() - t0, 1))
