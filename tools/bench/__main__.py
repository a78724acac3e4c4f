"""`python -m tools.bench`: the benchmark's command line (docs/bench.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.cli import clean_errors
from tools.bench.settings import load_settings


@clean_errors
def bench(
    sizes: Annotated[Optional[str], typer.Option("--sizes", help="Corpus sizes in chunks, e.g. 1000,10000,100000 (default: RAG_BENCH_SIZES).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for bench.json, bench.md and the plots.")] = Path("bench/out"),
    quick: Annotated[bool, typer.Option("--quick", help="Only the small size(s) of RAG_BENCH_QUICK_SIZES, in a few minutes.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Reuse the phases an earlier run stored in --out (the report says so).")] = False,
    store: Annotated[Optional[str], typer.Option("--store", help="postgresql://… URL: also measure the PostgreSQL store and two app servers on it (its rag_* tables are dropped first; default: RAG_BENCH_STORE).")] = None,
) -> None:
    """Measure build, memory, cold start, latency and recall against a LangChain baseline at several corpus sizes
    (and, with --store, the same on PostgreSQL + pgvector, side by side)."""
    from tools.bench.run import parse_sizes, run_bench

    settings = load_settings(bench_store=store)
    chosen = parse_sizes(sizes) if sizes else (settings.bench_quick_sizes if quick else settings.bench_sizes)
    report = run_bench(settings, chosen, out, quick=quick, resume=resume)
    for r in report["results"]:
        met = sum(t["met"] for t in r["targets"])
        typer.echo(f"{r['size']} chunks: {met} of {len(r['targets'])} targets met; " + "; ".join(f"{t['target']}: {t['value']}" for t in r["targets"]))
        if pg := r.get("postgres"):
            s, load = pg["serve"], pg["load"]
            typer.echo(f"{r['size']} chunks on PostgreSQL: answer p50 {s['answer']['p50_ms']} ms, {s['same_answers']} of {s['questions']} "
                       f"answers as embedded; two servers {load['all']['per_s']} req/s, {load['all']['errors']} errors, "
                       f"both serve a publish after {load['publish']['both_serving_s']} s")
    typer.echo(f"benchmark of {', '.join(map(str, chosen))} chunks in {report['seconds']:.0f} s → {out / 'bench.md'}")




if __name__ == "__main__":
    typer.run(bench)
