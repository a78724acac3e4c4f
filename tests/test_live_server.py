"""Issue 15's acceptance run: a real `rag serve --watch` process over a small corpus of its own, 10 clients asking
all the time, articles added, changed and removed through `rag index`, the watch and /api/documents, then 20
swaps with the server's memory measured. Prints swap latency, the longest request during a swap and RSS."""
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT

from rag.config import Settings
from rag.index import build as index_mod

ADMIN = "admin-s3cret"
DEADLINE = 5.0  # seconds from a publish to the change being answered from (the bound)
THINK = 0.02  # seconds a client waits between requests: 10 clients still keep both cores busy
PENGUINS = "Пингвиний фестиваль пройдет в {city}\n\n{CITY}, 2 мар — Пингвиний фестиваль пройдет в {city} 5 марта, сообщили организаторы.\nНа фестиваль приедут сто двадцать участников из девяти городов.\n"
GIRAFFES = "Жирафья выставка откроется в Твери\n\nТВЕРЬ, 3 мар — Жирафья выставка откроется в Твери 12 мая, сообщили в музее.\nНа выставке покажут двести фотографий жирафов.\n"
ELEPHANTS = "Слоновий марафон состоится в Казани\n\nКАЗАНЬ, 4 мар — Слоновий марафон состоится в Казани 9 апреля.\nВ марафоне примут участие {n} бегунов, сообщили устроители.\n"
CLIENT_QUESTIONS = [
    "Где пройдет саммит ШОС?", "Сколько конфликтов было в мире за прошлый год?", "Где пройдет пингвиний фестиваль?",
    "Где откроется жирафья выставка?", "Сколько бегунов примут участие в слоновьем марафоне?",
]


def rss_kb(pid: int) -> int:
    return int(next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS")))


def mapped_builds(pid: int) -> set[str]:
    """The build folders whose files the process has mapped (memory-mapped vectors, BM25 arrays)."""
    return {part for line in Path(f"/proc/{pid}/maps").read_text().splitlines() for part in line.split("/") if part.startswith("build-")}


class Clients:
    """10 threads asking (and reading health and the article list) until stopped; every response is kept."""

    def __init__(self, base: str, n: int = 10):
        self.base, self.stop, self.log, self.failures = base, threading.Event(), [], []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(n)]

    def _run(self, i: int) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            k = i
            while not self.stop.is_set():
                k += 1
                t0 = time.time()
                try:
                    if k % 7 == 0:
                        r = client.get("/api/health")
                    elif k % 11 == 0:
                        r = client.get("/api/documents")
                    else:
                        history = [{"role": "user", "content": "Где пройдет саммит ШОС?"}] if k % 5 == 0 else []
                        r = client.post("/api/ask", json={"question": "А когда?" if history else CLIENT_QUESTIONS[k % 5], "history": history})
                    ok = r.status_code == 200 and isinstance(r.json(), dict)
                    status = r.status_code
                except Exception as e:  # a dropped connection is a failed request too
                    ok, status = False, repr(e)
                self.log.append((t0, time.time(), ok))
                if not ok:
                    self.failures.append(status)
                self.stop.wait(THINK)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)


class Publishes:
    """Every change of `current`, with the time it was seen (polled every 10 ms)."""

    def __init__(self, index_dir: Path):
        self.link, self.seen, self.stop = index_dir / index_mod.CURRENT, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        last = os.readlink(self.link)
        while not self.stop.wait(0.01):
            if (now := os.readlink(self.link)) != last:
                self.seen.append((time.time(), now))
                last = now

    def first_after(self, t0: float, timeout: float = 30.0) -> float:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if later := [t for t, _ in self.seen if t >= t0]:
                return later[0]
            time.sleep(0.02)
        raise AssertionError("nothing was published")


def ask(base: str, question: str) -> dict:
    return httpx.post(f"{base}/api/ask", json={"question": question}, timeout=60).json()


def cites(answer: dict, source: str) -> bool:
    return not answer["abstained"] and any(c["source"] == source for c in answer["citations"])


def within(deadline: float, check) -> float:
    """Seconds until `check()` holds, asserting it does before `deadline` (a time.time())."""
    while True:
        now = time.time()
        if check():
            return now
        assert now < deadline, "the change was not answered from within the deadline"
        time.sleep(0.1)


@pytest.mark.web
def test_a_live_server_follows_every_change_without_a_failed_request(small_corpus, tmp_path, embedder):
    index_dir, log_file = tmp_path / "index", tmp_path / "server.jsonl"
    index_mod.build(Settings(corpus_dir=small_corpus, index_dir=index_dir), embedder, progress=False)
    port = _free_port()
    env = {**os.environ, "RAG_ADMIN_TOKEN": ADMIN, "RAG_INDEX_POLL_SECONDS": "0.2", "RAG_WATCH_QUIET_MS": "300",
           "RAG_LOG_FILE": str(log_file), "RAG_LOG_QUESTIONS": "true", "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "rag.cli"]
    server = subprocess.Popen([*cli, "serve", "--watch", "--port", str(port), "--corpus", str(small_corpus), "--index", str(index_dir)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.err", "w"))
    base, admin = f"http://127.0.0.1:{port}", {"X-Admin-Token": ADMIN}
    publishes = Publishes(index_dir)
    try:
        _wait_for(base, server)
        publishes.thread.start()
        latencies, phases = {}, {}
        with Clients(base) as clients:
            phases["rag index"] = time.time()
            # 1. Added, then `rag index` in another process (the watch sees the file too: whichever publishes first).
            t0 = time.time()
            (small_corpus / "penguins.txt").write_text(PENGUINS.format(city="Мурманске", CITY="МУРМАНСК"), encoding="utf-8")
            indexed = subprocess.run([*cli, "index", "--corpus", str(small_corpus), "--index", str(index_dir)], cwd=ROOT, env=env,
                                     capture_output=True, text=True, timeout=120)
            assert indexed.returncode == 0, indexed.stderr
            published = publishes.first_after(t0)
            by = "the server's watch" if f"-{server.pid}-" in next(b for t, b in publishes.seen if t == published) else "rag index"
            latencies["added, rag index"] = within(published + DEADLINE, lambda: cites(ask(base, "Где пройдет пингвиний фестиваль?"), "penguins.txt")) - published
            # 2. Changed, through the watch alone.
            t0 = phases["watch"] = time.time()
            (small_corpus / "penguins.txt").write_text(PENGUINS.format(city="Архангельске", CITY="АРХАНГЕЛЬСК"), encoding="utf-8")
            published = publishes.first_after(t0)
            latencies["changed, watch"] = within(published + DEADLINE, lambda: "Архангельск" in ask(base, "Где пройдет пингвиний фестиваль?")["answer"]) - published
            # 3. Added through the API: answered as soon as the upload returns.
            phases["API"] = time.time()
            r = httpx.post(f"{base}/api/documents", headers=admin, files={"file": ("giraffes.txt", GIRAFFES.encode())}, timeout=60)
            assert r.status_code == 201 and r.json()["file"] == "giraffes.txt", r.text
            done = time.time()
            latencies["added, API"] = within(done + DEADLINE, lambda: cites(ask(base, "Где откроется жирафья выставка?"), "giraffes.txt")) - done
            listed = httpx.get(f"{base}/api/documents").json()["documents"]
            giraffes = next(d for d in listed if d["file"] == "giraffes.txt")
            assert giraffes["title"] == "Жирафья выставка откроется в Твери" and giraffes["chunks"] >= 1 and giraffes["indexed_at"]
            # 4. Removed through the API, 5. removed through the watch: no longer cited.
            r = httpx.delete(f"{base}/api/documents/penguins.txt", headers=admin, timeout=60)
            assert r.status_code == 200, r.text
            done = time.time()
            latencies["removed, API"] = within(done + DEADLINE, lambda: not cites(ask(base, "Где пройдет пингвиний фестиваль?"), "penguins.txt")) - done
            t0 = time.time()
            (small_corpus / "giraffes.txt").unlink()
            published = publishes.first_after(t0)
            latencies["removed, watch"] = within(published + DEADLINE, lambda: not cites(ask(base, "Где откроется жирафья выставка?"), "giraffes.txt")) - published
            # 6. 20 swaps (an article replaced through the API each time); memory before and after.
            _swap(base, admin, 0)  # the first in-server build after the phases above loaded what builds need
            time.sleep(1)
            before = rss_kb(server.pid)
            swaps_from = phases["20 swaps"] = time.time()
            for i in range(1, 21):
                _swap(base, admin, i)
            assert "320" in ask(base, "Сколько бегунов примут участие в слоновьем марафоне?")["answer"]
            time.sleep(1.0)  # the watch's check of the last upload (a build that changes nothing)
            after = rss_kb(server.pid)
        assert clients.failures == [], clients.failures[:5]
        current = os.readlink(index_dir / index_mod.CURRENT)
        assert mapped_builds(server.pid) <= {current}, "an old build is still mapped"
        assert after - before < 100_000, f"RSS grew by {after - before} kB over 20 swaps"
        assert all(t < DEADLINE for t in latencies.values()), latencies
    finally:
        publishes.stop.set()
        server.terminate()
        server.wait(30)

    events = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    swaps = [e for e in events if e["event"] == "swap"]
    questions = [e for e in events if e["event"] == "question"]
    assert len(swaps) >= 25 and all(e["lag_ms"] < 5000 for e in swaps)
    assert {"ms", "abstained", "confidence", "top_source", "rewritten", "question", "build"} <= set(questions[0])
    assert any(e.get("rewrite") == "Когда пройдет саммит ШОС?" for e in questions)
    windows = [(t, t + 1.0) for t, _ in publishes.seen]  # a second from each publish covers its load and swap
    during = [end - start for start, end, _ in clients.log if any(start < b and end > a for a, b in windows)]
    times = [end - start for start, end, _ in clients.log]
    longest = max(clients.log, key=lambda r: r[1] - r[0])
    phase = max((name for name, t in phases.items() if t <= longest[0]), key=phases.get, default="start")
    print(f"\n{len(clients.log)} requests by 10 clients, all succeeded; {len(publishes.seen)} builds published, {len(swaps)} swaps"
          f"\nthe article added before `rag index` was published by {by}"
          f"\nanswered from after the publish (s): " + ", ".join(f"{k} {v:.2f}" for k, v in latencies.items())
          + f"\nswap latency (publish → serving): median {statistics.median(e['lag_ms'] for e in swaps):.0f} ms, "
          f"max {max(e['lag_ms'] for e in swaps):.0f} ms (loading: median {statistics.median(e['load_ms'] for e in swaps):.0f} ms)"
          f"\nrequests: median {statistics.median(times) * 1000:.0f} ms, longest during a swap {max(during) * 1000:.0f} ms, longest {max(times) * 1000:.0f} ms (in the {phase} phase)"
          f"\nRSS before / after 20 swaps: {before / 1024:.1f} / {after / 1024:.1f} MB (20 swaps in {time.time() - swaps_from:.1f} s)")


def _swap(base: str, admin: dict, i: int) -> None:
    r = httpx.post(f"{base}/api/documents", headers=admin, files={"file": ("elephants.txt", ELEPHANTS.format(n=300 + i).encode())}, timeout=60)
    assert r.status_code == 201, r.text


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, f"the server exited with {server.returncode}"
        assert time.monotonic() < deadline, "the server did not start"
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
