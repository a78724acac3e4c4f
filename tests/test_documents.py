"""The live index's rules on made-up input: upload names, the watch's filter, the articles panel, the question log."""
import pytest
import watchfiles

from rag.answer.extract import Answer, Citation
from rag.config import Settings
from rag.errors import DocumentError
from rag.serve.documents import admin_allowed, safe_file_name
from rag.serve.logs import question_record
from rag.serve.panel import render_documents
from rag.serve.render import ui_texts
from rag.serve.watch import ArticleFilter, describe


@pytest.mark.parametrize("given, kept", [
    ("news.txt", "news.txt"),
    ("Новость дня.md", "Новость дня.md"),
    ("C:\\Users\\me\\Новость.txt", "Новость.txt"),
    ("/etc/../home/a.txt", "a.txt"),
    ("  spaced.txt ", "spaced.txt"),
])
def test_an_upload_keeps_only_the_last_part_of_its_name(given, kept):
    assert safe_file_name(given) == kept


@pytest.mark.parametrize("name", [
    "", ".hidden.txt", "../.env", "a.exe", "a.TXT", "report.txt.sh", "nul\x00.txt", "tab\there.txt", "a:b.txt",
    "what?.txt", ".txt", "dir/", "x" * 300 + ".txt",
])
def test_an_upload_name_that_is_not_a_plain_article_name_is_refused(name):
    with pytest.raises(DocumentError, match="Имя файла"):
        safe_file_name(name)


def test_the_admin_token_is_needed_and_nothing_passes_without_one():
    assert admin_allowed("s3cret", "s3cret")
    assert not admin_allowed("s3cret", "wrong") and not admin_allowed("s3cret", None) and not admin_allowed("s3cret", "")
    assert not admin_allowed("", "") and not admin_allowed("", "anything")


@pytest.mark.parametrize("change, path, seen", [
    (watchfiles.Change.added, "/news/a.txt", True),
    (watchfiles.Change.modified, "/news/sub/b.md", True),
    (watchfiles.Change.added, "/news/.a.txt.1234abcd.part", False),  # an upload being written
    (watchfiles.Change.modified, "/news/.a.txt.swp", False),
    (watchfiles.Change.added, "/news/notes.docx", True),  # DOCX is an article format (rag/ingest/read_docx.py)
    (watchfiles.Change.added, "/news/notes.xlsx", False),
    (watchfiles.Change.deleted, "/news/old-folder", True),  # a removed folder takes its articles with it
])
def test_the_watch_sees_only_article_files(change, path, seen):
    assert ArticleFilter()(change, path) is seen


def test_the_build_log_says_what_changed():
    assert describe({(watchfiles.Change.deleted, "/n/b.txt"), (watchfiles.Change.added, "/n/a.txt")}) == "added a.txt, deleted b.txt"


def test_the_articles_panel_escapes_what_articles_say():
    html = render_documents([{"file": "x<script>.txt", "title": "<b>Заголовок</b>", "date": "3 апр", "outlet": "Спутник & Co", "chunks": 4}], ui_texts())
    assert "<script>" not in html and "&lt;b&gt;Заголовок&lt;/b&gt;" in html and "Спутник &amp; Co" in html
    assert "фрагментов: 4" in html and "Статей в индексе: 1" in html
    assert "В индексе нет статей." in render_documents([], ui_texts())


def answer(question: str, abstained: bool = False) -> Answer:
    citations = [] if abstained else [Citation("a.txt", "Цитата.", 0, 7, 0.9)]
    return Answer(question, "Ответ.", abstained, citations, {"retrieval": 10.0, "evidence": 2.0, "total": 15.0})


def test_the_question_log_leaves_the_question_out_unless_asked_to():
    record = question_record("А когда?", answer("Когда пройдет саммит?"), None, 0.5, Settings())
    assert record == {"ms": {"rewrite": 0.5, "retrieval": 10.0, "evidence": 2.0, "answer": 3.0, "total": 15.5},
                      "abstained": False, "confidence": None, "top_source": "a.txt", "rewritten": True}
    logged = question_record("А когда?", answer("Когда пройдет саммит?"), None, 0.5, Settings(log_questions=True))
    assert logged["question"] == "А когда?" and logged["rewrite"] == "Когда пройдет саммит?"
    plain = question_record("Где?", answer("Где?", abstained=True), None, 0.0, Settings(log_questions=True))
    assert plain["abstained"] is True and plain["top_source"] is None and "rewrite" not in plain and not plain["rewritten"]
