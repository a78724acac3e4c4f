"""The live index in-process: following builds published elsewhere, releasing the old one, a build that cannot
be loaded, a health check that reads no corpus, uploads refused before they reach the corpus folder."""
import gc
import os
import shutil
import time
import weakref
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import DocumentError, DocumentTooLargeError, NoSuchDocumentError
from rag.index import build as index_mod
from rag.pipeline import RAG
from rag.serve import documents
from rag.serve.api import health
from rag.serve.live import Live

NEWS = "Пингвиний фестиваль пройдет в Мурманске\n\nМУРМАНСК, 2 мар — Пингвиний фестиваль пройдет в Мурманске 5 марта.\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder) -> Path:
    """Two seed articles indexed once for the module; each test works on a copy."""
    from conftest import SEEDS

    root = tmp_path_factory.mktemp("live")
    (root / "corpus").mkdir()
    for name in ("001_6b3bc755e8fe2ed9.txt", "002_1578cfc18d0bb0f0.txt"):
        shutil.copy2(SEEDS / name, root / "corpus" / name)
    index_mod.build(Settings(corpus_dir=root / "corpus", index_dir=root / "index"), embedder, progress=False)
    return root


@pytest.fixture
def live_settings(built, tmp_path, embedder) -> Settings:
    shutil.copytree(built, tmp_path / "live", symlinks=True)
    settings = Settings(corpus_dir=tmp_path / "live" / "corpus", index_dir=tmp_path / "live" / "index", index_poll_seconds=0.05)
    index_mod.build(settings, embedder, progress=False)  # the copy's first build records where its corpus is now
    return settings


def mapped(path: Path) -> bool:
    return str(path) in Path("/proc/self/maps").read_text()


def test_a_build_published_elsewhere_is_swapped_in_and_the_old_one_released(live_settings, embedder):
    live = Live(RAG(live_settings, embedder)).start()
    try:
        in_flight = live.rag  # a request that began before the publish
        old_path, old_index = in_flight.index.path, weakref.ref(in_flight.index)
        assert mapped(old_path)
        (live_settings.corpus_dir / "penguins.txt").write_text(NEWS, encoding="utf-8")
        index_mod.build(Settings(corpus_dir=live_settings.corpus_dir, index_dir=live_settings.index_dir), embedder, progress=False)
        deadline = time.monotonic() + 5
        while "penguins.txt" not in live.rag.index.documents:
            assert time.monotonic() < deadline, "the published build was not swapped in"
            time.sleep(0.02)
        assert live.rag.ask("Где пройдет пингвиний фестиваль?").citations[0].source == "penguins.txt"
        # The request in flight finishes on its build, which the publish has already deleted from disk.
        assert not old_path.exists() and "penguins.txt" not in in_flight.index.documents
        assert in_flight.ask("Где пройдет саммит ШОС?").citations[0].source == "001_6b3bc755e8fe2ed9.txt"
        del in_flight
        gc.collect()
        assert old_index() is None and not mapped(old_path), "the old build is still held"
        assert mapped(live.rag.index.path)
    finally:
        live.stop()


def test_a_build_that_cannot_be_loaded_leaves_the_old_one_serving(live_settings, embedder):
    live = Live(RAG(live_settings, embedder))
    serving = live.rag.index.path
    broken = live_settings.index_dir / "build-broken"
    shutil.copytree(serving, broken)
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    link = live_settings.index_dir / ".current.tmp"
    link.symlink_to(broken.name)
    link.replace(live_settings.index_dir / index_mod.CURRENT)
    assert live.refresh() is False and live.rag.index.path == serving
    h = health(live)
    assert h.up_to_date is False and "build-broken could not be loaded" in h.stale_reason and "rag index" in h.stale_reason
    assert h.build == serving.name and h.published_build == "build-broken"
    assert live.refresh() is False  # not retried until another build is published
    live.reindex("test")  # a good build replaces it
    assert live.rag.index.path != serving and health(live).up_to_date is True


def test_health_reads_no_corpus_and_says_which_build_serves(live_settings, embedder):
    live = Live(RAG(live_settings, embedder))
    live_settings.corpus_dir.rename(live_settings.corpus_dir.with_name("away"))  # health must not look at it
    h = health(live)
    assert h.up_to_date is True and h.stale_reason is None and h.documents == 2
    assert h.build == h.published_build == os.readlink(live_settings.index_dir / "current") and h.serving_since


def test_a_build_that_changes_nothing_publishes_nothing(live_settings, embedder):
    before = os.readlink(live_settings.index_dir / "current")
    report = index_mod.build(live_settings, embedder, progress=False)
    assert report.published is False and report.documents == 2
    assert os.readlink(live_settings.index_dir / "current") == before


def test_uploads_are_checked_before_they_reach_the_corpus(live_settings, embedder):
    live = Live(RAG(live_settings, embedder))
    before = sorted(p.name for p in live_settings.corpus_dir.iterdir())
    with pytest.raises(DocumentError, match="бинар|binary|NUL|UTF-16"):
        documents.upload(live, "bin.txt", b"\x00\x01" * 50)
    with pytest.raises(DocumentTooLargeError):
        documents.upload(live, "big.txt", ("слово " * live_settings.upload_max_bytes).encode()[: live_settings.upload_max_bytes + 1])
    with pytest.raises(DocumentError, match="Имя файла"):
        documents.upload(live, "../../etc/cron.d/x.txt.sh", NEWS.encode())
    with pytest.raises(NoSuchDocumentError):
        documents.delete(live, "../index/current/manifest.json")
    assert sorted(p.name for p in live_settings.corpus_dir.iterdir()) == before


def test_an_uploaded_article_is_listed_with_its_metadata_and_the_last_one_cannot_be_deleted(live_settings, embedder):
    live = Live(RAG(live_settings, embedder))
    name, replaced = documents.upload(live, "C:\\Users\\me\\penguins.txt", NEWS.encode())
    assert (name, replaced) == ("penguins.txt", False) and (live_settings.corpus_dir / name).read_text(encoding="utf-8") == NEWS
    assert not list(live_settings.corpus_dir.glob(".*"))  # no temporary file left
    listed = {d["file"]: d for d in documents.listing(live.rag.index)}
    assert listed["penguins.txt"]["title"] == "Пингвиний фестиваль пройдет в Мурманске"
    assert "dateline" in listed["penguins.txt"] and listed["penguins.txt"]["chunks"] == 1  # every Document field but the text
    assert sum(d["chunks"] for d in listed.values()) == len(live.rag.index.chunks)
    assert set(listed["penguins.txt"]) >= {"file", "title", "date", "chunks", "indexed_at"} and "text" not in listed["penguins.txt"]
    for doc in ("001_6b3bc755e8fe2ed9.txt", "002_1578cfc18d0bb0f0.txt"):
        documents.delete(live, doc)
    assert list(live.rag.index.documents) == ["penguins.txt"]
    with pytest.raises(DocumentError, match="последняя статья"):
        documents.delete(live, "penguins.txt")


def test_the_watch_indexes_a_burst_of_changes_once_and_skips_a_broken_file(live_settings, embedder):
    import json
    import logging

    from rag.serve import logs

    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(json.loads(record.getMessage()))
    settings = live_settings.model_copy(update={"watch": True, "watch_quiet_ms": 200})
    live = Live(RAG(settings, embedder)).start()
    logs.LOGGER.addHandler(handler)
    try:
        time.sleep(0.3)  # the watcher is up
        (settings.corpus_dir / "broken.txt").write_bytes(b"\x00\x01" * 100)
        (settings.corpus_dir / "penguins.txt").write_text(NEWS, encoding="utf-8")
        (settings.corpus_dir / ".draft.txt.swp").write_text("ignored", encoding="utf-8")
        deadline = time.monotonic() + 10
        while "penguins.txt" not in live.rag.index.documents:
            assert time.monotonic() < deadline, "the watch did not index the new article"
            time.sleep(0.05)
        assert "broken.txt" not in live.rag.index.documents
        builds = [e for e in lines if e["event"] == "build"]
        assert len(builds) == 1 and "added penguins.txt" in builds[0]["why"] and "swp" not in builds[0]["why"]
        assert any(e["event"] == "skipped" and "broken.txt" in e["file_problem"] for e in lines)
    finally:
        logs.LOGGER.removeHandler(handler)
        live.stop()
