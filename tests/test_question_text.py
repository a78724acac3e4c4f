"""Which texts can be read as a question (pipeline.question_problem): made-up examples."""
import pytest

from rag.pipeline import question_problem


@pytest.mark.parametrize("question", ["Где пройдёт саммит?", "Кто такой Йозеф Ёлкин?", "What is SCO?", "Где\tсаммит?\n", "Café́?"])
def test_plain_questions_pass(question):
    assert question_problem(question) is None


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ("Где \ud800 саммит?", "суррогатных"),
        ("Где\x00саммит?", "управляющие"),
        ("\x1b[31mГде?", "управляющие"),
        ("🙂🙂🙂", "нет ни одного слова"),
        ("2024?! …", "нет ни одного слова"),
        ("Г̷̢̛д̸̡̛е̵̢̛ ̶с̷̢а̷̛м̷̡", "надстрочными"),
    ],
)
def test_unreadable_questions_say_why(question, says):
    assert says in question_problem(question)
