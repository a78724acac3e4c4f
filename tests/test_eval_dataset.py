"""The dataset validator against the seeds' cleaned texts, and the shipped eval set's own promises."""
import json
import re
from pathlib import Path

import pytest

from rag.errors import EvalInputError
from rag.evals.dataset import load_dataset, normalise
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
        ({**GOOD, "keys": [["Душанбе"], ["Берлин"]]}, "key 'Берлин' occurs in none of its sources"),
        # Бишкек is in 001, not in the one source listed: the key must be in a listed source
        ({**GOOD, "keys": [["Бишкек"]]}, "key 'Бишкек' occurs in none of its sources"),
        # site furniture (the currency widget) is cleaned away, so it cannot be a key
        ({**GOOD, "keys": [["Курс валют"]]}, "key 'Курс валют' occurs in none of its sources"),
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


# The shipped eval set: what the issue promises about it, checked so that edits cannot quietly break it.
DATASET = ROOT / "eval" / "dev.jsonl"


def questions_of(path: Path) -> set[str]:
    return {normalise(json.loads(line)["question"]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def test_the_eval_set_is_valid_and_covers_what_the_issue_asks(texts):
    questions = load_dataset(DATASET, texts)
    unanswerable = [q for q in questions if not q.answerable]
    english = [q for q in questions if not re.search("[а-яё]", q.question, re.IGNORECASE)]
    assert len(questions) >= 60 and len(unanswerable) >= 10 and len(english) >= 3
    assert {s for q in questions for s in q.sources} == set(texts)  # every article
    assert sum(len(q.sources) > 1 for q in questions) >= 3  # facts found in two articles


def test_the_eval_set_shares_no_question_with_the_tests_or_the_calibration_set():
    eval_questions = questions_of(DATASET)
    assert not eval_questions & questions_of(ROOT / "tests" / "data" / "questions.jsonl")
    assert not eval_questions & questions_of(ROOT / "eval" / "calibration.jsonl")
