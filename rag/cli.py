"""`rag` command line: a thin shell over rag.pipeline; errors become one line and an exit code."""
from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.config import ROOT, load_settings
from pydantic import ValidationError

from rag.errors import CorpusError, RagError, missing_extra, settings_error

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Questions in Russian over a folder of news articles.")

CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", help="Folder of articles (default: seeds/, env RAG_CORPUS_DIR).")]
IndexOpt = Annotated[Optional[Path], typer.Option("--index", help="Index folder (default: index/default, env RAG_INDEX_DIR; RAG_STORE=postgresql://… uses a database instead).")]


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
def index(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    new_corpus: Annotated[bool, typer.Option("--new-corpus", help="Rebuild an index made from another corpus folder from this one.")] = False,
) -> None:
    """Build or update the index of the corpus folder."""
    from rag.encode.embedder import Embedder
    from rag.index import stores
    from rag.ingest.corpus import find_files

    settings = load_settings(corpus_dir=corpus, index_dir=index)
    find_files(settings.corpus_dir)  # fail fast, before loading the model
    report = stores.build(settings, Embedder(settings), new_corpus=new_corpus)
    for problem in report.problems:
        typer.echo(f"rag: skipped {problem}", err=True)
    if not report.published:
        typer.echo(f"index up to date: {report.documents} documents, {report.chunks} chunks, nothing changed → {settings.index_dir}")
        return
    typer.echo(
        f"indexed {report.documents} documents, {report.chunks} chunks "
        f"({report.embedded_chunks} embedded, {report.reused_documents} documents reused"
        f"{', appended to the previous build' if report.incremental else ''}) "
        f"in {report.seconds:.1f} s → {stores.where(settings)}"
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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say on stderr what was retrieved, and how fast.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show the question analysis, the candidate sentences and the rule that rejected or chose each.")] = False,
    answer_mode: Annotated[Optional[str], typer.Option("--answer-mode", help="extractive or llm (env RAG_ANSWER_MODE).")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", help="OpenAI-compatible endpoint for --answer-mode llm (env RAG_LLM_URL).")] = None,
    llm_model: Annotated[Optional[str], typer.Option("--llm-model", help="Model at the endpoint (env RAG_LLM_MODEL).")] = None,
    llm_key: Annotated[Optional[str], typer.Option("--llm-key", help="API key of the endpoint (env RAG_LLM_KEY).")] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Answer a question with citations, or say the articles don't tell."""
    from rag.answer.explain import explain as explained
    from rag.answer.explain import render
    from rag.pipeline import RAG, Answered, Decided, Found, Retrieved, Verified, Written

    # k and mode are settings: validated (k ≥ 1, a known mode) before anything loads.
    rag = RAG(load_settings(corpus_dir=corpus, index_dir=index, top_k=k, retrieval_mode=mode, answer_mode=answer_mode,
                            llm_url=llm_url, llm_model=llm_model, llm_key=llm_key))
    for step in rag.steps(question):
        if isinstance(step, Retrieved):
            query = step.query  # typos corrected: what the rules read
            if verbose:
                typer.echo(f"rag: {len(step.hits)} chunks in {step.ms:.0f} ms", err=True)
        elif isinstance(step, Found) and explain:
            searched = f"searched as: {query}\n" if query != " ".join(question.split()) else ""
            typer.echo(searched + render(explained(query, step.evidence, step.coverage, rag.settings)) + "\nanswer:", err=as_json)
        elif isinstance(step, Written) and not as_json:  # issue 16: the model's text as it comes, not checked yet
            typer.echo(step.text, err=True, nl=False)
        elif isinstance(step, Verified if rag.generator else Decided) and not as_json:
            if isinstance(step, Verified):
                typer.echo("", err=True)  # the end of the written text's line
            typer.echo(step.answer.answer)  # the answer as soon as it is chosen (and, in llm mode, checked)
            if notice := getattr(step.answer, "notice", None):
                typer.echo(f"  ({notice})")
            for i, c in enumerate(step.answer.citations, 1):
                typer.echo(f"  [{i}] {c.source} [{c.start}:{c.end}] ({c.score:.3f}): «{c.quote}»")
        elif isinstance(step, Answered) and as_json:
            typer.echo(json.dumps(step.answer.to_dict(), ensure_ascii=False, indent=1))


CALIBRATION_SETS = [ROOT / "eval" / "calibration.jsonl", ROOT / "eval" / "calibration-nearmiss.jsonl"]


@app.command()
@clean_errors
def calibrate(
    dataset: Annotated[Optional[list[Path]], typer.Option("--dataset", help="Labelled questions (JSONL, eval format), repeatable (default: eval/calibration.jsonl and eval/calibration-nearmiss.jsonl).")] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Measure the abstain thresholds on labelled questions and the margin they leave; put them in rag/config.py."""
    from rag.evals.calibrate import calibrate as run
    from rag.evals.dataset import corpus_texts, load_dataset
    from rag.pipeline import RAG

    settings = load_settings(corpus_dir=corpus, index_dir=index)
    texts = corpus_texts(settings.corpus_dir)
    questions = [q for path in dataset or CALIBRATION_SETS for q in load_dataset(path, texts)]  # validated, before the model loads
    for cut in run(RAG(settings), questions):
        name = "abstain_threshold" + ("" if cut.group == "russian" else "_crosslingual")
        typer.echo(
            f"{name} = {cut.threshold:.3f}   ({cut.group}: {cut.correct}/{cut.total} right; lowest answerable "
            f"{cut.lowest_answerable:.3f}, highest unanswerable {cut.highest_unanswerable:.3f}, margin {cut.margin:+.3f}; "
            f"the current {cut.current:.3f} gets {cut.current_correct}/{cut.total} right"
            f"{'; on the wrong side: ' + ' '.join(cut.wrong) if cut.wrong else ''})"
        )


@app.command(name="eval")
@clean_errors
def evaluate(
    out: Annotated[Path, typer.Option("--out", help="Folder for predictions.jsonl, report.json, report.md and chart.png.")],
    dataset: Annotated[Optional[list[str]], typer.Option("--dataset", help="Set to run, repeatable: a name in the sets file, a JSONL path, or path:corpus_dir[:index_dir] (default: every set of the sets file).")] = None,
    sets: Annotated[Optional[Path], typer.Option("--sets", help="The sets file: each set with its corpus and index (TOML; default eval/sets.toml).")] = None,
    config: Annotated[Optional[list[str]], typer.Option("--config", help="Configuration to run, repeatable: bm25, dense, hybrid, llm (needs RAG_LLM_URL; default: bm25, dense, hybrid).")] = None,
    gate: Annotated[Optional[Path], typer.Option("--gate", help="Thresholds file (TOML): exit 5 when a metric is outside them.")] = None,
    ablation: Annotated[bool, typer.Option("--ablation/--no-ablation", help="Switch each answer rule off in turn (hybrid; retrieval is not repeated).")] = True,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Score the pipeline on labelled question sets, each separately with intervals; with --gate, check thresholds."""
    from rag.evals.gate import check_configs as check_gated
    from rag.evals.gate import gate as check_gate
    from rag.evals.gate import read_thresholds
    from rag.evals.report import summary, write_outputs
    from rag.evals.run import DEFAULT_CONFIGS, check_configs, run_eval
    from rag.evals.sets import SETS_FILE, pick, read_sets

    configs = check_configs(config or DEFAULT_CONFIGS)
    chosen = pick(dataset or [], read_sets(sets or SETS_FILE))
    if gate:  # a broken thresholds file fails now, not after the run
        check_gated(read_thresholds(gate), gate, [s.name for s in chosen], configs)
    runs = run_eval(chosen, load_settings(corpus_dir=corpus, index_dir=index), configs, ablation=ablation)
    paths = write_outputs(runs, out)
    typer.echo(summary(runs))
    for run in runs:
        if run.skipped:
            typer.echo(f"rag: set {run.name} skipped, not gated: {run.skipped}", err=True)
    ran = [r for r in runs if not r.skipped]
    typer.echo(f"{sum(len(r.questions) for r in ran)} questions in {len(ran)} set(s) × {len(configs)} configurations "
               f"in {sum(r.seconds for r in ran):.0f} s → {paths['report.md']}")
    if gate:
        check_gate({r.name: {c.name: c.metrics for c in r.results} for r in ran}, gate)
        typer.echo(f"eval gate passed ({gate}: {', '.join(r.name for r in ran)})")


@app.command()
@clean_errors
def inspect(path: Annotated[Path, typer.Argument(help="A document: .txt, .md, .html, .pdf or .docx.")]) -> None:
    """Show how one file is read and cleaned: metadata, the paragraphs and headings kept, and everything dropped
    with the reason."""
    from rag.ingest.corpus import read_document

    if not path.is_file():
        raise CorpusError(f"{path}: no such file: give the path of a document")
    doc, extracted, cleaned = read_document(path, path.parent, int(load_settings().max_file_mb * 2**20))
    date = f"{doc.date} (year inferred)" if doc.date_inferred else doc.date
    for key, value in [("title", doc.title), ("date", date), ("outlet", doc.outlet), ("author", doc.author),
                       ("language", doc.language), ("format", doc.format), ("read by", doc.origin), ("dateline", doc.dateline)]:
        typer.echo(f"{key}: {value if value is not None else '-'}")
    typer.echo(f"\n-- {len(doc.paragraphs)} paragraphs, {len(doc.headings)} headings (#) --")
    for a, b in doc.paragraphs:
        typer.echo(f"{'# ' if (a, b) in doc.headings else ''}{doc.text[a:b]}\n")
    typer.echo("-- dropped --")
    for line, reason in extracted.dropped + cleaned.dropped:
        typer.echo(f"[{reason}] {line}")


@app.command()
@clean_errors
def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on (env RAG_HOST; 0.0.0.0 for the intranet).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Port (env RAG_PORT).")] = None,
    root_path: Annotated[Optional[str], typer.Option("--root-path", help="URL prefix behind a reverse proxy, e.g. /rag (env RAG_ROOT_PATH).")] = None,
    watch: Annotated[Optional[bool], typer.Option("--watch/--no-watch", help="Re-index files of the corpus folder as they change (env RAG_WATCH).")] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Serve the web chat, the JSON API, the widget and the source viewer; every newly published build is
    swapped in without a restart, and with --watch the corpus folder's changes are indexed as they happen."""
    from rag.serve.api import serve as run

    run(load_settings(host=host, port=port, root_path=root_path, watch=watch, corpus_dir=corpus, index_dir=index))


feedback_app = typer.Typer(no_args_is_help=True, help="👍/👎 the chat collected (SQLite beside the index folder).")
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
@clean_errors
def feedback_export(
    out: Annotated[Optional[Path], typer.Option("--out", help="JSONL file to write (default: standard output).")] = None,
    index: IndexOpt = None,
) -> None:
    """The feedback as eval JSONL: liked answers as references, disliked ones to be labelled (docs/eval.md)."""
    from rag.serve import feedback

    settings = load_settings(index_dir=index)
    lines = [line + "\n" for line in feedback.export(feedback.Store(feedback.path(settings)))]
    if out is None:
        typer.echo("".join(lines), nl=False)
    else:
        out.write_text("".join(lines), encoding="utf-8")
        typer.echo(f"{len(lines)} answers with feedback → {out}", err=True)


@app.command()
@clean_errors
def soak(
    minutes: Annotated[float, typer.Option("--minutes", help="How long to run.")] = 2.0,
    clients: Annotated[int, typer.Option("--clients", help="Clients asking at once (a fifth of their turns are chat sessions).")] = 4,
    url: Annotated[Optional[str], typer.Option("--url", help="A running server (default: start one on 127.0.0.1).")] = None,
    pid: Annotated[Optional[int], typer.Option("--pid", help="With --url: the server's process id, for its memory.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for soak.json and soak-rss.png.")] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Load the server for a while: unique questions and chat sessions; errors, latency percentiles, memory."""
    from rag.serve.soak import report
    from rag.serve.soak import soak as run

    if minutes <= 0 or clients < 1:
        raise RagError(f"--minutes {minutes} --clients {clients}: both must be positive")
    summary = run(load_settings(corpus_dir=corpus, index_dir=index), minutes, clients, url, pid, out)
    typer.echo(report(summary))
    if summary["errors"]:
        raise typer.Exit(1)


def main() -> None:
    app(prog_name="rag")


if __name__ == "__main__":
    sys.exit(main())
