"""The converted e5 encoder as an ONNX Runtime session: the same float32 weights as the torch model, with
attention, GELU and layer norms fused, and no torch import to embed passages.

The word-embedding table (250k × 384 float32, 384 MB) lives outside the graph in a .npy whose rows are read
one by one (`Rows`) and the graph takes `inputs_embeds`, so only the rows of the tokens a text uses are ever
read into memory."""
from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import EmbedderError

ONNX_FILE = "model.onnx"
TABLE_FILE = "word_embeddings.npy"
OPSET = 17
PREAD_ROWS = 512  # distinct tokens up to which rows are read, not mapped (a question has tens)


def export_onnx(folder: Path, out_dir: Path) -> None:
    """Write the folder's BertModel as a fused ONNX graph (token embeddings, attention mask → last hidden state)
    and its word-embedding table as .npy into `out_dir`; needs torch once."""
    import torch
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel

    # Eager attention exports the plain MatMul/Softmax pattern the optimizer fuses into one Attention op
    # (the SDPA export is not recognised and runs ~25 % slower).
    bert = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()
    np.save(out_dir / TABLE_FILE, bert.embeddings.word_embeddings.weight.detach().numpy())
    hidden = bert.config.hidden_size
    bert.embeddings.word_embeddings = torch.nn.Embedding(1, hidden)  # unused with inputs_embeds: keep it out

    class LastHidden(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, inputs_embeds, attention_mask):
            return self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state

    example = (torch.ones(2, 8, hidden), torch.ones(2, 8, dtype=torch.long))
    axes = {"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "last_hidden_state": {0: "batch", 1: "tokens"}}
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp, torch.inference_mode():
        raw = str(Path(tmp) / "raw.onnx")
        # The tracer warns about shapes and negative indices in general; this graph has neither problem (its
        # vectors are checked against torch's, cosine 0.99999, in tests/test_embeddings.py), so the warnings
        # would only alarm a first-time user.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHidden(bert), example, raw, input_names=["inputs_embeds", "attention_mask"],
                output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=OPSET, dynamo=False,
            )
        fused = optimize_model(raw, model_type="bert", num_heads=bert.config.num_attention_heads,
                               hidden_size=hidden, opt_level=0, use_gpu=False)
        fused.save_model_to_file(str(out_dir / ONNX_FILE))


class Rows:
    """Rows of the 2-d table .npy. A question's few rows are read with pread: a mapped table's touched pages
    count in the server's RSS and grow with every new word of every new question (+39 MB in a 5-minute soak),
    while read rows stay in the OS's page cache, shared and reclaimable. A batch of passages (thousands of
    rows, at build time) gathers from the memory map, three to forty times faster than one pread a row."""

    def __init__(self, path: Path) -> None:
        self.mapped = np.load(path, mmap_mode="r")  # no page is read until a batch gathers from it
        if self.mapped.ndim != 2 or not self.mapped.flags.c_contiguous:
            raise EmbedderError(f"{path} is not a C-ordered 2-d table: delete {path.parent} to convert the model again")
        self.row_bytes = self.mapped.shape[1] * self.mapped.dtype.itemsize
        self.fd = os.open(path, os.O_RDONLY)

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        """`table[ids]` for an integer array of any shape."""
        unique, where = np.unique(ids, return_inverse=True)
        if len(unique) > PREAD_ROWS:
            return self.mapped[ids]
        at = self.mapped.offset
        data = b"".join(os.pread(self.fd, self.row_bytes, at + int(i) * self.row_bytes) for i in unique)
        rows = np.frombuffer(data, self.mapped.dtype).reshape(len(unique), -1)
        return rows[where.reshape(ids.shape)]

    def __del__(self) -> None:
        if hasattr(self, "fd"):  # not when __init__ refused the file
            os.close(self.fd)


@dataclass(frozen=True)
class Tokens:
    """One text's token ids and their character offsets, already cut to the window."""

    ids: np.ndarray  # (t,) int64
    offsets: np.ndarray  # (t, 2) int64


class OnnxEncoder:
    """Token vectors for a batch of texts, with each token's character offsets (for late chunking)."""

    def __init__(self, folder: Path, tokenizer, max_tokens: int, threads: int = 0) -> None:
        """`tokenizer`: the folder's `tokenizers.Tokenizer`, shared with token counting (it takes 0.7 s to load)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads > 0:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        self.table = Rows(folder / TABLE_FILE)
        self.tokenizer, self.max_tokens = tokenizer, max_tokens
        self.pad_id = tokenizer.token_to_id("<pad>")

    def tokenize(self, texts: list[str]) -> list[Tokens]:
        """Ids and offsets of each text; too long for the window, the text is cut but keeps its closing </s>,
        as the torch tokenizer does."""
        out = []
        for e in self.tokenizer.encode_batch(texts):
            ids, offsets = np.array(e.ids, np.int64), np.array(e.offsets, np.int64).reshape(-1, 2)
            if len(ids) > self.max_tokens:
                keep = np.r_[: self.max_tokens - 1, len(ids) - 1]
                ids, offsets = ids[keep], offsets[keep]
            out.append(Tokens(ids, offsets))
        return out

    def forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(hidden (b, t, dim), mask (b, t), offsets (b, t, 2), mean-pooled vectors (b, dim))."""
        return self.run(self.tokenize(texts))

    def run(self, batch: list[Tokens]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`forward` of texts already tokenised."""
        n = max(len(t.ids) for t in batch)
        ids = np.full((len(batch), n), self.pad_id, np.int64)
        offsets = np.zeros((len(batch), n, 2), np.int64)
        mask = np.zeros((len(batch), n), np.int64)
        for row, t in enumerate(batch):
            ids[row, : len(t.ids)], offsets[row, : len(t.ids)], mask[row, : len(t.ids)] = t.ids, t.offsets, 1
        embeds = self.table[ids]  # the only rows of the table ever read
        hidden = self.session.run(None, {"inputs_embeds": embeds, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / weights.sum(1)  # e5's pooling: the mean over real tokens
        return hidden, mask.astype(bool), offsets, pooled
