"""The converted e5 encoder as an ONNX Runtime session: the same float32 weights as the torch model, about
1.7× faster on this CPU (fused attention and layer norms), and no torch import to embed passages."""
from __future__ import annotations

from pathlib import Path

import numpy as np

ONNX_FILE = "model.onnx"
OPSET = 17


def export_onnx(folder: Path, out: Path) -> None:
    """Write the folder's BertModel as ONNX (token ids, attention mask → last hidden state); needs torch once."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "last_hidden_state": {0: "batch", 1: "tokens"}}
    with torch.inference_mode():
        torch.onnx.export(
            LastHidden(bert), example, str(out), input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=OPSET, dynamo=False,
        )


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
        self.tokenizer, self.max_tokens = tokenizer, max_tokens
        self.pad_id = tokenizer.token_to_id("<pad>")

    def forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(hidden (b, t, dim), mask (b, t), offsets (b, t, 2), mean-pooled vectors (b, dim))."""
        encodings = self.tokenizer.encode_batch(texts)
        n = min(max(len(e.ids) for e in encodings), self.max_tokens)
        ids = np.full((len(texts), n), self.pad_id, np.int64)
        offsets = np.zeros((len(texts), n, 2), np.int64)
        mask = np.zeros((len(texts), n), np.int64)
        for row, e in enumerate(encodings):
            # Too long for the window: cut the text but keep the closing </s>, as the torch tokenizer does.
            keep = list(range(len(e.ids))) if len(e.ids) <= n else list(range(n - 1)) + [len(e.ids) - 1]
            ids[row, : len(keep)] = np.array(e.ids)[keep]
            offsets[row, : len(keep)] = np.array(e.offsets).reshape(-1, 2)[keep]
            mask[row, : len(keep)] = 1
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / weights.sum(1)  # e5's pooling: the mean over real tokens
        return hidden, mask.astype(bool), offsets, pooled
