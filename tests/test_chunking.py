"""Chunks are runs of whole sentences, sized in tiktoken tokens, and always fit the embedder."""
import time
from pathlib import Path

import pytest

from rag.config import Settings
from rag.ingest.chunking import chunk_document, encoding, sentence_spans
from rag.ingest.corpus import Document, load_corpus

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def enc():
    return encoding("cl100k_base", Settings().cache_dir)


def chunks_of(doc, enc, embedder, size=160, overlap=1):
    fits = lambda t: embedder.count_tokens(t, passage=True) <= 512  # noqa: E731
    return chunk_document(doc, enc, size, overlap, fits)


def test_tiktoken_works_offline_from_the_bundled_file(enc, tmp_path):
    assert enc.decode(enc.encode("Саммит ШОС в Астане")) == "Саммит ШОС в Астане"
    fresh = encoding("o200k_base", tmp_path)  # a new cache folder is seeded, nothing is downloaded
    assert len(fresh.encode("Саммит ШОС в Астане")) > 0


def test_chunks_are_whole_sentences_with_exact_spans(enc, embedder):
    for doc in load_corpus(SEEDS)[0]:
        sentences = set(sentence_spans(doc))
        starts, ends = {a for a, _ in sentences}, {b for _, b in sentences}
        for c in chunks_of(doc, enc, embedder):
            assert c.text == doc.text[c.start : c.end]
            assert c.start in starts and c.end in ends
            assert set(c.sentences) <= sentences


def test_size_limit_and_one_sentence_overlap(enc, embedder):
    doc = next(d for d in load_corpus(SEEDS)[0] if d.source.startswith("001"))
    chunks = chunks_of(doc, enc, embedder, size=120, overlap=1)
    assert len(chunks) > 5
    for c in chunks:
        assert c.tokens <= 120 + 4 or len(c.sentences) == 1  # joins ("\n\n") may add a token or two
    for a, b in zip(chunks, chunks[1:]):
        if len(a.sentences) > 1:  # a sentence that fills a chunk alone is not repeated in the next
            assert a.sentences[-1] == b.sentences[0]
        else:
            assert a.sentences[-1][1] < b.sentences[0][0]
    covered = {s for c in chunks for s in c.sentences}
    assert covered == set(sentence_spans(doc))  # nothing is lost between chunks


def test_every_seed_chunk_fits_the_embedder_window(enc, embedder):
    for doc in load_corpus(SEEDS)[0]:
        for c in chunks_of(doc, enc, embedder, size=400):
            assert embedder.count_tokens(c.text, passage=True) <= 512


def test_an_overlong_sentence_is_split_at_spaces_not_truncated(enc, embedder):
    words = " ".join(f"слово{i}" for i in range(900))
    text = f"Короткое начало. {words}. Короткий конец."
    doc = Document("long.txt", "t", None, None, text, [(0, len(text))], "0")
    chunks = chunks_of(doc, enc, embedder, size=160, overlap=0)
    assert all(embedder.count_tokens(c.text, passage=True) <= 512 for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert all(f"слово{i}" in joined for i in range(900))  # every word survives


def test_a_1mb_line_without_spaces_is_chunked_in_seconds(enc, embedder):
    # Each piece used to re-tokenise the whole rest of the line: a 1 MB line ran past 25 minutes.
    text = "абвгдеёжзиклмнопрстуфхцчшщэюя" * (1_000_000 // 29)
    doc = Document("line.txt", "t", None, None, text, [(0, len(text))], "0")
    t0 = time.process_time()  # CPU time, not wall clock: a busy machine's other processes do not count
    chunks = chunks_of(doc, enc, embedder, size=160, overlap=0)
    assert time.process_time() - t0 < 30  # ~7 s here
    assert "".join(c.text for c in chunks) == text  # nothing lost, nothing truncated
    assert all(embedder.count_tokens(c.text, passage=True) <= 512 for c in chunks)
