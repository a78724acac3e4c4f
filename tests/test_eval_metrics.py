"""Eval metric functions on small hand-made cases whose right values are worked out by hand."""
import pytest

from rag.evals.dataset import Question
from rag.evals.metrics import (
    gold_rank,
    keys_matched,
    normalise,
    percentile,
    quote_verified,
    ranked_files,
    recall_at,
    reciprocal_rank,
    score,
    summarise,
    token_f1,
)

TEXTS = {"a.txt": "Саммит пройдёт в Астане 9 августа.", "b.txt": "Стратегия «Центральная Азия – 2040» принята."}


def test_normalise_folds_case_yo_quotes_dashes_and_spaces():
    assert normalise("  Ёлка\u00a0«Центральная Азия – 2040» — “да”  ") == 'елка "центральная азия - 2040" - "да"'


@pytest.mark.parametrize(
    ("answer", "keys", "right"),
    [
        ("В Астане, 9 августа.", [["астан"], ["9 августа"]], True),
        ("В Астане.", [["астан"], ["9 августа"]], False),  # every group must match
        ("В Алматы.", [["Астан", "Алматы"]], True),  # any alternative of a group
        ('Стратегия "Центральная Азия - 2040"', [["«Центральная Азия – 2040»"]], True),
        ("поддержал принятие трёх соглашений", [["ТРЕХ"]], True),
        ("Душанбе", [["Женев"]], False),
    ],
)
def test_key_facts(answer, keys, right):
    assert keys_matched(answer, keys) is right


@pytest.mark.parametrize(
    ("prediction", "reference", "f1"),
    [
        ("в Астане 9 августа", "9 августа, в Астане.", 1.0),
        ("саммит пройдет в Астане", "в Астане", 2 * 0.5 * 1.0 / 1.5),  # precision 2/4, recall 2/2
        ("да да", "да", 2 * 0.5 * 1.0 / 1.5),  # repeated words count once per occurrence in the reference
        ("Душанбе", "Женева", 0.0),
        ("", "Женева", 0.0),
    ],
)
def test_token_f1(prediction, reference, f1):
    assert token_f1(prediction, reference) == pytest.approx(f1)


def test_retrieval_ranks_are_by_file_not_by_chunk():
    ranked = ranked_files(["b.txt", "b.txt", "a.txt", "b.txt", "c.txt"])
    assert ranked == ["b.txt", "a.txt", "c.txt"]
    assert gold_rank(ranked, ["c.txt", "a.txt"]) == 2
    assert gold_rank(ranked, ["d.txt"]) is None
    assert (recall_at(2, 1), recall_at(2, 3), recall_at(None, 5)) == (0.0, 1.0, 0.0)
    assert (reciprocal_rank(1), reciprocal_rank(2), reciprocal_rank(None)) == (1.0, 0.5, 0.0)


def test_quote_verification_checks_the_exact_span():
    good = {"source": "a.txt", "quote": "Астане", "start": 17, "end": 23}
    assert quote_verified(good, TEXTS)
    assert not quote_verified({**good, "start": 16, "end": 22}, TEXTS)  # right words, wrong place
    assert not quote_verified({**good, "source": "x.txt"}, TEXTS)
    assert not quote_verified({**good, "quote": "", "start": 17, "end": 17}, TEXTS)


def test_percentiles_interpolate():
    assert percentile([400, 100, 300, 200], 50) == 250
    assert percentile([100, 200, 300, 400], 95) == pytest.approx(385)  # 300 + 0.85 · 100
    assert percentile([], 50) is None


def q(qid, answerable, keys=(), sources=(), answer="В статьях нет ответа."):
    return Question(qid, "?", answer, [list(k) for k in keys], list(sources), answerable)


def pred(answer, abstained=False, citations=(), total=10.0):
    return {"answer": answer, "abstained": abstained, "citations": list(citations), "timings_ms": {"total": total}}


def cite(source, quote, start, end):
    return {"source": source, "quote": quote, "start": start, "end": end, "score": 1.0}


def test_an_abstention_scores_zero_even_if_its_text_holds_a_key():
    s = score(q("x", True, [["нет ответа"]], ["a.txt"], "нет ответа"), pred("В статьях нет ответа.", abstained=True), ["a.txt"], TEXTS)
    assert (s.keys_ok, s.f1, s.top_citation_ok, s.failed) == (False, 0.0, False, True)


def test_summary_of_four_hand_made_questions():
    scored = [
        # right answer, two citations: one gold at its span, one non-gold with a wrong span
        score(q("q1", True, [["Астан"]], ["a.txt"], "В Астане."),
              pred("Саммит пройдёт в Астане 9 августа.", citations=[cite("a.txt", "Астане", 17, 23), cite("b.txt", "Стратегия", 1, 10)], total=10),
              ["a.txt", "b.txt"], TEXTS),
        # false abstention; the gold file was retrieved second
        score(q("q2", True, [["2040"]], ["b.txt"], "2040"), pred("В статьях нет ответа.", abstained=True, total=20), ["a.txt", "b.txt"], TEXTS),
        score(q("q3", False), pred("В статьях нет ответа.", abstained=True, total=30), ["a.txt"], TEXTS),  # right abstention
        score(q("q4", False), pred("Саммит пройдёт в Астане.", citations=[cite("a.txt", "Саммит", 0, 6)], total=40), ["a.txt"], TEXTS),
    ]
    m = summarise(scored)
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (4, 2, 2)
    assert (m["recall_at_1"], m["recall_at_3"], m["recall_at_5"], m["mrr"]) == (0.5, 1.0, 1.0, 0.75)
    assert m["key_fact_accuracy"] == 0.5
    assert m["token_f1"] == pytest.approx((2 * (2 / 6) * 1.0 / (2 / 6 + 1.0) + 0.0) / 2)  # "в астане" of 6 words; abstention 0
    assert m["top_citation_correct"] == 0.5
    assert m["gold_citation_share"] == 0.5  # of the answerable questions' citations: 1 of 2
    assert (m["quotes_checked"], m["quotes_unverified"]) == (3, 1)
    assert (m["abstention_precision"], m["abstention_recall"]) == (0.5, 0.5)  # abstained on q2, q3; q3 right
    assert (m["false_abstentions"], m["answered_unanswerable"]) == (1, 1)
    assert (m["latency_p50_ms"], m["latency_p95_ms"]) == (25.0, pytest.approx(38.5))
    assert [s.id for s in scored if s.failed] == ["q1", "q2", "q4"]  # q1 only for its misplaced quote


def test_factoid_answer_length_counts_answered_factoid_questions_only():
    def factoid(qid, answer, kind, abstained=False):
        question = Question(qid, "?", "Астана", [["Астан"]], ["a.txt"], True, type=kind)
        return score(question, pred(answer, abstained=abstained), ["a.txt"], TEXTS)

    scored = [factoid("p", "в Астане", "place"), factoid("d", "9 августа 2025 года", "date"),
              factoid("s", "Саммит пройдёт в Астане, как решили лидеры.", "statement"),  # not a factoid
              factoid("a", "В статьях нет ответа на этот вопрос.", "person", abstained=True)]  # not answered
    assert summarise(scored)["factoid_answer_chars_p50"] == (len("в Астане") + len("9 августа 2025 года")) / 2


def test_an_answer_shorter_than_its_quote_counts_as_a_phrase():
    sentence = "Саммит пройдёт в Астане."
    phrase = score(q("p", True, [["Астан"]], ["a.txt"]), pred("в Астане", citations=[cite("a.txt", sentence, 0, 24)]), [], TEXTS)
    whole = score(q("w", True, [["Астан"]], ["a.txt"]), pred(sentence, citations=[cite("a.txt", sentence, 0, 24)]), [], TEXTS)
    dashed = score(q("d", True, [["Астан"]], ["a.txt"]), pred(sentence, citations=[cite("a.txt", "— " + sentence, 0, 26)]), [], TEXTS)
    assert (phrase.short, whole.short, dashed.short) == (True, False, False)  # a quote's leading dash is no phrase
    assert summarise([phrase, whole, dashed])["short_answers"] == 1


def test_metrics_without_questions_to_measure_are_none():
    m = summarise([score(q("q", True, [["Астан"]], ["a.txt"]), pred("в Астане"), [], TEXTS)])
    assert m["abstention_precision"] is None and m["abstention_recall"] is None
    assert m["gold_citation_share"] is None and m["recall_at_5"] == 0.0
