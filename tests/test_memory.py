"""The server's heap bound: glibc found, its arenas limited and freed pages trimmed by a thread of their own."""
import threading

import pytest

from rag.serve import memory

pytestmark = pytest.mark.unit


def test_the_heap_bound_is_set_on_glibc_and_trims_in_a_thread():
    assert memory.bound_heap(every=0.05) is True  # this machine (Debian) has glibc: the tuning must not be skipped
    assert any(t.name == "malloc-trim" and t.daemon for t in threading.enumerate())
