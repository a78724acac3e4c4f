"""Checks before a build writes anything: is this the index's own corpus folder, is there room on the disk."""
from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.errors import DiskFullError, IndexMismatchError
from rag.index import store
from rag.index.store import ChunkTable


def check_corpus(settings: Settings) -> None:
    """Refuse to turn an index of one folder into an index of another: `rag ask --index big` with the default
    seeds/ once left 5 of 2,005 documents (everything else deleted, to be embedded again). A folder that holds
    every file the index holds is the same corpus moved or copied (an index copied with its articles to another
    machine): it is accepted, and the next build records where it is now."""
    try:
        manifest = json.loads((settings.index_dir / store.CURRENT / "manifest.json").read_text(encoding="utf-8"))
        recorded = manifest["corpus_dir"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no index yet, or one too damaged to say: the build replaces it
    if Path(recorded).resolve() == settings.corpus_dir.resolve():
        return
    if all((settings.corpus_dir / name).is_file() for name in manifest.get("files", {})):
        return
    raise IndexMismatchError(
        f"index in {settings.index_dir} was built from {recorded}, not {settings.corpus_dir}: pass --corpus {recorded}, "
        "or another --index for this folder, or `rag index --new-corpus` to rebuild this index from it"
    )


def check_space(settings: Settings, dim: int, fresh_docs, fresh, chunks: ChunkTable, appending: bool) -> None:
    """Stop before embedding when the index's disk cannot hold what the build writes (a full disk found only
    after an hour of embedding costs the hour). An upper estimate: vectors, sentence vectors, documents, tables."""
    sentences = sum(len(c.sentences) for c in fresh) if appending else int(chunks.sentence_ptr[-1])
    need = (
        len(chunks) * dim * 4 * 2  # the vector index (main, or main and delta)
        + sentences * dim * np.dtype(store.SENTENCE_DTYPE).itemsize
        + sum(len(d.text) for d in fresh_docs) * 4  # documents.jsonl: UTF-8 text and its JSON escapes
        + len(chunks) * 1024  # chunk arrays, BM25 postings, words
        + int(settings.disk_margin_mb * 1e6)
    )
    free = shutil.disk_usage(settings.index_dir).free
    if free < need:
        raise DiskFullError(
            f"not enough free space for the index in {settings.index_dir}: this build needs about {need / 1e6:.0f} MB "
            f"(with RAG_DISK_MARGIN_MB = {settings.disk_margin_mb:g}), {free / 1e6:.0f} MB are free: free some space and run `rag index` again"
        )


def disk_full(e: BaseException) -> bool:
    # FAISS reports a failed write as a RuntimeError naming the C call, not as OSError(ENOSPC).
    return (isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        isinstance(e, RuntimeError) and ("fwrite" in str(e) or "No space" in str(e)))
