"""Named entities found at index time (natasha's NER, the real model): their spans, how documents keep them, and that
the evidence a question is answered from carries them (through the real build: seed_rag)."""
from dataclasses import asdict

from rag.ingest.corpus import Document, load_document
from rag.ingest.entities import spans, tagged


def named(text: str, found: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    return [(text[a:b], kind) for a, b, kind in found]


def test_people_places_and_organisations_are_tagged_by_their_spans():
    text = "Министр Иван Петров прибыл в Минск на заседание ООН."
    found = named(text, spans(text, [(0, len(text))]))
    assert ("Иван Петров", "PER") in found and ("Минск", "LOC") in found and ("ООН", "ORG") in found


def test_a_latin_name_is_no_person_and_no_span_runs_across_paragraphs():
    text = "Лента новостей\n\nЭксперт Иван Петров выступил, сообщает Tengrinews."
    paragraphs = [(0, 14), (16, len(text))]
    found = spans(text, paragraphs)
    assert ("Tengrinews", "PER") not in named(text, found)
    assert all(a >= 16 or b <= 14 for a, b, _ in found)  # within one paragraph
    assert ("Иван Петров", "PER") in named(text, found)


def test_a_document_keeps_its_spans_through_the_store_and_finds_those_of_a_sentence(tmp_path):
    (tmp_path / "note.txt").write_text("Заголовок заметки\n\nВ среду Анна Смирнова посетила Казань. Потом она уехала в Самару.\n",
                                       encoding="utf-8")
    assert load_document(tmp_path / "note.txt", tmp_path).entities == []  # reading alone runs no model
    (tmp_path / "other.txt").write_text("Пётр Иванов живёт в Омске.\n", encoding="utf-8")
    doc, other = tagged([load_document(tmp_path / name, tmp_path) for name in ("note.txt", "other.txt")])  # as the build does
    assert named(other.text, other.entities) == [("Пётр Иванов", "PER"), ("Омске", "LOC")]  # batched together, kept apart
    assert ("Анна Смирнова", "PER") in named(doc.text, doc.entities)
    again = Document.from_dict(asdict(doc))  # as the file store and PostgreSQL save and load it (JSON)
    assert again == doc
    second = doc.text.index("Потом")
    assert named(doc.text, doc.entities_in(second, len(doc.text))) == [("Самару", "LOC")]


def test_the_evidence_of_an_answer_carries_the_spans_of_its_sentence(seed_rag):
    gathered = seed_rag.gather("Кто рассказал о приоритетах регионального сближения?")
    best = gathered.evidence[0]
    assert ("Ассоль Мирманова", "PER") in named(best.text, list(best.entities))
    answer = seed_rag.ask("Кто рассказал о приоритетах регионального сближения?")
    assert answer.answer == "политолог Ассоль Мирманова" and "Мирманова" in answer.citations[0].quote
