"""Two app servers on one PostgreSQL store (issue 17): two "hosts" = two `rag serve` processes on loopback, each
with its own cache folder. A publish from `rag index` is answered from by both within 5 s; a `rag index`
killed inside its transaction leaves the published build serving."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import MARKUP_ARTICLE, ROOT

ORCHIDS = """Выставка орхидей откроется в Казани

КАЗАНЬ, 4 мар — Выставка орхидей откроется в Казани 12 марта, сообщили в ботаническом саду.
Посетители увидят четыреста пятьдесят сортов орхидей из оранжерей Таиланда и Эквадора.
Самая старая орхидея выставки растет в саду уже сорок лет.
"""
PENGUINS_Q = "Сколько участников приедет на пингвиний фестиваль в Мурманске?"
ORCHIDS_Q = "Сколько сортов орхидей покажут на выставке в Казани?"


def _host_env(pg_url: str, corpus: Path, cache: Path) -> dict:
    """One host's environment: the shared store, its own cache folder (models linked in, not copied)."""
    own = Path.home() / ".cache" / "rag-ru"
    for part in ("models", "tiktoken"):
        if (own / part).is_dir() and not (cache / part).exists():
            shutil.copytree(own / part, cache / part, copy_function=os.link)
    return {**os.environ, "PYTHONPATH": str(ROOT), "RAG_STORE": pg_url, "RAG_CORPUS_DIR": str(corpus),
            "RAG_CACHE_DIR": str(cache), "RAG_STORE_POLL_SECONDS": "0.5"}


def _index(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", "index"], env=env, capture_output=True, text=True, timeout=300, check=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sources(url: str, question: str) -> set[str]:
    answer = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=30).json()
    return {c["source"] for c in answer["citations"]}


@pytest.fixture
def two_hosts(pg_url, small_corpus, tmp_path):
    """(env of host A, [url of A's server, url of B's server]) after a first `rag index`."""
    envs = []
    for host in ("a", "b"):
        (tmp_path / host).mkdir()
        envs.append(_host_env(pg_url, small_corpus, tmp_path / host))
    done = _index(envs[0])
    assert done.returncode == 0, done.stderr
    servers, urls = [], []
    for env in envs:
        port = _free_port()
        servers.append(subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 120
        for server, url in zip(servers, urls):
            while True:
                assert server.poll() is None, server.stderr.read()
                try:
                    if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "a server did not start"
                time.sleep(0.3)
        yield envs[0], urls
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)
        for server in servers:
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()


def _published(pg_url: str) -> int:
    with psycopg.connect(pg_url) as conn:
        return conn.execute("SELECT build FROM rag_published").fetchone()[0]


def test_a_publish_reaches_both_servers_and_a_killed_build_changes_nothing(two_hosts, pg_url, small_corpus):
    env_a, urls = two_hosts
    assert all("penguins.txt" not in _sources(url, PENGUINS_Q) for url in urls)

    # Publish from host A: both servers answer from the new article within 5 s of `rag index` returning.
    (small_corpus / "penguins.txt").write_text(MARKUP_ARTICLE, encoding="utf-8")
    done = _index(env_a)
    assert done.returncode == 0, done.stderr
    published = time.monotonic()
    for url in urls:
        while "penguins.txt" not in _sources(url, PENGUINS_Q):
            assert time.monotonic() - published < 5, f"{url} still serves the old build after 5 s"
            time.sleep(0.2)
    build = _published(pg_url)

    # A build killed inside its transaction: the test holds the published row, so `rag index` has written all
    # its rows and waits to move the pointer when it is killed.
    (small_corpus / "orchids.txt").write_text(ORCHIDS, encoding="utf-8")
    with psycopg.connect(pg_url) as holder:
        holder.execute("SELECT * FROM rag_published FOR UPDATE")
        writer = subprocess.Popen([sys.executable, "-m", "rag.cli", "index"], env=env_a, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        with psycopg.connect(pg_url, autocommit=True) as watch:
            while not watch.execute("SELECT 1 FROM pg_stat_activity WHERE application_name = 'rag index' "
                                    "AND wait_event_type = 'Lock'").fetchone():
                assert writer.poll() is None, writer.stderr.read()
                assert time.monotonic() < deadline, "rag index never reached the publish"
                time.sleep(0.1)
            assert watch.execute("SELECT count(*) FROM rag_documents WHERE source = 'orchids.txt'").fetchone()[0] == 0
        writer.kill()
        writer.wait(10)
        holder.rollback()
    assert _published(pg_url) == build
    with psycopg.connect(pg_url) as conn:
        for _ in range(50):  # the server rolls the dead client's transaction back once it notices the socket closed
            if not conn.execute("SELECT 1 FROM pg_stat_activity WHERE application_name = 'rag index'").fetchone():
                break
            time.sleep(0.1)
        assert conn.execute("SELECT count(*) FROM rag_documents WHERE source = 'orchids.txt'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM rag_builds WHERE id > %s", (build,)).fetchone()[0] == 0
    time.sleep(1)  # past the servers' poll interval
    for url in urls:
        assert "penguins.txt" in _sources(url, PENGUINS_Q)
        assert "orchids.txt" not in _sources(url, ORCHIDS_Q)
        assert httpx.get(f"{url}/api/health").json()["documents"] == 3

    # The next build publishes the article the killed one did not.
    done = _index(env_a)
    assert done.returncode == 0, done.stderr
    published = time.monotonic()
    while "orchids.txt" not in _sources(urls[1], ORCHIDS_Q):
        assert time.monotonic() - published < 5
        time.sleep(0.2)
