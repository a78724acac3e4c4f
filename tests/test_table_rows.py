"""The word-embedding table's rows: a question reads its rows without mapping the table into the server's memory
(the soak's RSS grew with every new word while the table was memory-mapped), a batch gathers from the map."""
from pathlib import Path

import numpy as np
import pytest

from rag.encode.onnx_encoder import PREAD_ROWS, Rows

pytestmark = pytest.mark.unit


def mapped_kb(path: Path) -> int:
    """Resident kB of this process's mappings of `path` (/proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if not line.split()[0].endswith(":"):  # a mapping's first line: addresses … path
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


@pytest.fixture
def table(tmp_path):
    values = np.random.default_rng(0).standard_normal((8192, 64)).astype(np.float32)  # 2 MB
    np.save(tmp_path / "table.npy", values)
    return tmp_path / "table.npy", values


def test_a_question_s_rows_are_read_not_mapped(table):
    path, values = table
    rows = Rows(path)
    ids = np.array([[3, 17, 3, 8000, 0]])
    got = rows[ids]
    assert got.shape == (1, 5, 64) and got.dtype == np.float32
    assert np.array_equal(got, values[ids])
    assert mapped_kb(path) == 0


def test_a_batch_gathers_from_the_map_with_the_same_rows(table):
    path, values = table
    rows = Rows(path)
    ids = np.arange(PREAD_ROWS + 1).reshape(1, -1) * 7 % len(values)
    assert np.array_equal(rows[ids], values[ids])
    assert mapped_kb(path) > 0  # the check above would also see a mapped read


def test_a_table_that_is_not_2d_is_refused_with_what_to_do(tmp_path):
    from rag.errors import EmbedderError

    np.save(tmp_path / "t.npy", np.zeros(10, np.float32))
    with pytest.raises(EmbedderError, match="convert the model again"):
        Rows(tmp_path / "t.npy")
