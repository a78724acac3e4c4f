"""The benchmark's own settings (RAG_BENCH_*), on top of the pipeline's: the product package knows nothing of them."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from rag.config import ROOT, Settings


class BenchSettings(Settings):
    """The pipeline's settings plus the benchmark's (docs/bench.md)."""

    bench_sizes: Annotated[list[int], NoDecode] = Field(
        [1000, 10000, 100000], description="Corpus sizes in chunks that `rag bench` measures (comma-separated)."
    )
    bench_quick_sizes: Annotated[list[int], NoDecode] = Field([1000], description="Sizes `rag bench --quick` measures.")
    bench_seed: int = Field(2024, description="RNG seed of the synthetic corpus: the same seed makes the same corpus.")
    bench_keep_words: float = Field(0.35, description="Share of a seed sentence's content words a distractor keeps (names and numbers always change).")
    bench_questions: Annotated[list[Path], NoDecode] = Field(
        [ROOT / "eval" / "dev.jsonl", ROOT / "eval" / "calibration.jsonl", ROOT / "tests" / "data" / "questions.jsonl"],
        description="Question files (eval JSONL) whose questions are timed (comma-separated).",
    )
    bench_recall_dataset: Path = Field(ROOT / "eval" / "dev.jsonl", description="Labelled questions that score Recall@1/@5 of a gold source.")
    bench_encoder_sample: int = Field(1000, description="Chunks of the index (at most half of them) encoded directly to measure the raw encoder throughput.")
    bench_cold_runs: int = Field(3, description="New `rag ask` processes timed for the cold start (the median is reported).")
    bench_matmul_size: int = Field(2048, description="Side of the square float32 matrices multiplied to measure GFLOP/s.")
    bench_flop_per_token: float = Field(44e6, description="Encoder FLOPs per token (e5-small: about 44 MFLOP), for the compute ceiling.")
    bench_baseline_chunk_size: int = Field(1000, description="LangChain baseline: RecursiveCharacterTextSplitter chunk_size, characters.")
    bench_baseline_chunk_overlap: int = Field(200, description="LangChain baseline: RecursiveCharacterTextSplitter chunk_overlap.")
    bench_baseline_max_chunks: int = Field(
        20_000, description="Larger sizes reuse the baseline of the largest size measured up to this one (its build time "
        "scaled by corpus characters): building it at 100 000 chunks takes about an hour. Its search time and memory "
        "only grow with size, so the comparison favours the baseline."
    )
    # Issue 17: the same phases on a PostgreSQL + pgvector store, and two app servers sharing it under load.
    bench_store: str = Field("", description="postgresql://… URL: also measure the PostgreSQL store there (its rag_* tables are dropped first); empty: embedded only.")
    bench_pg_clients: int = Field(4, gt=0, le=64, description="Concurrent clients driving the two app servers in the load phase.")
    bench_pg_load_seconds: float = Field(90.0, gt=0, description="Length of the load phase; a new article is published by `rag index` at a quarter of it.")

    @field_validator("bench_store")
    @classmethod
    def _check_store(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("give --store a postgresql://user@host:port/database URL (`make pg` prints one)")
        return value

    @field_validator("bench_sizes", "bench_quick_sizes", "bench_questions", mode="before")
    @classmethod
    def _split_list(cls, value):
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


def load_settings(**overrides) -> BenchSettings:
    """Bench settings from the environment, with explicit (CLI) overrides that are not None."""
    return BenchSettings(**{k: v for k, v in overrides.items() if v is not None})
