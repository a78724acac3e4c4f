"""What the reliability tests share: running `rag` as a user does, and comparing two builds."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from rag.index import build as index_mod

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
QUESTIONS = ["Где пройдет саммит ШОС?", "Где прошла сессия ОДКБ?", "Что является важнейшей задачей для региона, по мнению Токаева?",
             "Сколько конфликтов было в мире за прошлый год?", "Кто такой Илон Маск?"]


def rag_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "rag.cli", *args]


def run_rag(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(rag_command(*args), capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def copy_seeds(target: Path, names: list[str]) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(SEEDS / name, target / name)
    return target


def answers(rag) -> list[tuple]:
    out = []
    for q in QUESTIONS:
        a = rag.ask(q)
        out.append((a.answer, a.abstained, tuple((c.source, c.start, c.end) for c in a.citations)))
    return out


def same_index(a, b) -> bool:
    """Same documents, chunks, words and (to float rounding) vectors: what a fresh build would hold."""
    if a.documents != b.documents or a.words != b.words:
        return False
    va, vb = index_mod._all_vectors(a.dense), index_mod._all_vectors(b.dense)
    ka = {(c.source, c.start, c.end): i for i, c in enumerate(a.chunks)}
    kb = {(c.source, c.start, c.end): i for i, c in enumerate(b.chunks)}
    if ka.keys() != kb.keys():
        return False
    for key, i in ka.items():
        j = kb[key]
        sa = np.asarray(a.sentence_vectors[a.sentence_rows[i] : a.sentence_rows[i + 1]], np.float32)
        sb = np.asarray(b.sentence_vectors[b.sentence_rows[j] : b.sentence_rows[j + 1]], np.float32)
        if not (np.allclose(va[i], vb[j], atol=1e-5) and sa.shape == sb.shape and np.allclose(sa, sb, atol=2e-3)):
            return False
    return True
