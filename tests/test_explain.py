"""`rag ask --explain` on made-up sentences (no model), and against `decide()` on the real pipeline: the explanation
must describe the decision that was made, not a parallel one."""
import json

from rag.answer.explain import explain, render
from rag.answer.extract import decide
from rag.config import Settings
from rag.retrieve.retriever import Evidence

SETTINGS = Settings()


def evidence(text: str, score: float = 1.0, overlap: float = 1.0) -> Evidence:
    return Evidence("made-up.txt", 0, len(text), text, score, score, overlap, 1, False, text)


def test_the_first_rule_that_rejects_each_candidate_is_named_and_the_winner_cut_short():
    found = [evidence("Встреча министров прошла в Астане."), evidence("Встреча министров прошла 9 мая в Астане.")]
    x = explain("Когда прошла встреча министров?", found, 1.0, SETTINGS)
    assert [v.rejected_by for v in x.verdicts] == ["time_for_when", None]
    assert x.chosen == 1 and not x.abstained and x.refused_by is None
    assert (x.phrase_rule, x.phrase) == ("short_date", "9 мая")
    shown = render(x)
    assert "✗ time_for_when" in shown and "→ chosen" in shown and "«9 мая» by short_date" in shown
    assert "asks for: time_for_when" in shown


def test_a_weak_winner_is_refused_by_the_answer_rule():
    x = explain("Когда прошла встреча министров?", [evidence("Встреча министров прошла 9 мая.", score=0.01)], 1.0, SETTINGS)
    assert x.chosen == 0 and x.refused_by == "confident" and x.abstained
    assert "failed confident" in render(x)


def test_no_candidate_at_all_abstains_and_says_so():
    x = explain("Сколько участников приехало?", [evidence("Участники приехали из разных городов.")], 1.0, SETTINGS)
    assert x.chosen is None and x.abstained and "no candidate passed" in render(x)


def test_a_switched_off_rule_is_not_consulted():
    settings = Settings(disabled_rules=["time_for_when"])
    x = explain("Когда прошла встреча министров?", [evidence("Встреча министров прошла в Астане.")], 1.0, settings)
    assert x.chosen == 0 and x.verdicts[0].rejected_by is None


def test_the_explanation_matches_the_decision_on_every_dev_question(seed_rag):
    """Same rules, same order: the chosen sentence is the answer's first citation, an abstention is one in both."""
    questions = [json.loads(line)["question"] for line in open("eval/dev.jsonl", encoding="utf-8")]
    assert len(questions) >= 40
    for q in questions:
        g = seed_rag.gather(q)
        x, answer = explain(g.query, g.evidence, g.coverage, seed_rag.settings), decide(g.query, g.evidence, g.coverage, seed_rag.settings)
        assert x.abstained == answer.abstained, q
        if not answer.abstained:
            assert x.verdicts[x.chosen].text == answer.citations[0].quote, q
            assert (x.phrase or None) in (None, answer.answer) and (not x.phrase or x.phrase == answer.answer), q
