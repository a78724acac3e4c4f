"""The saved index: round trip, manifest checks, staleness, atomic swap, damage and bad files."""
import json

import numpy as np
import pytest

from rag import index as index_mod
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import CorpusError, IndexCorruptError, IndexMismatchError
from rag.pipeline import RAG


def settings_for(corpus, tmp_path, **kw) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", **kw)


def expected(settings, embedder):
    return index_mod.expected_settings(settings, embedder.model_id, embedder.dim)


def test_save_load_round_trip(small_corpus, tmp_path, embedder):
    s = settings_for(small_corpus, tmp_path)
    report = index_mod.build(s, embedder, progress=False)
    idx = index_mod.load(s.index_dir, expected(s, embedder))
    assert report.documents == 2 and report.chunks == len(idx.chunks) == idx.dense.ntotal
    assert idx.manifest["embedder"] == embedder.model_id and idx.manifest["dim"] == 384
    assert set(idx.manifest["files"]) == {"001_6b3bc755e8fe2ed9.txt", "002_1578cfc18d0bb0f0.txt"}
    vectors = idx.dense.reconstruct_n(0, idx.dense.ntotal)
    again = embedder.embed_passages([c.text for c in idx.chunks[:5]])
    assert np.allclose(vectors[:5], again, atol=1e-4)
    for c in idx.chunks:
        assert idx.documents[c.source].text[c.start : c.end] == c.text


def test_nothing_on_disk_is_a_pickle(small_corpus, tmp_path, embedder):
    s = settings_for(small_corpus, tmp_path)
    index_mod.build(s, embedder, progress=False)
    for f in (s.index_dir / "current").rglob("*"):
        if f.is_file():
            assert not f.read_bytes().startswith(b"\x80"), f"{f} looks like a pickle"


def test_other_settings_are_refused_then_rebuilt(small_corpus, tmp_path, embedder):
    s = settings_for(small_corpus, tmp_path)
    index_mod.build(s, embedder, progress=False)
    changed = settings_for(small_corpus, tmp_path, chunk_tokens=90)
    with pytest.raises(IndexMismatchError, match="chunk_tokens=160, not 90: run `rag index`"):
        index_mod.load(s.index_dir, expected(changed, embedder))
    rag = RAG(changed, embedder)  # the pipeline rebuilds instead of serving a stale index
    assert rag.index.manifest["chunk_tokens"] == 90


def test_new_changed_and_removed_files_make_the_index_stale(small_corpus, tmp_path, embedder):
    s = settings_for(small_corpus, tmp_path)
    rag = RAG(s, embedder)
    assert index_mod.stale_reason(rag.index, small_corpus) is None
    (small_corpus / "002_1578cfc18d0bb0f0.txt").touch()  # same bytes, new mtime: not stale
    assert index_mod.stale_reason(rag.index, small_corpus) is None
    (small_corpus / "new.txt").write_text("Новость: в Актау открыли морской порт «Курык-2».", encoding="utf-8")
    assert "new file new.txt" == index_mod.stale_reason(rag.index, small_corpus)
    rag = RAG(s, embedder)
    assert "new.txt" in rag.index.documents
    assert rag.ask("Что открыли в Актау?").citations[0].source == "new.txt"
    (small_corpus / "new.txt").write_text("Новость: порт закрыли.", encoding="utf-8")
    assert index_mod.stale_reason(rag.index, small_corpus) == "new.txt changed"
    (small_corpus / "new.txt").unlink()
    assert index_mod.stale_reason(rag.index, small_corpus) == "new.txt was removed"


def test_adding_one_file_embeds_only_that_file(small_corpus, tmp_path, embedder):
    s = settings_for(small_corpus, tmp_path)
    index_mod.build(s, embedder, progress=False)
    (small_corpus / "new.txt").write_text("В Караганде построят новый стадион на 30 тысяч мест.", encoding="utf-8")
    report = index_mod.build(s, embedder, progress=False)
    assert report.reused_documents == 2 and report.embedded_chunks == 1


class FailingEmbedder(Embedder):
    """The real model, but the machine 'runs out of memory' halfway through a build."""

    def embed_passages(self, texts, progress=False):
        raise MemoryError("simulated: the build dies while embedding")


def test_a_failed_build_leaves_the_old_index_serving(small_corpus, tmp_path, embedder):
    s = settings_for(small_corpus, tmp_path)
    index_mod.build(s, embedder, progress=False)
    live = (s.index_dir / "current").resolve()
    (small_corpus / "new.txt").write_text("Совсем новая статья про порт Курык.", encoding="utf-8")
    failing = FailingEmbedder.__new__(FailingEmbedder)
    failing.__dict__.update(embedder.__dict__)
    with pytest.raises(MemoryError):
        index_mod.build(s, failing, progress=False)
    assert (s.index_dir / "current").resolve() == live
    assert sorted(p.name for p in s.index_dir.glob("build-*")) == [live.name]  # no half-written build left
    idx = index_mod.load(s.index_dir, expected(s, embedder))
    assert "new.txt" not in idx.documents and len(idx.documents) == 2
    # a corpus with nothing readable fails too, and also leaves the old index alone
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.txt").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(CorpusError):
        index_mod.build(settings_for(broken, tmp_path), embedder, progress=False)
    assert (s.index_dir / "current").resolve() == live


def test_a_damaged_index_names_the_file_and_what_to_do(small_corpus, tmp_path, embedder):
    s = settings_for(small_corpus, tmp_path)
    index_mod.build(s, embedder, progress=False)
    (s.index_dir / "current" / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match=r"dense\.faiss is damaged .*run `rag index`"):
        index_mod.load(s.index_dir, expected(s, embedder))
    (s.index_dir / "current" / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"manifest\.json is damaged"):
        index_mod.load(s.index_dir, expected(s, embedder))
    index_mod.build(s, embedder, progress=False)  # `rag index` repairs it
    assert index_mod.load(s.index_dir, expected(s, embedder)).dense.ntotal > 0


def test_a_file_that_breaks_later_keeps_its_indexed_version(small_corpus, tmp_path, embedder):
    s = settings_for(small_corpus, tmp_path)
    index_mod.build(s, embedder, progress=False)
    (small_corpus / "002_1578cfc18d0bb0f0.txt").write_bytes(b"\x00\xff\x00binary junk" * 50)
    report = index_mod.build(s, embedder, progress=False)
    assert len(report.problems) == 1 and "002_1578cfc18d0bb0f0.txt" in report.problems[0]
    assert "kept the version indexed before" in report.problems[0]
    idx = index_mod.load(s.index_dir, expected(s, embedder))
    assert "Алматы" in idx.documents["002_1578cfc18d0bb0f0.txt"].text
    assert index_mod.stale_reason(idx, small_corpus) is None  # no rebuild loop on every start


def test_manifest_records_file_hashes(small_corpus, tmp_path, embedder):
    s = settings_for(small_corpus, tmp_path)
    index_mod.build(s, embedder, progress=False)
    manifest = json.loads((s.index_dir / "current" / "manifest.json").read_text(encoding="utf-8"))
    import hashlib

    for name, meta in manifest["files"].items():
        assert meta["sha256"] == hashlib.sha256((small_corpus / name).read_bytes()).hexdigest()
    assert manifest["format_version"] == index_mod.FORMAT_VERSION
    assert {"tiktoken_encoding", "chunk_tokens", "chunk_overlap_sentences", "analyzer"} <= set(manifest)
