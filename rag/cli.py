"""`rag` command line: a thin shell over rag.pipeline; errors become one line and an exit code."""
from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.config import load_settings
from pydantic import ValidationError

from rag.errors import CorpusError, RagError, missing_extra, settings_error

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Questions in Russian over a folder of news articles.")

CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", help="Folder of articles (default: seeds/, env RAG_CORPUS_DIR).")]
IndexOpt = Annotated[Optional[Path], typer.Option("--index", help="Index folder (default: index/default, env RAG_INDEX_DIR).")]


def clean_errors(fn):
    """Turn a RagError into `rag: message` on stderr and its exit code, without a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ModuleNotFoundError as e:
            if (known := missing_extra(e)) is None:
                raise
            typer.echo(f"rag: {known}", err=True)
            raise typer.Exit(known.exit_code) from None
        except ValidationError as e:
            typer.echo(f"rag: {settings_error(e)}", err=True)
            raise typer.Exit(2) from None
        except RagError as e:
            typer.echo(f"rag: {e}", err=True)
            raise typer.Exit(e.exit_code) from None
        except OSError as e:  # a file named on the command line that cannot be read, a full disk, …
            typer.echo(f"rag: {e.strerror or e}: {e.filename or ''} — check the path and its permissions".rstrip(), err=True)
            raise typer.Exit(2) from None

    return wrapper


@app.command()
@clean_errors
def index(corpus: CorpusOpt = None, index: IndexOpt = None) -> None:
    """Build or update the index of the corpus folder."""
    from rag.encode.embedder import Embedder
    from rag.index import build as index_mod
    from rag.ingest.corpus import find_files

    settings = load_settings(corpus_dir=corpus, index_dir=index)
    find_files(settings.corpus_dir)  # fail fast, before loading the model
    report = index_mod.build(settings, Embedder(settings))
    for problem in report.problems:
        typer.echo(f"rag: skipped {problem}", err=True)
    typer.echo(
        f"indexed {report.documents} documents, {report.chunks} chunks "
        f"({report.embedded_chunks} embedded, {report.reused_documents} documents reused"
        f"{', appended to the previous build' if report.incremental else ''}) "
        f"in {report.seconds:.1f} s → {settings.index_dir}"
    )
    if report.problems:
        typer.echo(f"{len(report.problems)} file(s) skipped: fix them and run `rag index` again", err=True)


@app.command()
@clean_errors
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Russian or English.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    k: Annotated[Optional[int], typer.Option("--k", help="Chunks to retrieve.")] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", help="hybrid, dense or bm25.")] = None,
    answer_mode: Annotated[Optional[str], typer.Option("--answer-mode", help="extractive or llm (env RAG_ANSWER_MODE).")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", help="OpenAI-compatible endpoint for --answer-mode llm (env RAG_LLM_URL).")] = None,
    llm_model: Annotated[Optional[str], typer.Option("--llm-model", help="Model at the endpoint (env RAG_LLM_MODEL).")] = None,
    llm_key: Annotated[Optional[str], typer.Option("--llm-key", help="API key of the endpoint (env RAG_LLM_KEY).")] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Answer a question with citations, or say the articles don't tell."""
    from rag.pipeline import RAG

    # k and mode are settings: validated (k ≥ 1, a known mode) before anything loads.
    settings = load_settings(corpus_dir=corpus, index_dir=index, top_k=k, retrieval_mode=mode, answer_mode=answer_mode,
                             llm_url=llm_url, llm_model=llm_model, llm_key=llm_key)
    answer = RAG(settings).ask(question)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return
    typer.echo(answer.answer)
    if getattr(answer, "notice", None):  # generated answers (issue 16)
        typer.echo(f"  ({answer.notice})")
    for i, c in enumerate(answer.citations, 1):
        typer.echo(f"  [{i}] {c.source} [{c.start}:{c.end}] ({c.score:.3f}): «{c.quote}»")


@app.command()
@clean_errors
def calibrate(
    dataset: Annotated[Path, typer.Option("--dataset", help="Labelled questions (JSONL, eval format).")] = Path("eval/calibration.jsonl"),
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Measure the abstain thresholds on labelled questions; put them in rag/config.py or RAG_* variables."""
    from rag.evals.calibrate import calibrate as run
    from rag.evals.calibrate import read_questions
    from rag.pipeline import RAG

    for cut in run(RAG(load_settings(corpus_dir=corpus, index_dir=index)), read_questions(dataset)):
        name = "abstain_threshold" + ("" if cut.group == "russian" else "_crosslingual")
        typer.echo(
            f"{name} = {cut.threshold:.3f}   ({cut.group}: {cut.correct}/{cut.total} right; lowest answerable "
            f"{cut.lowest_answerable:.3f}, highest unanswerable {cut.highest_unanswerable:.3f})"
        )


@app.command(name="eval")
@clean_errors
def evaluate(
    dataset: Annotated[Path, typer.Option("--dataset", help="Labelled questions, one JSON object a line (README: Evaluation).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for predictions.jsonl, report.json, report.md and chart.png.")],
    config: Annotated[Optional[list[str]], typer.Option("--config", help="Configuration to run, repeatable: bm25, dense, hybrid, llm (needs RAG_LLM_URL) (default: bm25, dense, hybrid).")] = None,
    gate: Annotated[Optional[Path], typer.Option("--gate", help="Thresholds file (TOML): exit 5 when a metric is outside them.")] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Score the pipeline on a labelled dataset, configurations side by side; with --gate, check thresholds."""
    from rag.evals.gate import gate as check_gate
    from rag.evals.gate import read_thresholds
    from rag.evals.report import table, write_outputs
    from rag.evals.run import DEFAULT_CONFIGS, check_configs, run_eval

    configs = check_configs(config or DEFAULT_CONFIGS)
    if gate:
        read_thresholds(gate, configs)  # a broken thresholds file fails now, not after the run
    run = run_eval(dataset, load_settings(corpus_dir=corpus, index_dir=index), configs)
    paths = write_outputs(run, out)
    typer.echo(table(run.results))
    typer.echo(f"{len(run.questions)} questions × {len(configs)} configurations in {run.seconds:.0f} s → {paths['report.md']}")
    if gate:
        check_gate({r.name: r.metrics for r in run.results}, gate)
        typer.echo(f"eval gate passed ({gate})")


@app.command()
@clean_errors
def inspect(path: Annotated[Path, typer.Argument(help="An article file.")]) -> None:
    """Show how one file is cleaned: metadata, kept text, and every dropped line with the reason."""
    from rag.ingest.cleaning import clean
    from rag.ingest.corpus import decode

    if not path.is_file():
        raise CorpusError(f"{path}: no such file: give the path of an article file")
    cleaned = clean(decode(path.read_bytes(), path.name))
    typer.echo(f"title: {cleaned.title}\ndate: {cleaned.date}\ndateline: {cleaned.dateline}\n")
    typer.echo(cleaned.text)
    typer.echo("\n-- dropped --")
    for line, reason in cleaned.dropped:
        typer.echo(f"[{reason}] {line}")


@app.command()
@clean_errors
def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on (env RAG_HOST; 0.0.0.0 for the intranet).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Port (env RAG_PORT).")] = None,
    root_path: Annotated[Optional[str], typer.Option("--root-path", help="URL prefix behind a reverse proxy, e.g. /rag (env RAG_ROOT_PATH).")] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Serve the web chat, the JSON API, the widget and the source viewer (the index is loaded once)."""
    from rag.serve.api import serve as run

    run(load_settings(host=host, port=port, root_path=root_path, corpus_dir=corpus, index_dir=index))


def main() -> None:
    app(prog_name="rag")


if __name__ == "__main__":
    sys.exit(main())
