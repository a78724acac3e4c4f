"""A full disk: checked before embedding, and when it fills up mid-build the old index still serves, intact."""
import os
import subprocess
import threading
import time

import pytest
from helpers import ROOT, answers, copy_seeds, rag_command, run_rag

from rag.config import Settings
from rag.index import build as index_mod
from rag.pipeline import RAG

BASE = ["001_6b3bc755e8fe2ed9.txt"]
ADDED = ["002_1578cfc18d0bb0f0.txt", "003_83e2e03ee03bef0d.txt", "004_49a2aafc11fb7d54.txt", "000_46e3a591079cfa77.txt"]


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MB tmpfs of its own (root can mount one; anyone else gets the test skipped with the reason)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("needs a small file system of its own: `mount -t tmpfs` (root) failed here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder) -> None:
    """Take every free byte of the file system."""
    with open(folder / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def said(stderr: str) -> list[str]:
    """What a build printed on stderr besides its progress bars (names, embedding)."""
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.strip() and not line.startswith(("names", "embedding"))]


def shared_sizes(index_dir):
    live = (index_dir / "current").resolve()
    return {name: (live / name).stat().st_size for name in ("documents.jsonl", "sentences.f16", "dense.faiss")}


def test_the_free_space_is_checked_before_embedding(small_disk, tmp_path, embedder):
    corpus = copy_seeds(tmp_path / "corpus", BASE)
    out = run_rag("index", "--corpus", str(corpus), "--index", str(small_disk / "index"), env={"RAG_DISK_MARGIN_MB": "100"})
    assert out.returncode == 3 and "Traceback" not in out.stderr
    assert len(said(out.stderr)) == 1  # one line
    assert "not enough free space" in out.stderr and "embedding" not in out.stderr


def test_a_disk_that_fills_up_mid_build_is_one_line_and_the_old_index_serves(small_disk, tmp_path, embedder):
    corpus = copy_seeds(tmp_path / "corpus", BASE)
    s = Settings(corpus_dir=corpus, index_dir=small_disk / "index", disk_margin_mb=0)
    index_mod.build(s, embedder, progress=False)
    before, sizes = answers(RAG(s, embedder)), shared_sizes(s.index_dir)
    copy_seeds(corpus, ADDED)
    proc = subprocess.Popen(rag_command("index", "--corpus", str(corpus), "--index", str(s.index_dir)), cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "RAG_DISK_MARGIN_MB": "0"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = bytearray()

    def read_stderr():
        while chunk := os.read(proc.stderr.fileno(), 4096):
            err.extend(chunk)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while b"embedding" not in err:  # the space check passed: now another program takes the disk
        assert proc.poll() is None and time.monotonic() < deadline, err.decode(errors="replace")
        time.sleep(0.02)
    fill(small_disk)
    proc.wait(300)
    reader.join(10)
    lines = said(err.decode())
    assert proc.returncode == 3, lines
    assert len(lines) == 1 and lines[0].startswith("rag: the disk of") and "is full" in lines[0] and "old index still serves" in lines[0], lines
    (small_disk / "filler").unlink()
    assert shared_sizes(s.index_dir) == sizes  # the failed build's rows were cut off the shared files
    assert len(list(s.index_dir.glob("build-*"))) == 1
    assert answers(RAG(s, embedder)) == before
    assert index_mod.build(s, embedder, progress=False).documents == 5  # with room again, the build goes through
