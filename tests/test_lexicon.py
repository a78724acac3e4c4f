"""Colloquial words and fillers (rag/data/colloquial.toml), on made-up questions with words the seeds never use,
and one article indexed for real that only the spelled-out words find."""
import pytest
from conftest import seeds_plus

from rag.retrieve.lexicon import expand, table


@pytest.mark.parametrize(("question", "searched"), [
    ("что решил совбез Молдовы?", "что решил совет безопасности Молдовы?"),
    ("что сказали в совбезе Молдовы?", "что сказали в совет безопасности Молдовы?"),  # any case of the noun
    ("кого назначили замминистра транспорта?", "кого назначили заместитель министра транспорта?"),
    ("что говорит минздрав про грипп", "что говорит министерство здравоохранения про грипп"),
    ("короче, где выступал госсекретарь?", "где выступал государственный секретарь?"),  # a filler and its comma go
    ("ну и чё там с нацбанком", "и что там с национальный банк"),
    ("Каво наградили на фестивале?", "кого наградили на фестивале?"),  # spoken spelling of a question word
    ("Когда откроется выставка, подскажите, пожалуйста?", "Когда откроется выставка?"),
])
def test_colloquial_words_are_spelled_out_and_fillers_dropped(question, searched):
    assert expand(question) == searched


@pytest.mark.parametrize("question", [
    "Где прошла сессия ОДКБ?",  # nothing colloquial: the question as asked, case and all
    "Что сказал Минин?",  # «мин…» is a key's start, not a key: no match by prefix alone
    "ну?",  # nothing left to search: the question checks answer it
    "Кто такой Че Гевара?",  # a short key («че») only in lowercase: capitalised, it is a name
])
def test_other_questions_are_left_as_asked(question):
    assert expand(question) == question


def test_a_word_the_articles_use_stays_as_written():
    assert expand("что заявил генсек ООН?", corpus_words={"генсек"}) == "что заявил генсек ООН?"
    assert expand("что заявил генсек ООН?") == "что заявил генеральный секретарь ООН?"


def test_every_key_is_lowercase_and_no_form_collides_with_another_key():
    forms, fillers, acronyms = table()
    assert all(f == f.lower() for f in forms) and all(f == f.lower() for f in fillers)
    assert not set(forms) & fillers
    assert all(a == a.upper() for a in acronyms)  # acronyms are matched as written


def test_an_acronym_is_spelled_out_unless_the_articles_write_it():
    assert expand("Что сказал глава МИД Дании?") == "Что сказал глава министерства иностранных дел Дании?"
    assert expand("Что сказал глава МИД Дании?", corpus_words={"мид"}) == "Что сказал глава МИД Дании?"
    assert expand("Где мид?") == "Где мид?"  # lowercase is no acronym


MOLDOVA = """Совет безопасности Молдовы ввел режим повышенной готовности

КИШИНЕВ, 4 фев — Совет безопасности Молдовы на заседании во вторник ввел режим повышенной готовности на границе.
Решение принято после консультаций с министерством внутренних дел, сообщила пресс-служба.
"""


@pytest.fixture(scope="module")
def moldova_rag(tmp_path_factory, seed_settings, embedder, seed_rag):
    return seeds_plus(tmp_path_factory, seed_settings, embedder, "moldova.txt", MOLDOVA)


def test_a_colloquial_question_finds_the_article_that_spells_the_words_out(moldova_rag):
    answer = moldova_rag.ask("ну и чё решил совбез Молдовы на заседании?")
    assert not answer.abstained and answer.citations[0].source == "moldova.txt", answer
    assert "повышенной готовности" in answer.answer
    assert moldova_rag.gather("ну и чё решил совбез Молдовы на заседании?").query == "и что решил совет безопасности Молдовы на заседании?"
