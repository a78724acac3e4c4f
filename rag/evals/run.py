"""`rag eval`: labelled question sets through several pipeline configurations, scored side by side, with
intervals, and the answer rules of the gated configuration switched off one at a time (ablation)."""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rag.answer.generate import Generator
from rag.config import Settings
from rag.encode.embedder import Embedder
from rag.errors import CorpusError, EvalInputError
from rag.evals.ablation import ablate
from rag.evals.dataset import Question, corpus_texts, load_dataset
from rag.evals.intervals import intervals
from rag.evals.metrics import ranked_files, score, summarise
from rag.evals.results import ConfigResult, SetRun
from rag.evals.sets import EvalSet
from rag.pipeline import RAG

# Settings each configuration overrides. None of them changes the index, so one build serves them all.
# A configuration joins by adding its overrides here. `llm` (issue 16) needs RAG_LLM_URL and runs only when named.
CONFIGS: dict[str, dict] = {
    "bm25": {"retrieval_mode": "bm25", "answer_mode": "extractive"},
    "dense": {"retrieval_mode": "dense", "answer_mode": "extractive"},
    "hybrid": {"retrieval_mode": "hybrid", "answer_mode": "extractive"},
    "llm": {"retrieval_mode": "hybrid", "answer_mode": "llm"},
}
DEFAULT_CONFIGS = ("bm25", "dense", "hybrid")
GATED_CONFIG = "hybrid"  # the default pipeline: the CI gate holds it to the thresholds, the ablation runs on it


@dataclass
class Prepared:
    """A set validated against its corpus, ready to run (or the reason it is skipped)."""

    eval_set: EvalSet
    settings: Settings
    questions: list[Question] = field(default_factory=list)
    skipped: str | None = None


def check_configs(names: Sequence[str]) -> list[str]:
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or not names:
        raise EvalInputError(f"unknown configuration {', '.join(unknown) or '(none)'}: choose from {', '.join(CONFIGS)}")
    return list(dict.fromkeys(names))


def cited_sources(dataset: Path) -> set[str]:
    """Every source file the dataset's lines name, read leniently (only to tell why a set cannot run)."""
    out = set()
    for line in dataset.read_text(encoding="utf-8").splitlines():
        try:
            out.update(s for s in json.loads(line).get("sources", []) if isinstance(s, str))
        except (json.JSONDecodeError, AttributeError):
            continue
    return out


def prepare(eval_set: EvalSet, settings: Settings) -> Prepared:
    """Validate a set against its corpus. A set whose corpus cannot be read at all, or has none of the files
    its questions cite readable (HTML before the ingest stage reads it), is skipped with the reason; any
    other problem of the set is an error."""
    settings = settings.model_copy(update={k: v for k, v in (("corpus_dir", eval_set.corpus), ("index_dir", eval_set.index)) if v})
    try:
        texts = corpus_texts(settings.corpus_dir)
    except CorpusError as e:
        return Prepared(eval_set, settings, skipped=f"corpus not readable: {e}")
    try:
        return Prepared(eval_set, settings, load_dataset(eval_set.dataset, texts))
    except EvalInputError:
        cited = cited_sources(eval_set.dataset) if eval_set.dataset.is_file() else set()
        if cited and not cited & set(texts):
            kinds = ", ".join(sorted({Path(s).suffix or "(none)" for s in cited}))
            return Prepared(eval_set, settings, skipped=(
                f"none of the {len(cited)} files its questions cite ({kinds}) is a readable file of {settings.corpus_dir}"
            ))
        raise


def run_config(name: str, rag: RAG, questions: list[Question], texts: dict[str, str], bar: tqdm) -> ConfigResult:
    t0 = time.perf_counter()
    predictions, scored, gathered = [], [], []
    for q in questions:
        bar.set_postfix_str(f"{name} {q.id}")
        result, g = rag.ask_traced(q.question, history=q.history)  # a follow-up as the chat answers it
        answer = result.to_dict()
        ranked = ranked_files(hit.chunk.source for hit in g.hits)
        predictions.append({"id": q.id, "config": name, **answer, "retrieved": ranked})
        scored.append(score(q, answer, ranked, texts))
        gathered.append(g)
        bar.update()
    return ConfigResult(name, predictions, scored, summarise(scored), intervals(scored), round(time.perf_counter() - t0, 1), gathered)


def run_set(p: Prepared, configs: Sequence[str], embedder: Embedder, bar: tqdm, ablation: bool) -> SetRun:
    t0 = time.perf_counter()
    run = SetRun(p.eval_set, p.settings.corpus_dir, p.questions)
    # The index of a set's own corpus: its documents' cleaned text is what quotes are checked against.
    for name in configs:
        rag = RAG(p.settings.model_copy(update=CONFIGS[name]), embedder)
        if name == configs[0] and (stale := rag.stale_reason()):  # eval reads the index as it is, never builds
            run.stale = stale
            bar.write(f"eval: {p.eval_set.name}: the index is stale ({stale}): its numbers are the old build's; "
                      f"run `rag index --corpus {p.settings.corpus_dir} --index {p.settings.index_dir}` first", file=sys.stderr)
        texts = {source: doc.text for source, doc in rag.index.documents.items()}
        run.results.append(run_config(name, rag, p.questions, texts, bar))
    gated = next((r for r in run.results if r.name == GATED_CONFIG), None)
    if ablation and gated:
        run.ablation = ablate(p.settings.model_copy(update=CONFIGS[GATED_CONFIG]), p.questions, gated, texts, rag.index.documents)
    run.seconds = round(time.perf_counter() - t0, 1)
    return run


def run_eval(
    sets: Sequence[EvalSet], settings: Settings, configs: Sequence[str] = DEFAULT_CONFIGS,
    embedder: Embedder | None = None, progress: bool = True, ablation: bool = True,
) -> list[SetRun]:
    """Validate every set against its corpus first (fail fast, before the model loads), then answer every
    question of every set in every configuration, sharing one embedder."""
    configs = check_configs(configs)
    if "llm" in configs:  # issue 16: no endpoint set fails now, not after the other configurations ran
        Generator(settings.model_copy(update=CONFIGS["llm"]))
    prepared = [prepare(s, settings) for s in sets]
    runnable = [p for p in prepared if not p.skipped]
    if runnable:
        embedder = embedder or Embedder(settings)
        embedder.embed_queries(["прогрев"])  # the first encoder call is slow; keep it out of the latencies
    runs = []
    total = sum(len(p.questions) for p in runnable) * len(configs)
    with tqdm(total=total, desc="eval", unit="q", disable=not progress) as bar:
        for p in prepared:
            if p.skipped:
                runs.append(SetRun(p.eval_set, p.settings.corpus_dir, skipped=p.skipped))
            else:
                runs.append(run_set(p, configs, embedder, bar, ablation))
    return runs
