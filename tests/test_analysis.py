"""BM25 terms: every inflected form of a Russian word maps to one term."""
from rag.index.analysis import terms


def one_term(*forms: str) -> set[str]:
    return {t for f in forms for t in terms(f)}


def test_noun_cases_match_the_nominative():
    assert len(one_term("саммит", "саммита", "саммите", "саммитом", "саммиты")) == 1
    assert len(one_term("конфликт", "конфликтов", "конфликта", "конфликтами")) == 1


def test_surnames_fold_across_cases():
    assert len(one_term("Токаев", "Токаева", "Токаеву", "Токаевым", "токаеве")) == 1
    assert len(one_term("Мирманова", "Мирмановой")) == 1


def test_latin_lookalike_letters_inside_russian_words():
    assert terms("cоветов") == terms("советов")  # the first "c" is Latin, as in seed 001


def test_case_yo_and_stopwords():
    assert terms("Ёлка и ёлки в Москве") == terms("елка елки москва")
    assert terms("и в на по что") == []


def test_numbers_and_english_words_survive():
    assert terms("2025-2027 годы, SCO summits") == ["2025", "2027", "год", "sco", "summit"]
