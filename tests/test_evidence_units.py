"""Evidence units: a sentence that points back («это…», «подобные подходы») is scored and quoted with the sentence
before it. Made-up sentences for the pattern; the seeds for the quote a reader gets."""
import pytest

from rag.retrieve.retriever import ANAPHOR


@pytest.mark.parametrize("sentence", [
    "Это наивысший показатель за десять лет.",  # a demonstrative opening the sentence
    "Да, это наша общая задача.",
    "Потенциал этого центра не раскрыт.",
    "Здесь мы видим подводные камни, отметил министр.",  # «здесь», «тут»: the place the sentence before named
    "Но тут есть сложности.",
    "Министр заявил, что страна отвергает подобные попытки.",  # a word that only points back, anywhere
    "Он отметил, что указанные меры помогут бюджету.",
])
def test_a_sentence_that_points_back_is_joined_to_the_one_before(sentence):
    assert ANAPHOR.match(sentence)


@pytest.mark.parametrize("sentence", [
    "Министр заявил, что бюджет вырастет на пять процентов.",
    "Программа принята в 2020 году и рассчитана на пять лет.",
    "Министр заявил, что это важно для бюджета.",  # «это» deep in a sentence is usually its own subject
    "Министр заявил, что здесь будет построен завод.",
])
def test_a_sentence_that_stands_alone_is_quoted_alone(sentence):
    assert not ANAPHOR.match(sentence)


def test_the_quote_carries_what_the_word_points_back_to(seed_rag):
    answer = seed_rag.ask("Какие подходы и попытки Токаев категорически отвергает?")
    assert not answer.abstained and "разделить" in answer.answer and "подобные подходы" in answer.answer, answer
