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


GUIDE = """<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Сборка пакетов вручную</title></head>
<body><main><article><h1>Сборка пакетов вручную</h1>
<p>Эта страница рассказывает, как собрать программу из исходного кода без помощи мастеров и готовых сценариев.</p>
<p>Для работы с генератором сценариев сборки поставьте такие пакеты:</p>
<ul><li>autoconf</li><li>automake</li><li>libtool</li></ul>
<p>Остальные пакеты поставятся сами, когда вы начнете сборку командой make в каталоге программы.</p>
</article></main></body></html>"""


@pytest.fixture(scope="module")
def guide_rag(tmp_path_factory, seed_settings, embedder):
    from tests.conftest import seeds_plus

    return seeds_plus(tmp_path_factory, seed_settings, embedder, "guide.html", GUIDE)


def test_a_list_is_quoted_with_the_sentence_that_introduces_it(guide_rag):
    answer = guide_rag.ask("Какие пакеты поставить для работы с генератором сценариев сборки?")
    assert not answer.abstained, answer
    quote = answer.citations[0].quote
    assert quote.startswith("Для работы с генератором") and all(p in quote for p in ("autoconf", "automake", "libtool")), quote
    assert "Остальные" not in quote  # the list ends where a sentence begins
