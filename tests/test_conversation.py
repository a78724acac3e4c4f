"""Follow-up questions: the subject of earlier turns is carried over, without an LLM."""
import pytest

from rag.errors import QuestionError
from rag.serve import conversation
from rag.answer.followup import is_follow_up, resolve

SHOS = "001_6b3bc755e8fe2ed9.txt"


def user(*questions):
    return [{"role": "user", "content": q} for q in questions]


@pytest.mark.parametrize(
    "question, history, expected",
    [
        ("А когда?", user("Где пройдет саммит ШОС?"), "Когда пройдет саммит ШОС?"),
        ("Кто об этом заявил?", user("Где пройдет саммит ШОС?"), "Кто заявил: пройдет саммит ШОС?"),
        ("Кто об этом заявил?", user("Где пройдет саммит ШОС?", "А когда?"), "Кто заявил: пройдет саммит ШОС?"),
        ("А когда?", user("В каком городе прошла сессия ОДКБ?"), "Когда прошла сессия ОДКБ?"),
        ("А в каком году?", user("Сколько конфликтов было в мире?"), "В каком году конфликтов было в мире?"),
        ("Что он сказал?", user("Кто генеральный секретарь ОДКБ?"), "Что сказал: генеральный секретарь ОДКБ?"),
        ("And when?", user("Where will the SCO summit be held?"), "When will the SCO summit be held?"),
    ],
)
def test_follow_ups_get_the_earlier_subject(question, history, expected):
    assert is_follow_up(question)
    assert resolve(question, history) == expected


@pytest.mark.parametrize(
    "question, history",
    [
        ("Кто генеральный секретарь ОДКБ?", user("Где пройдет саммит ШОС?")),  # a subject of its own
        ("А сколько стоит биткоин?", user("Где пройдет саммит ШОС?")),  # "а", but a new subject
        ("А когда?", []),  # nothing to carry over
        ("А когда?", [{"role": "assistant", "content": "Где пройдет саммит ШОС?"}]),  # only the user's turns count
        ("", user("Где пройдет саммит ШОС?")),
    ],
)
def test_standalone_questions_are_left_alone(question, history):
    assert resolve(question, history) == question


def test_only_the_latest_subject_is_carried():
    history = user("Где пройдет саммит ШОС?", "Кто генеральный секретарь ОДКБ?")
    assert resolve("А что он сказал?", history) == "Что сказал: генеральный секретарь ОДКБ?"


def test_follow_up_is_answered_about_the_earlier_subject(seed_rag):
    answer = conversation.ask(seed_rag, "Кто об этом заявил?", user("Где пройдет саммит ШОС?"))
    assert answer.question == "Кто заявил: пройдет саммит ШОС?"
    assert not answer.abstained and answer.citations[0].source == SHOS and "Казахстан" in answer.answer


@pytest.mark.parametrize("bad", ["", "   ", "вопрос " * 200])
def test_bad_questions_are_refused_even_with_history(seed_rag, bad):
    with pytest.raises(QuestionError):
        conversation.ask(seed_rag, bad, user("Где пройдет саммит ШОС?"))
