"""The dataset validator against the seeds' cleaned texts, and the shipped eval set's own promises."""
import json
import re
from pathlib import Path

import pytest

from rag.errors import EvalInputError
from rag.evals.dataset import load_dataset, parse, shared_questions
from rag.ingest.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ODKB = "003_83e2e03ee03bef0d.txt"
GOOD = {"id": "g1", "question": "Где прошла сессия ОДКБ?", "answer": "В Душанбе.", "keys": [["Душанбе"]], "sources": [ODKB], "answerable": True}
TRAP = {"id": "g2", "question": "Какой курс доллара?", "answer": "Нет ответа.", "keys": [], "sources": [], "answerable": False}


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    docs, _ = load_corpus(SEEDS)
    return {d.source: d.text for d in docs}


def write(tmp_path: Path, *lines) -> Path:
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    return path


def test_a_good_dataset_loads(tmp_path, texts):
    questions = load_dataset(write(tmp_path, GOOD, "", TRAP), texts)
    assert [(q.id, q.answerable, q.keys, q.sources) for q in questions] == [("g1", True, [["Душанбе"]], [ODKB]), ("g2", False, [], [])]


def test_keys_are_found_after_normalising_quotes_dashes_and_yo(tmp_path, texts):
    line = {**GOOD, "keys": [['"центральная азия - 2040"'], ["ТРЁХ МЕЖДУНАРОДНЫХ"]], "sources": ["000_46e3a591079cfa77.txt", ODKB]}
    assert load_dataset(write(tmp_path, line), texts)[0].keys == line["keys"]


def test_one_alternative_of_a_key_group_is_enough(tmp_path, texts):
    """An inflected alternative («Душанбинской») may stand beside the text's own form («Душанбе»)."""
    line = {**GOOD, "keys": [["Душанбе", "Душанбинской"]], "type": "place", "style": "plain", "pair": "p1",
            "history": [{"role": "user", "content": "Где прошла сессия?"}]}
    q = load_dataset(write(tmp_path, line), texts)[0]
    assert (q.keys, q.type, q.style, q.pair, q.history) == (line["keys"], "place", "plain", "p1", line["history"])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{broken", "line 1: not valid JSON"),
        ("[1, 2]", "line 1: not a JSON object"),
        ({k: v for k, v in GOOD.items() if k != "keys"}, "line 1: missing field 'keys'"),
        ({k: v for k, v in GOOD.items() if k not in ("id", "answer")}, "missing field 'id'; line 1: missing field 'answer'"),
        ({**GOOD, "answerable": "yes"}, "field 'answerable' must be bool, not str"),
        ({**GOOD, "sources": ODKB}, "field 'sources' must be list, not str"),
        ({**GOOD, "keys": [["Душанбе"], []]}, "'keys' must be a list of non-empty lists"),
        ({**GOOD, "keys": ["Душанбе"]}, "'keys' must be a list of non-empty lists"),
        ({**GOOD, "question": "  "}, "empty 'id' or 'question'"),
        ({**GOOD, "keys": []}, "an answerable question needs at least one key group and one source"),
        ({**TRAP, "sources": [ODKB]}, "an unanswerable question has no keys and no sources"),
        ({**GOOD, "sources": ["999_nowhere.txt"]}, "line 1 (g1): unknown source file '999_nowhere.txt'"),
        ({**GOOD, "keys": [["Душанбе"], ["Берлин"]]}, "key 'Берлин': no alternative occurs in its sources"),
        ({**GOOD, "keys": [["Берлин", "Париж"]]}, "key 'Берлин' / 'Париж': no alternative occurs"),
        # Бишкек is in 001, not in the one source listed: the key must be in a listed source
        ({**GOOD, "keys": [["Бишкек"]]}, "key 'Бишкек': no alternative occurs in its sources"),
        # site furniture (the currency widget) is cleaned away, so it cannot be a key
        ({**GOOD, "keys": [["Курс валют"]]}, "key 'Курс валют': no alternative occurs in its sources"),
        ({**GOOD, "type": "weather"}, "'type' 'weather' is none of person, organisation"),
        ({**GOOD, "style": 3}, "field 'style' must be str, not int"),
        ({**GOOD, "history": [{"role": "bot", "content": "x"}]}, "'history' must be a list of"),
    ],
)
def test_malformed_lines_are_rejected_with_a_clear_message(tmp_path, texts, line, message):
    with pytest.raises(EvalInputError) as e:
        load_dataset(write(tmp_path, line), texts)
    assert message in str(e.value) and "\n" not in str(e.value)
    assert e.value.exit_code == 2


def test_every_problem_is_reported_at_once_with_its_line(tmp_path, texts):
    with pytest.raises(EvalInputError) as e:
        load_dataset(write(tmp_path, GOOD, "{broken", {**GOOD, "sources": ["x.txt"]}), texts)
    msg = str(e.value)
    assert "3 problem(s)" in msg and "line 2: not valid JSON" in msg
    assert "line 3 (g1): unknown source file 'x.txt'" in msg and "line 3 (g1): duplicate id 'g1'" in msg


def test_an_empty_or_missing_dataset_is_refused(tmp_path, texts):
    with pytest.raises(EvalInputError, match="no questions"):
        load_dataset(write(tmp_path, ""), texts)
    with pytest.raises(EvalInputError, match="cannot read dataset"):
        load_dataset(tmp_path / "missing.jsonl", texts)


# The shipped sets: what the issue promises about them, checked so that edits cannot quietly break them.
EVAL = ROOT / "eval"
SEED_SETS = ["dev", "test", "contrast", "calibration", "calibration-nearmiss"]
# Question sets in the eval format (tests/data/dialogues.jsonl holds multi-turn dialogues for the chat tests, not questions).
ALL_SETS = sorted(EVAL.glob("*.jsonl")) + sorted(p for p in (ROOT / "tests" / "data").glob("*.jsonl") if p.name != "dialogues.jsonl")


def test_the_seed_sets_are_valid_and_cover_what_the_issue_asks(texts):
    sets = {name: load_dataset(EVAL / f"{name}.jsonl", texts) for name in SEED_SETS}
    dev = sets["dev"]
    assert len(dev) >= 60 and sum(not q.answerable for q in dev) >= 10
    assert sum(not re.search("[а-яё]", q.question, re.IGNORECASE) for q in dev) >= 3
    assert {s for q in dev for s in q.sources} == set(texts)  # every article
    assert sum(len(q.sources) > 1 for q in dev) >= 3  # facts found in two articles
    test = sets["test"]
    assert {"colloquial", "typo", "english", "followup", "near_miss"} <= {q.style for q in test}
    assert {"definition", "list", "reason", "how"} <= {q.type for q in test}
    assert all(q.history for q in test if q.style == "followup")
    pairs = {}
    for q in sets["contrast"]:
        pairs.setdefault(q.pair, []).append(q.answerable)
    assert all(sorted(p) == [False, True] for p in pairs.values()) and len(pairs) >= 15  # a paraphrase and its near miss
    assert sum(q.style == "near_miss" and not q.answerable for q in sets["calibration-nearmiss"]) >= 8


def test_the_second_corpus_set_is_well_formed():
    """maint-guide.jsonl is grounded in HTML files, checked against them once the ingest stage reads HTML
    (`rag eval` skips it until then); its lines are checked here already."""
    parsed = [parse(line) for line in (EVAL / "maint-guide.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [problems for _, problems in parsed if problems] == []
    questions = [q for q, _ in parsed]
    assert len(questions) >= 40 and sum(not q.answerable for q in questions) >= 8
    seeds = sum(len((EVAL / f"{n}.jsonl").read_text(encoding="utf-8").splitlines()) for n in ("test", "contrast"))
    assert len(questions) + seeds >= 150  # the held-out questions, the issue's "at least 150 in all"


def test_no_set_shares_a_question_or_a_one_word_edit_of_one_with_another():
    """A trap written as a one-word edit of a test question («…секретарь ОДКБ?» → «…секретарь ШОС?») in another
    set would let one set leak into the other; within a set (contrast pairs) they are the point."""
    sets = {str(p.relative_to(ROOT)): [json.loads(line)["question"] for line in p.read_text(encoding="utf-8").splitlines() if line.strip()] for p in ALL_SETS}
    assert len(sets) >= 7
    assert shared_questions(sets) == []


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("Кто генеральный секретарь ОДКБ?", "Кто генеральный секретарь ШОС?", True),  # one word replaced
        ("Где прошла сессия ОДКБ?", "Где прошла сессия?", True),  # one word left out
        ("Где прошла сессия?", "Где прошла сессия ОДКБ в Душанбе?", False),
        ("«Где» прошла сессия ОДКБ?", "где прошла сессия одкб", True),  # case and quotes do not count
    ],
)
def test_one_word_edits_are_caught(a, b, near):
    assert bool(shared_questions({"x": [a], "y": [b]})) is near
    assert shared_questions({"x": [a, b]}) == []  # within one set
