"""Which sets a run evaluates (eval/sets.toml, --dataset values), the bootstrap intervals, and calibration's cut."""
from pathlib import Path

import pytest

from rag.errors import EvalInputError
from rag.evals.calibrate import Cut, best_cut
from rag.evals.intervals import intervals
from rag.evals.metrics import Scored
from rag.evals.sets import EvalSet, pick, read_sets

ROOT = Path(__file__).resolve().parent.parent


def test_the_sets_file_lists_the_ten_sets_with_the_second_corpus_on_its_own_index():
    sets = {s.name: s for s in read_sets()}
    assert list(sets) == ["dev", "test", "contrast", "maint-guide", "maint-dev", "factoid-dev", "blind-seeds", "blind-guide", "blind2-seeds", "blind2-guide"]
    assert all(s.dataset.is_file() for s in sets.values())
    assert sets["dev"].corpus is None and sets["dev"].index is None  # the run's own corpus and index
    assert sets["factoid-dev"].corpus is None
    assert sets["maint-guide"].corpus.name == "maint-guide-ru" and sets["maint-guide"].index.name == "maint-guide"
    assert (sets["maint-dev"].corpus, sets["maint-dev"].index) == (sets["maint-guide"].corpus, sets["maint-guide"].index)


def test_dataset_values_pick_sets_by_name_path_or_path_with_folders():
    known = read_sets()
    assert pick([], known) == known
    assert [s.name for s in pick(["test", "contrast"], known)] == ["test", "contrast"]
    by_path = pick([str(ROOT / "eval" / "maint-guide.jsonl")], known)[0]
    assert by_path == next(s for s in known if s.name == "maint-guide")  # its corpus and index from the file
    own = pick(["my.jsonl:/data/news:/data/idx"], known)[0]
    assert own == EvalSet("my", Path("my.jsonl"), Path("/data/news"), Path("/data/idx"))
    with pytest.raises(EvalInputError, match="names a set twice"):
        pick(["dev", str(ROOT / "eval" / "dev.jsonl")], known)
    with pytest.raises(EvalInputError, match="path:corpus_dir"):
        pick(["a:b:c:d"], known)


def test_a_broken_sets_file_is_refused(tmp_path):
    path = tmp_path / "sets.toml"
    path.write_text("[dev]\ncorpus = 'x'\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"\[dev\] needs `dataset`"):
        read_sets(path)


def scored(i: int, answerable: bool, right: bool) -> Scored:
    return Scored(f"q{i}", answerable, abstained=not right if answerable else right, rank=1 if right else None,
                  keys_ok=answerable and right, f1=0.0, top_citation_ok=answerable and right, gold_citations=0, citations=0, latency_ms=1.0)


def test_intervals_are_seeded_hold_the_value_and_narrow_with_more_questions():
    small = [scored(i, True, i % 4 != 0) for i in range(20)] + [scored(100 + i, False, i % 2 == 0) for i in range(6)]
    large = small * 5
    a, b = intervals(small), intervals(small)
    assert a == b  # reproducible
    lo, hi = a["key_fact_accuracy"]
    assert lo <= 0.75 <= hi and hi - lo > 0.2
    lo5, hi5 = intervals(large)["key_fact_accuracy"]
    assert hi5 - lo5 < hi - lo
    assert a["abstention_recall"][0] <= 0.5 <= a["abstention_recall"][1]


def test_intervals_of_a_share_without_questions_are_none():
    assert intervals([scored(1, True, True)])["abstention_recall"] is None


def test_calibration_reports_the_margin_between_answerable_and_unanswerable():
    threshold, correct = best_cut([(0.9, True), (0.8, True), (0.6, False), (0.85, False)])
    assert correct == 3 and 0.6 < threshold <= 0.8
    cut = Cut("russian", threshold, correct, 4, lowest_answerable=0.8, highest_unanswerable=0.85, wrong=("k1",), current=0.7, current_correct=2)
    assert cut.margin == pytest.approx(-0.05)  # a near miss above an answer: no threshold separates them
