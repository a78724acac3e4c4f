"""`rag bench` output: ratios ours / baseline, the targets met or not, bench.json, bench.md and the plots."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display (CI, servers)
import matplotlib.pyplot as plt

from tools.bench import pg_report

# The targets of the benchmark issue; they count at COUNTING_SIZE chunks and are shown for every size.
ANSWER_P50_MS = 100
RETRIEVAL_P95_MS = 50
BUILD_SHARE_OF_ENCODER = 0.85
PEAK_RSS_MB = 1536
COLD_START_S = 5
ADD_ARTICLE_S = 2
COUNTING_SIZE = 100_000
PLOTS = {"latency": "latency.png", "memory": "memory.png"}


def _ratio(a, b) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _peak(result: dict) -> float:
    """Our highest memory: the build and the serving process are separate processes."""
    return max(result["ours"]["build"]["peak_rss_mb"], result["ours"]["serve"]["peak_rss_mb"])


def ratios(result: dict) -> dict:
    """Ours divided by the baseline's (below 1 means ours is faster or smaller)."""
    build, serve, base = result["ours"]["build"], result["ours"]["serve"], result["baseline"]
    return {
        "build_time": _ratio(build["build_s"], base["build_s"]),
        "answer_p50_vs_baseline_search_p50": _ratio(serve["answer"]["p50_ms"], base["retrieval"]["p50_ms"]),
        "answer_p95_vs_baseline_search_p95": _ratio(serve["answer"]["p95_ms"], base["retrieval"]["p95_ms"]),
        "retrieval_p50": _ratio(serve["retrieval"]["p50_ms"], base["retrieval"]["p50_ms"]),
        "retrieval_p95": _ratio(serve["retrieval"]["p95_ms"], base["retrieval"]["p95_ms"]),
        "peak_rss": _ratio(_peak(result), base["peak_rss_mb"]),
        "index_size": _ratio(build["index_mb"], base["index_mb"]),
    }


def targets(result: dict) -> list[dict]:
    """Each target with the measured value and whether it is met."""
    build, serve, base = result["ours"]["build"], result["ours"]["serve"], result["baseline"]
    add, cold = serve["add_article"], result["ours"]["cold_start"]
    answer, search = serve["answer"]["p50_ms"], base["retrieval"]["p50_ms"]
    share = build["tokens_per_s"] / build["encoder"]["tokens_per_s"]
    r1, base_r1 = serve["recall"]["recall_at_1"], base["recall"]["recall_at_1"]
    rows = [
        ("whole answer p50 ≤ 100 ms", f"{answer:.1f} ms", answer <= ANSWER_P50_MS),
        ("whole answer p50 ≤ baseline retrieval p50", f"{answer:.1f} vs {search:.1f} ms", answer <= search),
        ("retrieval p95 ≤ 50 ms", f"{serve['retrieval']['p95_ms']:.1f} ms", serve["retrieval"]["p95_ms"] <= RETRIEVAL_P95_MS),
        ("build throughput ≥ baseline's (same corpus)", f"{build['build_s']:.1f} vs {base['build_s']:.1f} s", build["build_s"] <= base["build_s"]),
        ("build throughput ≥ 85% of raw encoder", f"{share:.0%}", share >= BUILD_SHARE_OF_ENCODER),
        ("peak RSS ≤ 1.5 GB", f"{_peak(result):.0f} MB", _peak(result) <= PEAK_RSS_MB),
        ("cold start ≤ 5 s", f"{cold['seconds']:.1f} s", cold["seconds"] <= COLD_START_S),
        ("one new article ≤ 2 s, no full rebuild", f"{add['seconds']:.1f} s, {add['embedded_chunks']}/{add['chunks']} chunks embedded",
         add["seconds"] <= ADD_ARTICLE_S and not add["full_rebuild"]),
        ("Recall@1 above the baseline's", f"{r1:.3f} vs {base_r1:.3f}", r1 > base_r1),
    ]
    return [{"target": name, "value": value, "met": bool(met)} for name, value, met in rows]


def _n(value, digits: int = 1) -> str:
    """A number with thin-space thousands: 12 345.6."""
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"
    return text.replace(",", "\u2009")


def _resumed(part: dict) -> str:
    return f" (measured {part['resumed']}, --resume)" if part.get("resumed") else ""


def size_section(r: dict, cores: int) -> str:
    """The table of one size: ours, the baseline and the ratio, then the encoder, the targets and notes."""
    build, serve, cold, cli, base, q = r["ours"]["build"], r["ours"]["serve"], r["ours"]["cold_start"], r["ours"]["add_article_cli"], r["baseline"], r["ratios"]
    enc, add, ann, c = build["encoder"], serve["add_article"], serve["ann"], r["corpus"]
    phases = (("build", build), ("cold start", cold), ("serving", serve), ("rag index", cli), ("baseline", base))
    rows = [
        ("Documents (files)", _n(build["documents"]), _n(base["documents"]), ""),
        ("Chunks", _n(build["chunks"]), _n(base["chunks"]), ""),
        ("Index build, s (model load apart)", _n(build["build_s"]), _n(base["build_s"]), _n(q["build_time"], 2)),
        ("Build throughput, chunks/s", _n(build["chunks_per_s"]), _n(base["chunks_per_s"]), ""),
        ("Build throughput, corpus characters/s", _n(c["characters"] / build["build_s"], 0), _n(c["characters"] / base["build_s"], 0), ""),
        ("Build throughput, tiktoken tokens/s", _n(build["tokens_per_s"]), "–", ""),
        (f"Raw encoder on {enc['chunks']} of the same chunks, chunks/s", _n(enc["chunks_per_s"]), "–", ""),
        ("Raw encoder, tiktoken tokens/s (e5 tokens/s)", f"{_n(enc['tokens_per_s'])} ({_n(enc['e5_tokens_per_s'])})", "–", ""),
        ("Build / raw encoder throughput", f"{build['tokens_per_s'] / enc['tokens_per_s']:.0%}", "–", ""),
        ("Model load, s", _n(build["model_load_s"], 2), _n(base["model_load_s"], 2), ""),
        ("Index on disk, MB", _n(build["index_mb"]), _n(base["index_mb"]), _n(q["index_size"], 2)),
        ("Peak RSS, build process, MB", _n(build["peak_rss_mb"], 0), _n(base["peak_rss_build_mb"], 0), ""),
        ("Peak RSS, serving process, MB", _n(serve["peak_rss_mb"], 0), _n(base["peak_rss_mb"], 0), _n(q["peak_rss"], 2)),
        ("Cold start: new `rag ask` process → answer, s", f"{_n(cold['seconds'], 2)} (runs {', '.join(map(str, cold['runs']))})", "–", ""),
        ("Retrieval p50 / p95, ms (ours Retriever.search, baseline similarity_search)",
         f"{_n(serve['retrieval']['p50_ms'])} / {_n(serve['retrieval']['p95_ms'])}",
         f"{_n(base['retrieval']['p50_ms'])} / {_n(base['retrieval']['p95_ms'])}", f"{_n(q['retrieval_p50'], 2)} / {_n(q['retrieval_p95'], 2)}"),
        ("Whole answer p50 / p95, ms (RAG.ask; ratio to the baseline's search)",
         f"{_n(serve['answer']['p50_ms'])} / {_n(serve['answer']['p95_ms'])}", "–",
         f"{_n(q['answer_p50_vs_baseline_search_p50'], 2)} / {_n(q['answer_p95_vs_baseline_search_p95'], 2)}"),
        (f"Recall@1 / @5 of a gold source ({serve['recall']['questions']} questions)",
         f"{serve['recall']['recall_at_1']:.3f} / {serve['recall']['recall_at_5']:.3f}",
         f"{base['recall']['recall_at_1']:.3f} / {base['recall']['recall_at_5']:.3f}", ""),
        ("Dense index; ANN recall@10 vs exact", f"{ann['kind']}; " + ("exact" if ann["exact"] else f"{ann['recall_at_10']:.3f}"), "IndexFlatL2; exact", ""),
        ("One new article, warm `build`, s", (f"{_n(add['seconds'], 2)} ({add['embedded_chunks']} of {add['chunks']} chunks embedded, "
         f"{add['reused_documents']} of {add['documents']} files reused, {'full rebuild' if add['full_rebuild'] else 'incremental'}; "
         f"the process first loaded its passage encoder and tiktoken in {add['passage_model_load_s']:.2f} s, not counted)"), "–", ""),
        ("One new article, `rag index` new process, s", f"{_n(cli['seconds'], 2)} (`{cli.get('output', '')}`)", "–", ""),
    ]
    table = ["| | ours | LangChain baseline | ours / baseline |", "|---|---:|---:|---:|"]
    table += [f"| {a} | {b} | {c_} | {d} |" for a, b, c_, d in rows]
    counts = " (these count)" if r["size"] >= COUNTING_SIZE else ""
    goals = ["| target | measured | met |", "|---|---:|:---:|"] + [f"| {t['target']} | {t['value']} | {'met' if t['met'] else 'NOT met'} |" for t in r["targets"]]
    m = enc["matmul"]
    notes = [f"- {name}{_resumed(part)}" for name, part in phases if part.get("resumed")]
    load = ", ".join(f"{name} {part['load_avg']}" for name, part in phases if "load_avg" in part)
    return "\n\n".join([
        f"## {_n(r['size'])} chunks",
        (f"Corpus: {c['seed_files']} seed articles + {c['articles']} generated ones, {c['bytes'] / 2**20:.1f} MB "
        f"({_n(c['characters'])} characters; {_n(c['estimated_chunks'])} chunks estimated, {_n(build['chunks'])} built). "
        f"Baseline chunks average {base['chunk_characters']:.0f} characters. Measuring this size took "
        f"{sum(part.get('phase_s', 0) for _, part in phases):.0f} s."),
        "\n".join(table),
        (f"Encoder against the CPU's ceiling: float32 matmul {m['gflops']} GFLOP/s with {m['threads']} torch threads → "
        f"ceiling {_n(enc['ceiling_e5_tokens_per_s'], 0)} e5 tokens/s at {_n(enc['e5_tokens_per_chunk'])} tokens a chunk; "
        f"the encoder achieved {_n(enc['e5_tokens_per_s'], 0)} e5 tokens/s = **{enc['share_of_ceiling']:.0%} of the ceiling**."),
        (f"Machine load at the end of each phase (1-minute load average on {cores} cores; the phase itself adds up to its "
        f"torch threads, more means other processes competed and every number is pessimistic): {load}."),
        f"### Targets{counts}", "\n".join(goals),
        *(["Phases reused from an earlier run:\n" + "\n".join(notes)] if notes else []),
        *([pg_report.section(r)] if "postgres" in r else []),
        *([f"**The baseline was not built at this size** (`RAG_BENCH_BASELINE_MAX_CHUNKS`): its numbers are those measured at "
           f"{_n(base['estimated_from_size'])} chunks, its build time scaled ×{base['scale']} by corpus characters (embedding "
           f"dominates it and grows linearly). Its search time and memory at this size would only be higher, so every "
           f"comparison with it here is in its favour."] if "estimated_from_size" in base else []),
    ])


def summary(results: list[dict]) -> str:
    head = [("| chunks | build s (ours / base) | retrieval p50 / p95 ms | baseline search p50 / p95 ms | answer p50 / p95 ms | "
            "peak RSS MB (ours / base) | cold start s | new article s | R@1 ours / base | targets met |"), "|---:" * 10 + "|"]
    for r in results:
        o, b = r["ours"], r["baseline"]
        s = o["serve"]
        est = f"≈ (from {_n(b['estimated_from_size'])}) " if "estimated_from_size" in b else ""
        head.append(
            f"| {_n(o['build']['chunks'])} | {o['build']['build_s']:.1f} / {est}{b['build_s']:.1f} | {s['retrieval']['p50_ms']:.1f} / {s['retrieval']['p95_ms']:.1f} | "
            f"{b['retrieval']['p50_ms']:.1f} / {b['retrieval']['p95_ms']:.1f} | {s['answer']['p50_ms']:.1f} / {s['answer']['p95_ms']:.1f} | "
            f"{_peak(r):.0f} / {b['peak_rss_mb']:.0f} | {o['cold_start']['seconds']:.2f} | {s['add_article']['seconds']:.2f} | "
            f"{s['recall']['recall_at_1']:.3f} / {b['recall']['recall_at_1']:.3f} | {sum(t['met'] for t in r['targets'])} of {len(r['targets'])} |"
        )
    return "\n".join(head)


def plots(results: list[dict], out: Path) -> None:
    """Latency and peak memory against corpus size (log x), targets dashed."""
    x = [r["ours"]["build"]["chunks"] for r in results]
    series = {
        "latency": [
            ("ours: whole answer p50", [r["ours"]["serve"]["answer"]["p50_ms"] for r in results], "C0", "-"),
            ("ours: whole answer p95", [r["ours"]["serve"]["answer"]["p95_ms"] for r in results], "C0", ":"),
            ("ours: retrieval p50", [r["ours"]["serve"]["retrieval"]["p50_ms"] for r in results], "C2", "-"),
            ("ours: retrieval p95", [r["ours"]["serve"]["retrieval"]["p95_ms"] for r in results], "C2", ":"),
            ("baseline: similarity_search p50", [r["baseline"]["retrieval"]["p50_ms"] for r in results], "C3", "-"),
            ("baseline: similarity_search p95", [r["baseline"]["retrieval"]["p95_ms"] for r in results], "C3", ":"),
        ],
        "memory": [
            ("ours: build process", [r["ours"]["build"]["peak_rss_mb"] for r in results], "C1", "-"),
            ("ours: serving process", [r["ours"]["serve"]["peak_rss_mb"] for r in results], "C0", "-"),
            ("baseline: build + search process", [r["baseline"]["peak_rss_mb"] for r in results], "C3", "-"),
        ],
    }
    lines = {"latency": [(ANSWER_P50_MS, "answer p50 target"), (RETRIEVAL_P95_MS, "retrieval p95 target")], "memory": [(PEAK_RSS_MB, "peak RSS target")]}
    labels = {"latency": "warm latency, ms (log scale)", "memory": "peak RSS, MB"}
    titles = {"latency": "Warm latency against corpus size", "memory": "Peak memory against corpus size"}
    for name, file in PLOTS.items():
        fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
        for label, ys, color, style in series[name]:
            ax.plot(x, ys, marker="o", color=color, linestyle=style, label=label)
        for y, label in lines[name]:
            ax.axhline(y, color="grey", linestyle="--", linewidth=1)
            ax.annotate(label, (x[0], y), textcoords="offset points", xytext=(2, 3), fontsize=8, color="grey")
        ax.set_xscale("log")
        if name == "latency":  # milliseconds to seconds: only a log scale shows both the targets and the slow ends
            ax.set_yscale("log")
        else:  # room above the highest line and the target for the labels
            ax.set_ylim(0, 1.12 * max([y for _, ys, _, _ in series[name] for y in ys] + [y for y, _ in lines[name]]))
        ax.set_xlabel("corpus size, chunks (log scale)")
        ax.set_ylabel(labels[name])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(titles[name])
        fig.savefig(out / file, dpi=110)
        plt.close(fig)


def markdown(report: dict) -> str:
    m = report["machine"]
    results = report["results"]
    first = results[0]["ours"]["build"]["encoder"]["matmul"]
    return "\n\n".join([
        "# Benchmark: our pipeline against the LangChain baseline",
        (f"Run {report['started_at']}, {report['seconds']:.0f} s{' (--quick)' if report['quick'] else ''}; {m['cpu']}, "
        f"{m['cores']} cores, {first['threads']} torch threads, Python {m['python']}. Corpus: the seed articles plus generated "
        "Russian distractors (README «Benchmark»). Latencies are warm, over every distinct question of the question files; "
        f"targets count at {_n(COUNTING_SIZE)} chunks."),
        summary(results),
        *([f"Embedded store against PostgreSQL + pgvector (`--store`; details per size below):\n\n{pg}"] if (pg := pg_report.summary(results)) else []),
        "![latency against corpus size](latency.png)\n\n![peak memory against corpus size](memory.png)",
        *[size_section(r, m["cores"]) for r in results],
    ]) + "\n"


def write_outputs(report: dict, out: Path) -> dict[str, Path]:
    """bench.json, bench.md and the plots in `out`."""
    paths = {"json": out / "bench.json", "md": out / "bench.md", **{k: out / v for k, v in PLOTS.items()}}
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    plots(report["results"], out)
    paths["md"].write_text(markdown(report), encoding="utf-8")
    return paths
