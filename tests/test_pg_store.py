"""The PostgreSQL store (issue 17) against the embedded one, on a real server (RAG_TEST_PG_URL)."""
import json
import shutil

import numpy as np
import psycopg
import pytest

from rag.config import Settings
from rag.index import analysis, pg_store, stores
from rag.index.build import serving_stages
from rag.pipeline import RAG
from tests.conftest import ROOT, SEEDS

DEV = ROOT / "eval" / "dev.jsonl"


def _answers(rag: RAG, questions: list[str], mode: str) -> list[dict]:
    out = []
    for q in questions:
        answer, gathered = rag.ask_traced(q, mode=mode)
        d = answer.to_dict()
        d.pop("timings_ms")
        out.append({**d, "hits": [(h.chunk.source, h.chunk.start, h.dense_rank, h.bm25_rank) for h in gathered.hits]})
    return out


def test_dev_set_answers_are_the_same_on_both_stores(seed_rag, embedder, pg_url):
    """Every dev question, in every retrieval mode: the same hits, ranks, answers and citations."""
    pg = RAG(Settings(corpus_dir=SEEDS, store=pg_url), embedder, build=True)
    assert isinstance(pg.index, pg_store.PostgresStore) and len(pg.index.chunks) == len(seed_rag.index.chunks)
    questions = [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines()]
    for mode in ("hybrid", "dense", "bm25"):
        assert _answers(pg, questions, mode) == _answers(seed_rag, questions, mode), mode


def test_add_and_delete_keep_a_reader_on_its_build(small_corpus, embedder, pg_url, tmp_path):
    """A loaded build answers from its own rows while newer builds are published; only the changed file is
    embedded; rows no build can see are deleted; the result equals an embedded index of the same folder."""
    settings = Settings(corpus_dir=small_corpus, store=pg_url)
    first = stores.build(settings, embedder, progress=False)
    old = stores.load(settings, embedder)
    old_text = {s: old.documents[s].text for s in old.documents}
    removed = min(old_text)
    (small_corpus / removed).unlink()
    shutil.copy(SEEDS / "003_83e2e03ee03bef0d.txt", small_corpus)
    listener = psycopg.connect(pg_url, autocommit=True)
    listener.execute(f"LISTEN {pg_store.CHANNEL}")
    second = stores.build(settings, embedder, progress=False)
    note = next(listener.notifies(timeout=5, stop_after=1))
    listener.close()
    assert second.reused_documents == 1 and 0 < second.embedded_chunks < first.embedded_chunks + 20
    assert old.published_version() == note.payload != old.version
    # The old build still reads whole: its documents, chunks and searches (the removed file's too).
    assert {s: old.documents[s].text for s in old.documents} == old_text
    found = old.bm25_top(analysis.terms("Токаев"), 100)
    assert found and all(old.chunks[i].source in old_text for i in found)
    new = stores.load(settings, embedder)
    assert set(new.documents) == {sorted(old_text)[1], "003_83e2e03ee03bef0d.txt"}
    embedded_settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "idx")
    stores.build(embedded_settings, embedder, progress=False)
    embedded = stores.load(embedded_settings, embedder)
    assert [(c.source, c.start, c.end) for c in new.chunks] == [(c.source, c.start, c.end) for c in embedded.chunks]
    terms = analysis.terms("саммит безопасности в Центральной Азии")
    assert new.bm25_top(terms, 20) == embedded.bm25_top(terms, 20)
    assert new.words == embedded.words
    # A third build: the first build's removed rows are gone (no build in use sees them), the second's stay.
    shutil.copy(SEEDS / "004_49a2aafc11fb7d54.txt", small_corpus)
    stores.build(settings, embedder, progress=False)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM rag_documents WHERE source = %s", (removed,)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM rag_documents").fetchone()[0] == 3


def test_filters_by_source_match_the_embedded_store(seed_rag, embedder, pg_url):
    pg = RAG(Settings(corpus_dir=SEEDS, store=pg_url), embedder, build=True)
    chosen = {"001_6b3bc755e8fe2ed9.txt", "004_49a2aafc11fb7d54.txt"}
    vector = embedder.embed_queries(["Какие угрозы назвал Токаев?"])[0]
    terms = analysis.terms("угрозы Токаев")
    for store in (pg.index, seed_rag.index):
        dense, lexical = store.dense_top(vector, 10, chosen), store.bm25_top(terms, 10, chosen)
        assert dense and lexical and all(store.chunks[i].source in chosen for i in dense + lexical)
    assert pg.index.dense_top(vector, 10, chosen) == seed_rag.index.dense_top(vector, 10, chosen)
    assert pg.index.bm25_top(terms, 10, chosen) == seed_rag.index.bm25_top(terms, 10, chosen)
    hits = pg.retriever.search("Какие угрозы назвал Токаев?", sources=chosen)
    assert hits and {h.chunk.source for h in hits} <= chosen


def test_a_store_built_with_another_model_is_refused(small_corpus, embedder, pg_url):
    settings = Settings(corpus_dir=small_corpus, store=pg_url)
    stores.build(settings, embedder, progress=False)
    expected = serving_stages(settings, embedder)
    expected["encode"] = {**expected["encode"], "model": "another"}
    with pytest.raises(Exception, match="another encode stage"):
        pg_store.open_store(pg_url, expected)


def test_unreachable_store_says_what_to_do():
    from rag.errors import StoreUnavailableError

    with pytest.raises(StoreUnavailableError, match="make pg"):
        pg_store.connect("postgresql://postgres@127.0.0.1:1/rag")


def test_sentence_vectors_round_trip_exactly(seed_rag, embedder, pg_url):
    pg = RAG(Settings(corpus_dir=SEEDS, store=pg_url), embedder, build=True)
    ids = list(range(len(pg.index.chunks)))
    got, want = pg.index.chunk_sentence_vectors(ids), seed_rag.index.chunk_sentence_vectors(ids)
    assert all(np.array_equal(got[i], want[i]) for i in ids)


def test_a_reader_reconnects_after_its_connection_breaks(small_corpus, embedder, pg_url):
    rag = RAG(Settings(corpus_dir=small_corpus, store=pg_url), embedder, build=True)
    old = rag.index
    with psycopg.connect(pg_url, autocommit=True) as admin:  # what a server restart does to a client
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rag' AND pid <> pg_backend_pid()")
    assert rag.refresh() and rag.index is not old and rag.ask("Какие угрозы назвал Токаев?").citations
