"""Which store the settings choose (RAG_STORE): build into it, open its published build. The embedded index
in `index_dir` by default; PostgreSQL (the `pg` extra, imported only then) for a postgresql:// URL."""
from __future__ import annotations

from rag.config import Settings
from rag.encode.embedder import Embedder
from rag.index import build as embedded
from rag.index.build import BuildReport
from rag.index.interface import Store


def build(settings: Settings, embedder: Embedder, progress: bool = True, new_corpus: bool = False) -> BuildReport:
    """Bring the chosen store up to date with the corpus folder and publish the new build (`new_corpus`: an
    embedded index may be rebuilt from another folder than the one it was built from)."""
    if settings.store:
        from rag.index import pg_build

        return pg_build.build(settings, embedder, progress)
    return embedded.build(settings, embedder, progress, new_corpus=new_corpus)


def load(settings: Settings, embedder: Embedder, connection=None) -> Store:
    """The published build, refused if made with other serving stages (model, analyzer) than these settings';
    `connection` reuses a PostgreSQL connection (a reload)."""
    expected = embedded.serving_stages(settings, embedder)
    if settings.store:
        from rag.index import pg_store

        return pg_store.open_store(settings.store, expected, settings.pg_ef_search, connection)
    return embedded.load(settings.index_dir, expected, settings)


def where(settings: Settings) -> str:
    """The store, for messages: the index folder or the database URL without its password."""
    if settings.store:
        from rag.index.pg_store import redact

        return redact(settings.store)
    return str(settings.index_dir)
