"""Requests put as the questions they are (rag/retrieve/imperative.py), on made-up requests with words the seeds
never use, and the answer kind the rules then read from them."""
import pytest

from rag.answer.asked import asked
from rag.config import Settings
from rag.retrieve.imperative import as_question


@pytest.mark.parametrize(("request_", "question"), [
    ("Назовите страну, где прошёл фестиваль джаза.", "Какую страну, где прошёл фестиваль джаза?"),
    ("Перечислите основные угрозы пчеловодству", "Какие основные угрозы пчеловодству?"),  # a modifier before the noun
    ("Укажите документ, подписанный в Осло", "Какой документ, подписанный в Осло?"),
    ("Назовите министра сельского хозяйства Чили", "Как зовут министра сельского хозяйства Чили?"),  # a person
    ("Назовите мне всех призёров регаты", "Кто из всех призёров регаты?"),  # people, no role: «призёр» need not stand by a name
    ("Укажите год основания обсерватории", "В каком году основания обсерватории?"),  # the object is what is asked
    ("Назовите имя капитана парома", "Как зовут капитана парома?"),
    ("Укажите количество участников регаты", "Сколько участников регаты?"),
    ("Укажите, когда открылся планетарий", "Когда открылся планетарий?"),  # a question after the verb
    ("Расскажите, почему закрыли планетарий", "Почему закрыли планетарий?"),
    ("Расскажите о регате в Гданьске", "Что известно о регате в Гданьске?"),
    ("Name the country where the regatta took place", "Which country where the regatta took place?"),
    ("Tell me why the planetarium closed", "Why the planetarium closed?"),
])
def test_a_request_is_read_as_its_question(request_, question):
    assert as_question(request_) == question


@pytest.mark.parametrize("question", [
    "Где прошёл фестиваль джаза?",  # a question already
    "Назовите",  # a request with nothing to ask about
    "Названия каких рек упомянуты?",  # «назв…» is no naming verb
    "List",
])
def test_other_questions_are_left_as_asked(question):
    assert as_question(question) == question


@pytest.mark.parametrize(("request_", "kind"), [
    ("Назовите страну, где прошёл фестиваль джаза", "place_for_which_place"),
    ("Назовите министра сельского хозяйства Чили", "person_for_who"),
    ("Перечислите призёров регаты в Гданьске", "person_for_who"),
    ("Укажите год основания обсерватории", "year_for_what_year"),
    ("Укажите количество участников регаты", "number_for_how_many"),
    ("Назовите организацию, которая провела регату", "name_for_which_organisation"),
])
def test_the_rules_read_the_requests_kind(request_, kind):
    assert kind in asked(as_question(request_), 1.0, Settings()).kinds
