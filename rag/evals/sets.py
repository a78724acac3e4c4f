"""Which question sets a run evaluates, each with its corpus and index: eval/sets.toml, or --dataset values."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from rag.config import ROOT
from rag.errors import EvalInputError

SETS_FILE = ROOT / "eval" / "sets.toml"
KEYS = {"dataset", "corpus", "index"}


@dataclass(frozen=True)
class EvalSet:
    """A question set; corpus and index None: the run's own (--corpus / --index)."""

    name: str
    dataset: Path
    corpus: Path | None = None
    index: Path | None = None


def read_sets(path: Path = SETS_FILE) -> list[EvalSet]:
    """Every set of a sets file, paths resolved against the repository root (the file's parent's parent)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise EvalInputError(f"cannot read the sets file {path} ({e}): give a TOML file like eval/sets.toml") from e
    root = path.resolve().parent.parent
    sets = []
    for name, table in data.items():
        if not isinstance(table, dict) or "dataset" not in table or not set(table) <= KEYS:
            raise EvalInputError(f"{path}: [{name}] needs `dataset` and may hold only {', '.join(sorted(KEYS))}")
        paths = {k: (root / table[k]).resolve() if k in table else None for k in KEYS}
        sets.append(EvalSet(name, paths["dataset"], paths["corpus"], paths["index"]))
    return sets


def pick(specs: list[str], known: list[EvalSet]) -> list[EvalSet]:
    """The sets named by --dataset values: a set's name ("test"), a dataset path (its corpus and index from
    the sets file when listed there), or `path:corpus_dir[:index_dir]`. No values: every known set."""
    if not specs:
        return known
    by_name = {s.name: s for s in known}
    by_path = {s.dataset.resolve(): s for s in known}
    picked = []
    for spec in specs:
        if spec in by_name:
            picked.append(by_name[spec])
            continue
        path, *dirs = spec.split(":")
        if len(dirs) > 2 or not path:
            raise EvalInputError(f"--dataset {spec!r}: give a set name ({', '.join(by_name)}), a path, or path:corpus_dir[:index_dir]")
        listed = by_path.get(Path(path).resolve())
        corpus = Path(dirs[0]) if dirs else (listed.corpus if listed else None)
        index = Path(dirs[1]) if len(dirs) > 1 else (listed.index if listed and not dirs else None)
        picked.append(EvalSet(listed.name if listed else Path(path).stem, Path(path), corpus, index))
    if len(names := [s.name for s in picked]) != len(set(names)):
        raise EvalInputError(f"--dataset names a set twice ({', '.join(names)}): give each set once")
    return picked
