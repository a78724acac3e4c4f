"""`rag soak`: a long run of many clients against a server on loopback — unique questions over the JSON API and
multi-turn chat sessions through Gradio's queue — reporting errors, latency percentiles and the server's memory.

Questions are made from the articles' own words by templates, so each is new to the server (no query-cache hit)
while using real words (as people do; random letters would measure only the word caches filling up)."""
from __future__ import annotations

import json
import random
import re
import statistics
import subprocess
import tempfile
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from rag.config import Settings
from rag.errors import RagError

TEMPLATES = ["Где {a} {b}?", "Когда {a} {b}?", "Сколько {a} {b}?", "Кто {a} {b} {c}?", "Что известно о {a} и {b}?",
             "Почему {a} {b}?", "{A} {b} {c}: что произошло?", "Какой {a} {b}?"]
FOLLOW_UPS = ["А когда?", "А где?", "Кто об этом заявил?", "А сколько?", "Почему?"]
WORD = re.compile(r"[а-яё]{4,}")
RSS_EVERY = 5.0  # seconds between memory samples


@dataclass
class Stats:
    """What the clients saw, shared between their threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"api": [], "chat": []})
    errors: list[str] = field(default_factory=list)
    refused: int = 0  # 4xx: a generated question the pipeline refused (not an error)
    rss: list[tuple[float, int, int]] = field(default_factory=list)  # (seconds since start, RSS bytes, of it anonymous)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, status: int | None, detail: str = "") -> None:
        with self.lock:
            if status is not None and status < 400:
                self.latencies[kind].append(seconds)
            elif status is not None and status < 500:
                self.refused += 1
            else:
                self.errors.append(f"{kind}: {status or ''} {detail}"[:300])


def vocabulary(corpus: Path) -> list[str]:
    words: set[str] = set()
    for path in sorted(corpus.rglob("*.txt"))[:2000]:
        try:
            words.update(WORD.findall(path.read_text(encoding="utf-8", errors="ignore").lower()))
        except OSError:
            continue
    if len(words) < 50:
        raise RagError(f"too few words in {corpus} to make questions from: pass --corpus with the articles")
    return sorted(words)


def questions(words: list[str], rng: random.Random, seen: set[str]):
    """Endless unique questions from templates and the articles' words."""
    while True:
        a, b, c = rng.sample(words, 3)
        q = rng.choice(TEMPLATES).format(a=a, b=b, c=c, A=a.capitalize())
        if q not in seen:
            seen.add(q)
            yield q


class Chat:
    """One chat session through Gradio's own queue protocol (what the browser does): join, then read the stream."""

    def __init__(self, client: httpx.Client, base: str):
        self.client, self.base, self.session = client, base, uuid.uuid4().hex[:11]
        config = client.get(f"{base}/config").json()
        dep = next(d for d in config["dependencies"] if any(t[1] == "submit" for t in d["targets"]))
        self.fn_index, self.trigger = dep["id"], next(t[0] for t in dep["targets"] if t[1] == "submit")
        self.turns: list[dict] = []

    def ask(self, question: str) -> tuple[int, str]:
        join = self.client.post(f"{self.base}/gradio_api/queue/join", json={
            "data": [question, [], self.turns], "fn_index": self.fn_index, "trigger_id": self.trigger,
            "session_hash": self.session, "event_data": None,
        })
        if join.status_code != 200:
            return join.status_code, join.text[:200]
        with self.client.stream("GET", f"{self.base}/gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    if not msg.get("success", False):
                        return 500, str(msg.get("output"))[:200]
                    self.turns += [{"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
                    return 200, ""
        return 500, "the stream ended before the answer"


def client_loop(base: str, words: list[str], seed: int, until: float, stats: Stats, seen: set[str], chat_share: float) -> None:
    rng = random.Random(seed)
    gen = questions(words, rng, seen)
    with httpx.Client(timeout=60) as client:
        while time.monotonic() < until:
            try:
                if rng.random() < chat_share:  # a chat session: a question and its follow-ups
                    chat = Chat(client, base)
                    for q in [next(gen), *rng.sample(FOLLOW_UPS, 2)]:
                        t0 = time.monotonic()
                        status, detail = chat.ask(q)
                        stats.record("chat", time.monotonic() - t0, status, detail)
                else:
                    t0 = time.monotonic()
                    r = client.post(f"{base}/api/ask", json={"question": next(gen)})
                    stats.record("api", time.monotonic() - t0, r.status_code, r.text[:200] if r.status_code >= 500 else "")
            except (httpx.HTTPError, ValueError, StopIteration, KeyError) as e:
                stats.record("api", 0.0, None, f"{type(e).__name__}: {e}")


def rss_of(pid: int) -> tuple[int, int] | None:
    """(RSS, its anonymous part) in bytes. The rest is files mapped in (libraries, the model): pages the OS
    shares and can reclaim, so a leak shows in the anonymous part."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["RssAnon"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def start_server(settings: Settings, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "rag.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    # The server logs a JSON line per question to stderr: into a pipe nobody reads it would fill the pipe and
    # stop the server mid-soak, so it goes to a file (its tail explains a failed start).
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    server.log = log
    return server


def wait_ready(base: str, server: subprocess.Popen | None, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            server.log.seek(0)
            raise RagError(f"the server stopped while starting: {server.log.read().decode(errors='replace')[-500:]}")
        try:
            if httpx.get(f"{base}/api/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RagError(f"no server answered at {base} within {timeout:.0f} s: check --url or the server's log")


def soak(settings: Settings, minutes: float, clients: int, url: str | None = None, pid: int | None = None,
         out: Path | None = None, chat_share: float = 0.2, seed: int = 18) -> dict:
    """Run the soak; returns the summary that `report` prints."""
    server = None
    if url is None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server, url = start_server(settings, port), f"http://127.0.0.1:{port}"
        pid = server.pid
    base = url.rstrip("/")
    try:
        wait_ready(base, server)
        words, stats, seen = vocabulary(settings.corpus_dir), Stats(), set()
        t0 = time.monotonic()
        until = t0 + minutes * 60
        threads = [threading.Thread(target=client_loop, args=(base, words, seed + i, until, stats, seen, chat_share), daemon=True)
                   for i in range(clients)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            if pid and (rss := rss_of(pid)):
                stats.rss.append((time.monotonic() - t0, *rss))
            time.sleep(RSS_EVERY)
        for t in threads:
            t.join()
        summary = summarize(stats, time.monotonic() - t0, clients)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "soak.json").write_text(json.dumps({**summary, "rss_series": stats.rss, "errors": stats.errors[:100]}, indent=1))
            summary["plot"] = plot(stats.rss, out / "soak-rss.png")
        return summary
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def summarize(stats: Stats, seconds: float, clients: int) -> dict:
    warm = [(b, anon) for t, b, anon in stats.rss if t >= seconds * 0.2]  # the first fifth is warm-up: caches and pages fill
    growth = (warm[-1][0] - warm[0][0]) / warm[0][0] * 100 if len(warm) > 1 else None
    anon_growth = (warm[-1][1] - warm[0][1]) / warm[0][1] * 100 if len(warm) > 1 else None
    kinds = {kind: {"requests": len(v), "p50_ms": percentile(v, 50) * 1000, "p90_ms": percentile(v, 90) * 1000,
                    "p99_ms": percentile(v, 99) * 1000, "max_ms": max(v, default=float("nan")) * 1000}
             for kind, v in stats.latencies.items()}
    return {"seconds": round(seconds, 1), "clients": clients, "kinds": kinds, "errors": len(stats.errors),
            "first_errors": stats.errors[:5], "refused": stats.refused,
            "rss_mb": [(round(t), round(b / 1e6, 1), round(anon / 1e6, 1)) for t, b, anon in stats.rss],
            "rss_growth_after_warmup_pct": growth, "anon_growth_after_warmup_pct": anon_growth}


def report(summary: dict) -> str:
    lines = [f"soak: {summary['seconds']:.0f} s, {summary['clients']} clients, {summary['errors']} errors, "
             f"{summary['refused']} refused (4xx)", "", "kind   requests   p50 ms   p90 ms   p99 ms   max ms"]
    for kind, k in summary["kinds"].items():
        lines.append(f"{kind:<6} {k['requests']:>8} {k['p50_ms']:>8.0f} {k['p90_ms']:>8.0f} {k['p99_ms']:>8.0f} {k['max_ms']:>8.0f}")
    lines += [f"  error: {e}" for e in summary["first_errors"]]
    if summary["rss_mb"]:
        series = summary["rss_mb"]
        step = max(1, len(series) // 12)
        lines += ["", "server RSS (s: MB, of it anonymous): " + ", ".join(f"{t}: {mb} ({anon})" for t, mb, anon in series[::step] + [series[-1]])]
        growth, anon = summary["rss_growth_after_warmup_pct"], summary["anon_growth_after_warmup_pct"]
        if growth is not None:
            lines.append(f"RSS growth after warm-up (the first fifth): {growth:+.1f} %, anonymous memory {anon:+.1f} %")
    if summary.get("plot"):
        lines.append(f"plot: {summary['plot']}")
    return "\n".join(lines)


def plot(rss: list[tuple[float, int, int]], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        return None  # the eval extra brings matplotlib; the table is printed anyway
    fig, ax = plt.subplots(figsize=(7, 3.5))
    minutes = [t / 60 for t, *_ in rss]
    ax.plot(minutes, [b / 1e6 for _, b, _ in rss], label="RSS")
    ax.plot(minutes, [anon / 1e6 for *_, anon in rss], label="of it anonymous (heap)")
    ax.legend()
    ax.set_xlabel("minutes")
    ax.set_ylabel("server RSS, MB")
    ax.set_title("rag soak: server memory")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)
