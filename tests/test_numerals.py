"""Numbers and ordinals as values (rag/answer/numerals.py), on made-up sentences."""
from rag.answer import numerals


def test_numbers_are_whole_tokens_and_ordinals_are_not_numbers():
    assert numerals.numbers("на 2025–2027 годы, 5 стран, 6-я встреча") == ["2025", "2027", "5"]
    assert "5" not in numerals.numbers("в 2025 году")
    assert numerals.numbers("рост на 3,5 процента") == ["3.5"]


def test_ordinals_in_digits_words_and_english_have_one_value():
    assert numerals.ordinals("6-я встреча") == numerals.ordinals("шестой встречи") == numerals.ordinals("the sixth meeting") == {6}
    assert numerals.ordinals("15-го числа") == {15}
    assert numerals.ordinals("в 2025 году пять стран") == set()


def test_a_set_phrase_with_an_ordinal_word_counts_nothing():
    assert numerals.ordinals("Какой сорт нужно посадить в первую очередь?") == set()  # "above all"
    assert numerals.ordinals("На первый взгляд, вторая теплица пустует.") == {2}  # the phrase goes, the rest counts
    assert numerals.ordinals("В первую смену работали двое.") == {1}  # «в первую» outside the phrase is a first


def test_naskolko_with_a_verb_of_change_asks_by_how_much_and_a_noun_after_a_preposition_is_not_counted():
    assert numerals.HOW_MANY.search("Насколько выросли за год цены на хлеб?")
    assert not numerals.HOW_MANY.search("Насколько важна для города новая набережная?")  # how important, no number
    assert numerals.counted_noun("Насколько выросли за год цены на хлеб?") is None  # «за год» is when, not what
    assert numerals.counted_noun("Сколько мостов построили за год?") == "мост"


def test_cardinals_in_words_have_their_value():
    assert numerals.cardinals("Подпись ограничьте шестьюдесятью знаками, заголовок — двадцатью пятью.") == ["60", "25"]
    assert numerals.cardinals("Пришли три тысячи зрителей и сто двадцать гостей.") == ["3000", "120"]  # «сто», not СТО
    assert numerals.cardinals("Один из гостей опоздал.") == []  # «один из» counts nothing
