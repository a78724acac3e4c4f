"""Questions about a document itself, citations that describe their document, headings that never answer:
rules on made-up documents and sentences (no model)."""
import pytest

from rag.answer.extract import Answer, Citation, candidates
from rag.answer.rules import asked, not_a_heading
from rag.config import Settings
from rag.answer.metadata import about_document, asked_field, cite, holds_topic, human_date, topic_terms
from rag.ingest.corpus import Document
from rag.retrieve.retriever import Evidence

pytestmark = pytest.mark.unit

RAIN = "Дожди в Казани\n\nВ Казани третий день идут сильные дожди, сообщает Example.ru."
SNOW = "Снег в Омске\n\nВ Омске выпал первый снег, пишет Другое.рф."


def document(source, text, **meta) -> Document:
    first = text.index("\n\n")
    return Document(source=source, title=text[:first], date=meta.pop("date", None), dateline=None, text=text,
                    paragraphs=[(0, first), (first + 2, len(text))], sha256="0", headings=[(0, first)], **meta)


DOCS = {
    "rain.html": document("rain.html", RAIN, date="2025-10-02", outlet="Example.ru", author="Иван Петров"),
    "snow.html": document("snow.html", SNOW, date="2024-11-05", date_inferred=True, outlet="Другое.рф"),
}


def evidence(source, heading=False, score=0.9) -> Evidence:
    doc = DOCS[source]
    a, b = doc.paragraphs[0 if heading else 1]
    return Evidence(source, a, b, doc.text[a:b], score, score, 0.5, 0, heading, doc.text, doc.section(a))


@pytest.mark.parametrize(
    "question, field",
    [
        ("Когда вышла статья о дождях?", "date"),
        ("Когда была опубликована новость о снеге?", "date"),
        ("Какое издание опубликовало статью о дождях?", "outlet"),
        ("Как называется статья о снеге?", "title"),
        ("Кто автор статьи о дождях?", "author"),
        ("When was the article about rain published?", "date"),
        ("Когда начались дожди в Казани?", None),
        ("Какое агентство сообщило о дождях?", "outlet"),
    ],
)
def test_questions_about_a_document_are_told_from_questions_about_its_topic(question, field):
    got = asked_field(question)
    assert (got[0] if got else None) == field


def test_the_date_is_answered_from_metadata_and_cited_to_the_title():
    answer = about_document("Когда вышла статья о дождях?", [evidence("snow.html"), evidence("rain.html")], DOCS)
    assert answer.answer == "2 октября 2025" and not answer.abstained
    c = answer.citations[0]
    assert (c.source, c.quote, c.start, c.end) == ("rain.html", "Дожди в Казани", 0, 14)  # the exact title span


def test_the_outlet_a_question_names_picks_the_document():
    answer = about_document("Когда вышла статья Другое о первом снеге?", [evidence("rain.html"), evidence("snow.html")], DOCS)
    assert answer.answer == "5 ноября 2024 (год определён по тексту)"


def test_a_topic_no_document_holds_is_not_answered_from_metadata():
    assert about_document("Когда вышла статья о погоде на Марсе?", [evidence("rain.html")], DOCS) is None
    assert about_document("Где идут дожди?", [evidence("rain.html")], DOCS) is None  # not about the document


def test_a_missing_field_falls_back_to_the_text():
    assert about_document("Кто автор статьи о снеге?", [evidence("snow.html")], DOCS) is None


def test_topic_words_drop_document_nouns_and_outlet_names_and_match_by_stem():
    assert sorted(topic_terms(" статья Example о дождях", {"Example.ru"})) == ["дожд"]
    assert holds_topic(frozenset({"беженец"}), "о размещении беженцев") and not holds_topic(frozenset(), "x")


def test_human_dates():
    assert human_date("2024-04-03") == "3 апреля 2024"
    assert human_date("2021-09-16", inferred=True) == "16 сентября 2021 (год определён по тексту)"
    assert human_date(None) == ""


def test_citations_carry_their_documents_title_date_outlet_and_section():
    doc = DOCS["rain.html"]
    a, b = doc.paragraphs[1]
    answer = cite(Answer("q", "a", False, [Citation("rain.html", doc.text[a:b], a, b, 0.9)]), DOCS)
    c = answer.citations[0]
    assert (c.title, c.date, c.outlet, c.heading) == ("Дожди в Казани", "2025-10-02", "Example.ru", "Дожди в Казани")


def test_a_heading_is_never_the_answer():
    """«Дожди в Казани» names the topic of «Где идут дожди?»; the sentence under it answers."""
    a = asked("Где идут дожди?", 1.0, Settings())
    assert not not_a_heading(a, evidence("rain.html", heading=True))
    assert list(candidates(a, [evidence("rain.html", heading=True), evidence("rain.html")])) == [evidence("rain.html")]
