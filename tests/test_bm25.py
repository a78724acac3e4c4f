"""Our BM25 against bm25s on the seeds' chunks, and appending/dropping chunks against building afresh."""
import bm25s
import numpy as np
import pytest
from conftest import SEEDS

from rag.config import Settings
from rag.index import analysis
from rag.index.bm25 import BM25
from rag.ingest.chunking import chunk_document, encoding
from rag.ingest.corpus import find_files, load_document

QUESTIONS = ["Где пройдёт саммит лидеров Центральной Азии?", "Токаев о терроризме и наркотиках", "сколько конфликтов в мире"]


@pytest.fixture(scope="module")
def chunk_terms() -> list[list[str]]:
    s = Settings()
    enc = encoding(s.tiktoken_encoding, s.cache_dir)
    docs = [load_document(p, SEEDS) for p in find_files(SEEDS)]
    return [analysis.terms(c.text) for d in docs for c in chunk_document(d, enc, 160, 1, lambda _: True)]


def test_ranking_matches_bm25s(chunk_terms):
    ours = BM25.build(chunk_terms)
    ref = bm25s.BM25()
    ref.index(chunk_terms, show_progress=False)
    for q in QUESTIONS:
        terms = analysis.terms(q)
        a, b = ours.scores(terms), ref.get_scores([t for t in terms if t in ref.vocab_dict])
        assert (a > 0).sum() > 3 and list(np.argsort(-a)[:10]) == list(np.argsort(-b)[:10])
        assert np.corrcoef(a, b)[0, 1] > 0.9999  # the same formula up to a constant factor


def test_extend_and_keep_equal_a_fresh_build(chunk_terms, tmp_path):
    half = len(chunk_terms) // 2
    grown = BM25.build(chunk_terms[:half]).extend(chunk_terms[half:])
    rows = np.arange(5, len(chunk_terms), 2)
    shrunk = grown.keep(rows)
    grown.save(tmp_path / "bm25")
    loaded = BM25.load(tmp_path / "bm25")
    for q in QUESTIONS:
        terms = analysis.terms(q)
        assert np.allclose(grown.scores(terms), BM25.build(chunk_terms).scores(terms), atol=1e-5)
        assert np.allclose(shrunk.scores(terms), BM25.build([chunk_terms[i] for i in rows]).scores(terms), atol=1e-5)
        assert np.array_equal(loaded.scores(terms), grown.scores(terms))


def test_a_letter_unicode_gives_no_name_is_read_not_a_crash():
    # pymorphy3 asks unicodedata.name() of every letter, which raises for Tangut (U+17000): a fuzzed question found it.
    word = "при" + chr(0x17000)
    assert analysis.terms(word) and analysis.lemma(word) and "NOUN" not in analysis.tag(chr(0x17000))
    assert analysis.lemma("шестая") == "шестой"
