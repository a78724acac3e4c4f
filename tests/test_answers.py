"""The whole pipeline on the seeds: known answers with the right file cited, abstention off-corpus."""
import json
from pathlib import Path

import pytest

from rag.errors import QuestionError

QUESTIONS = [json.loads(line) for line in (Path(__file__).parent / "data" / "questions.jsonl").open(encoding="utf-8")]
ANSWERABLE = [q for q in QUESTIONS if q["answerable"]]
UNANSWERABLE = [q for q in QUESTIONS if not q["answerable"]]


def folded(s: str) -> str:
    return s.lower().replace("ё", "е").replace("–", "-").replace("—", "-")


# Gates with the margin of eval/thresholds.toml: two questions below the measured count, so one unlucky question
# does not fail the suite and a real regression does. Measured: 28 of 30 (t10 and t22 are abstained on).
MEASURED_RIGHT = 28  # key facts right, and top citations in a gold file: both 28 of 30
MIN_RIGHT = MEASURED_RIGHT - 2


def test_answers_carry_the_key_fact(seed_rag):
    misses = []
    for q in ANSWERABLE:
        answer = seed_rag.ask(q["question"])
        right = not answer.abstained and all(
            any(folded(k) in folded(answer.answer) for k in alternatives) for alternatives in q["keys"]
        )
        if not right:
            misses.append(f"{q['id']} {q['question']!r} → {answer.answer[:120]!r}")
    print("\n".join(["misses:"] + misses))
    assert len(ANSWERABLE) - len(misses) >= MIN_RIGHT, misses


def test_top_citation_is_a_file_that_holds_the_answer(seed_rag):
    """Every answerable question counts: an abstention has no top citation, so it is a miss here too
    (a skip would hide it)."""
    misses = []
    for q in ANSWERABLE:
        answer = seed_rag.ask(q["question"])
        if answer.abstained or answer.citations[0].source not in q["sources"]:
            misses.append(f"{q['id']} {q['question']!r} → {'abstained' if answer.abstained else answer.citations[0].source}")
    print("\n".join(["misses:"] + misses))
    assert len(ANSWERABLE) - len(misses) >= MIN_RIGHT, misses


@pytest.mark.parametrize("q", UNANSWERABLE, ids=[q["id"] for q in UNANSWERABLE])
def test_out_of_corpus_questions_are_abstained_on(seed_rag, q):
    answer = seed_rag.ask(q["question"])
    assert answer.abstained, (q["question"], answer.answer)
    assert answer.answer == "В статьях нет ответа на этот вопрос." and answer.citations == []


def test_every_quote_is_an_exact_substring_of_the_cited_cleaned_text(seed_rag):
    docs = seed_rag.index.documents
    cited = 0
    for q in ANSWERABLE:
        citations = seed_rag.ask(q["question"]).citations
        cited += bool(citations)
        assert [c.score for c in citations] == sorted((c.score for c in citations), reverse=True)
        for c in citations:
            assert docs[c.source].text[c.start : c.end] == c.quote
    assert cited >= MIN_RIGHT


def test_json_contract(seed_rag):
    out = seed_rag.ask("Где прошла сессия ОДКБ?").to_dict()
    assert set(out) == {"question", "answer", "abstained", "citations", "timings_ms"}
    assert set(out["citations"][0]) == {"source", "quote", "start", "end", "score", "title", "date", "outlet", "heading"}
    assert out["timings_ms"]["total"] > 0


@pytest.mark.parametrize("bad", ["", "   \n\t", "вопрос " * 500])
def test_empty_or_overlong_questions_are_refused(seed_rag, bad):
    with pytest.raises(QuestionError):
        seed_rag.ask(bad)


def test_answer_drops_a_dangling_quote_mark_while_the_citation_stays_exact(seed_rag):
    answer = seed_rag.ask("Какое число региональных и локальных конфликтов было отмечено в мире за прошлый год?")
    assert answer.answer.startswith("За прошлый год в мире было отмечено 183")
    assert answer.citations[0].quote.startswith('"За прошлый год в мире было отмечено 183')


def test_a_how_many_question_is_answered_by_the_number_and_cited_by_the_whole_sentence(seed_rag):
    answer = seed_rag.ask("Сколько региональных и локальных конфликтов было отмечено в мире за прошлый год?")
    assert answer.answer == "183 региональных и локальных конфликта"
    assert answer.citations[0].quote.startswith('"За прошлый год в мире было отмечено 183 региональных')


def test_a_sentence_opening_with_a_demonstrative_is_quoted_with_its_antecedent(seed_rag):
    answer = seed_rag.ask("За какой период показатель числа конфликтов стал наивысшим?")
    assert "Это наивысший показатель за последние три десятилетия" in answer.answer
    assert "183 региональных" in answer.answer  # what "Это" refers to


def test_numbers_the_question_names_must_be_in_the_passage(seed_rag):
    assert not seed_rag.ask("Какая программа принята на 2025-2027 годы?").abstained
    assert seed_rag.ask("Какая программа принята на 2031-2035 годы?").abstained


@pytest.mark.parametrize("q", ["В какой организации работает Мирманова?", "Какую организацию представляет Ассоль Мирманова?"])
def test_which_organisation_is_answered_by_a_sentence_that_names_one(seed_rag, q):
    # Without the check, sentences about her interview or «организации встречи» won: they name no organisation.
    assert "Контртеррористический комитет" in seed_rag.ask(q).answer


def test_a_year_in_a_sentence_sharing_no_word_with_the_question_is_not_an_answer(seed_rag):
    # Her article gives no year for the interview; «Центральная Азия – 2040» (a strategy named in a sentence
    # that shares no word with the question) used to be the answer.
    assert seed_rag.ask("В каком году Мирманова дала интервью El.kz?").abstained
