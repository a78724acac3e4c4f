"""Two app servers on one PostgreSQL store under load, with a publish in the middle (issue 17):

    python -m tools.pg.load postgresql://postgres@127.0.0.1:55432/rag --corpus DIR [--clients 4] [--seconds 90]

Two `rag serve` processes on loopback, each with its own cache folder (two "hosts"), read the published build of
one database. N clients (rag/serve/soak.py's, unique questions over POST /api/ask; client i asks server i mod 2)
drive them together, for `--seconds` and longer if both do not serve the publish by then. At a quarter of the run
one new article is written into the corpus and `rag index` (a new process, as an operator would run it)
publishes it; then both servers' /api/health are polled until each serves the new build. Printed: requests, throughput, p50/p95/p99, errors per server and in all, the `rag index` time and
the time from its return until each server (and both) served the new build. The database must hold a published
build of the corpus (`rag index` with RAG_STORE); it receives one more."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from rag.config import ROOT, Settings
from rag.errors import RagError
from rag.serve.soak import Stats, client_loop, percentile, vocabulary, wait_ready

PUBLISH_AT = 0.25  # share of the run before the publish: load before it, load while both reload, load after
HEALTH_EVERY = 0.05  # seconds between looks at a server's build after the publish
AFTER_PUBLISH = 2.0  # seconds of load at least after both servers serve the new build
NEW_ARTICLE = "zz-load/published-during-load.txt"


class Deadline:
    """When the clients stop. soak.client_loop loops while `time.monotonic() < until`; with this object as `until`
    the end can move: held open while `rag index` runs and the servers reload (on a busy machine that takes longer
    than planned), so the reload is always measured under load."""

    def __init__(self, at: float):
        self.at = at

    def __gt__(self, now: float) -> bool:
        return now < self.at


def host_env(settings: Settings, url: str, corpus: Path, cache: Path, base: dict[str, str]) -> dict[str, str]:
    """One host's environment: the shared store, its own cache folder (the models linked in, not copied)."""
    cache.mkdir(parents=True, exist_ok=True)
    for part in ("models", "tiktoken"):
        if (settings.cache_dir / part).is_dir() and not (cache / part).exists():
            shutil.copytree(settings.cache_dir / part, cache / part, copy_function=os.link)
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**base, "PYTHONPATH": path, "RAG_STORE": url, "RAG_CORPUS_DIR": str(corpus), "RAG_CACHE_DIR": str(cache),
            "RAG_STORE_POLL_SECONDS": str(settings.store_poll_seconds), "RAG_PG_EF_SEARCH": str(settings.pg_ef_search),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # Its stderr (a JSON line per question) goes to a file: an unread pipe would fill and stop the server.
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    server.log = log.open("rb")
    return server, f"http://127.0.0.1:{port}"


def build_of(base: str) -> str | None:
    try:
        return httpx.get(f"{base}/api/health", timeout=5).json()["build"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def publish(env: dict[str, str], corpus: Path, text: str, bases: list[str]) -> dict:
    """Write one new article, `rag index` it in a new process, then time each server until it serves the new build."""
    before = {b: build_of(b) for b in bases}
    article = corpus / NEW_ARTICLE
    article.parent.mkdir(parents=True, exist_ok=True)
    article.write_text(text, encoding="utf-8")
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "rag.cli", "index"], env=env, capture_output=True, text=True, check=False)
    returned = time.monotonic()
    if done.returncode:
        raise RagError(f"`rag index` failed during the load: {done.stderr.strip()[-500:]}")
    seen: dict[str, float] = {}
    while len(seen) < len(bases) and time.monotonic() - returned < 60:
        for b in bases:
            if b not in seen and build_of(b) not in (None, before[b]):
                seen[b] = time.monotonic() - returned
        time.sleep(HEALTH_EVERY)
    return {"rag_index_s": round(returned - t0, 2), "output": done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "",
            "serving_new_build_s": {b: round(s, 2) for b, s in seen.items()},
            "both_serving_s": round(max(seen.values()), 2) if len(seen) == len(bases) else None}


def run(settings: Settings, url: str, corpus: Path, work: Path, clients: int, seconds: float, new_text: str,
        base_env: dict[str, str] | None = None) -> dict:
    """Start both servers (environment `base_env`, default this process's, plus each host's), drive them,
    publish at PUBLISH_AT, stop them; the numbers as a dict."""
    work.mkdir(parents=True, exist_ok=True)
    envs = [host_env(settings, url, corpus, work / f"host-{h}", dict(base_env or os.environ)) for h in "ab"]
    servers = []
    try:
        t0 = time.monotonic()
        for h, env in zip("ab", envs):
            servers.append(start(env, work / f"server-{h}.log"))
        for server, base in servers:
            wait_ready(base, server)
        ready_s = time.monotonic() - t0
        bases = [b for _, b in servers]
        builds_before = [build_of(b) for b in bases]
        words, seen = vocabulary(corpus), set()
        stats = [Stats() for _ in bases]
        t0 = time.monotonic()
        until = Deadline(t0 + seconds)
        threads = [threading.Thread(target=client_loop, args=(bases[i % 2], words, 1000 + i, until, stats[i % 2], seen, 0.0), daemon=True)
                   for i in range(clients)]
        for t in threads:
            t.start()
        time.sleep(max(0.0, t0 + seconds * PUBLISH_AT - time.monotonic()))
        at, planned = time.monotonic() - t0, until.at
        until.at = float("inf")
        published = publish(envs[0], corpus, new_text, bases)
        until.at = max(planned, time.monotonic() + AFTER_PUBLISH)
        published |= {"at_s": round(at, 1), "done_at_s": round(time.monotonic() - t0, 1)}
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        per_server = [summary(s, elapsed) for s in stats]
        everything = Stats()
        for s in stats:
            everything.latencies["api"] += s.latencies["api"]
            everything.errors += s.errors
            everything.refused += s.refused
        return {"clients": clients, "seconds": round(elapsed, 1), "servers_ready_s": round(ready_s, 1), "builds_before": builds_before,
                "builds_after": [build_of(b) for b in bases], "all": summary(everything, elapsed),
                "servers": dict(zip(bases, per_server)), "publish": published}
    finally:
        for server, _ in servers:
            server.terminate()
        for server, _ in servers:
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(corpus / Path(NEW_ARTICLE).parent, ignore_errors=True)


def summary(stats: Stats, seconds: float) -> dict:
    ms = sorted(v * 1000 for v in stats.latencies["api"])
    return {"requests": len(ms), "per_s": round(len(ms) / seconds, 2), "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1), "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(ms[-1], 1) if ms else None, "errors": len(stats.errors), "refused": stats.refused,
            "first_errors": stats.errors[:3]}


def report(r: dict) -> str:
    p, a = r["publish"], r["all"]
    lines = [(f"two app servers on one PostgreSQL store: {r['clients']} clients for {r['seconds']:.0f} s "
              f"(servers ready in {r['servers_ready_s']:.0f} s)"), "",
             "| server | requests | per s | p50 ms | p95 ms | p99 ms | max ms | errors |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in [*r["servers"].items(), ("both", a)]:
        lines.append(f"| {name} | {s['requests']} | {s['per_s']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} | {s['errors']} |")
    waits = ", ".join(f"{b}: {s} s" for b, s in p["serving_new_build_s"].items())
    lines += ["", (f"publish from {p['at_s']} s: `rag index` {p['rag_index_s']} s (`{p['output']}`); serving the new build after "
                   f"it returned: {waits}; both: {p['both_serving_s']} s")]
    lines += [f"  error: {e}" for s in r["servers"].values() for e in s["first_errors"]]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url")
    ap.add_argument("--corpus", type=Path, required=True, help="The corpus folder the store was indexed from.")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/rag-pg-load"), help="The hosts' cache folders and server logs.")
    ap.add_argument("--json", type=Path, help="Also write the numbers here.")
    args = ap.parse_args()
    settings = Settings(store=args.url)
    seed = min(args.corpus.rglob("*.txt")).read_text(encoding="utf-8")
    result = run(settings, args.url, args.corpus, args.work, args.clients, args.seconds, new_article(seed))
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


def new_article(text: str) -> str:
    """An article the store does not hold yet: a corpus article under a new headline (a new file, new chunks)."""
    return f"Опубликовано во время нагрузки {time.strftime('%H:%M:%S')}\n\n{text}"


if __name__ == "__main__":
    main()
