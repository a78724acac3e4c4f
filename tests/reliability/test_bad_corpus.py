"""A corpus folder full of bad files: each is reported in one line, the build does not stop, the rest is indexed."""
import os
import time

from helpers import SEEDS, run_rag
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.pipeline import RAG

GOOD = "001_6b3bc755e8fe2ed9.txt"
ARTICLE = (SEEDS / "002_1578cfc18d0bb0f0.txt").read_text(encoding="utf-8")


def make_bad_corpus(corpus):
    """Every kind of bad file the issue lists, beside one good article; returns the names that must be reported."""
    corpus.mkdir()
    (corpus / GOOD).write_bytes((SEEDS / GOOD).read_bytes())
    reported = {}
    (corpus / "empty.txt").write_bytes(b"")
    reported["empty.txt"] = "no article text"
    (corpus / "binary.txt").write_bytes(os.urandom(4096))
    reported["binary.txt"] = ""
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000))
    reported["image.txt"] = "binary"
    (corpus / "utf16.txt").write_bytes(ARTICLE.encode("utf-16"))  # read: not reported
    (corpus / "cp1251.txt").write_bytes(ARTICLE.replace("«", '"').replace("»", '"').encode("cp1251", "replace"))
    (corpus / "koi8.txt").write_bytes(ARTICLE.encode("koi8_r", "replace"))
    data = ARTICLE.encode("utf-8")
    (corpus / "broken-utf8.txt").write_bytes(data[:500] + b"\xff\xfe" + data[500:])
    reported["broken-utf8.txt"] = "UTF-8 with 2 broken byte sequence(s), the first at byte 500"
    with open(corpus / "huge.txt", "wb") as f:
        f.truncate(50 * 1024 * 1024)  # 50 MB (sparse: only its size matters to the guard)
    reported["huge.txt"] = "RAG_MAX_FILE_MB"
    (corpus / "one-line.txt").write_text("я" * 1_000_000, encoding="utf-8")
    reported["one-line.txt"] = "RAG_MAX_LINE_CHARS"
    fd = os.open(corpus, os.O_RDONLY)
    for _ in range(25):  # deeper than PATH_MAX
        os.mkdir("d" * 200, dir_fd=fd)
        fd, old = os.open("d" * 200, os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
    os.close(fd)
    reported["dddd"] = "File name too long"
    os.symlink("loop-b.txt", corpus / "loop-a.txt")
    os.symlink("loop-a.txt", corpus / "loop-b.txt")
    os.symlink(".", corpus / "loop-dir")
    reported["loop-a.txt"] = "symlink"
    os.mkfifo(corpus / "fifo.txt")
    reported["fifo.txt"] = "not a regular file"
    (corpus / "unreadable.txt").write_text(ARTICLE, encoding="utf-8")
    os.chmod(corpus / "unreadable.txt", 0)
    if os.geteuid() != 0:  # root reads it anyway: then it is simply indexed
        reported["unreadable.txt"] = "cannot be read"
    with open(os.path.join(os.fsencode(corpus), b"latin1-\xe9.txt"), "wb") as f:
        f.write(ARTICLE.encode())
    reported["latin1-"] = "not valid UTF-8"
    for odd in ("with space 'quote\".txt", "-rf.txt", "статья №1 (копия).txt", "new\nline.txt", "x" * 251 + ".txt"):
        (corpus / odd).write_text(ARTICLE, encoding="utf-8")
    (corpus / "script.md").write_text("# Заголовок <script>alert(1)</script>\n\n" + ARTICLE + "\n<img src=x onerror=alert(2)>\n", encoding="utf-8")
    return reported


def test_a_bad_corpus_is_reported_file_by_file_and_the_rest_indexed(tmp_path, embedder):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    reported = make_bad_corpus(corpus)
    t0 = time.monotonic()
    out = run_rag("index", "--corpus", str(corpus), "--index", str(index_dir))
    seconds = time.monotonic() - t0
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    skipped = [line for line in lines if line.startswith("rag: skipped ")]
    for name, says in reported.items():
        assert any(name in line and says in line for line in skipped), (name, says, lines)
    assert lines[-1].endswith("file(s) skipped: fix them and run `rag index` again")
    # 50 MB and 1 MB of bad input cost no more than reading a directory: they are refused before any work.
    assert seconds < 120, seconds
    s = Settings(corpus_dir=corpus, index_dir=index_dir)
    rag = RAG(s, embedder)
    docs = set(rag.index.documents)
    expected = {GOOD, "utf16.txt", "cp1251.txt", "koi8.txt", "script.md", "-rf.txt", "статья №1 (копия).txt",
                "with space 'quote\".txt", "new\nline.txt", "x" * 251 + ".txt"} | ({"unreadable.txt"} if os.geteuid() == 0 else set())
    assert docs == expected, docs ^ expected
    texts = {name: rag.index.documents[name].text for name in ("utf16.txt", "cp1251.txt", "koi8.txt")}
    assert all("Алматы" in t for t in texts.values())  # real Russian, not mojibake
    # Nothing of that makes the index stale, and the health route says so (it was a 500 with a bad file name).
    from rag.serve.api import create_app

    health = TestClient(create_app(rag, s)).get("/api/health")
    assert health.status_code == 200 and health.json()["up_to_date"] is True, health.text
    again = run_rag("index", "--corpus", str(corpus), "--index", str(index_dir))
    # The skipped files are said again, not read again, and nothing is published (the build changed nothing).
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stdout + again.stderr
