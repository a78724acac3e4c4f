"""`rag serve --watch`: the corpus folder is watched (inotify through watchfiles) and a burst of changes to its
articles becomes one incremental build, once the folder has been quiet for `watch_quiet_ms`."""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import PurePath

import watchfiles

from rag.config import Settings
from rag.errors import RagError
from rag.ingest.corpus import PATTERNS
from rag.serve import logs

ARTICLE_SUFFIXES = frozenset(p.removeprefix("*") for p in PATTERNS)  # the formats the corpus reads


class ArticleFilter(watchfiles.DefaultFilter):
    """Changes to article files only: not hidden files (an upload's temporary file, an editor's swap file), not
    other formats. `ArticleFilter()(Change.added, "/news/a.txt")` is True, for "/news/.a.txt.part" False."""

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        p = PurePath(path)
        if p.name.startswith("."):
            return False
        # A removed folder takes its articles with it; its name has no suffix to check.
        return super().__call__(change, path) and (p.suffix in ARTICLE_SUFFIXES or change == watchfiles.Change.deleted)


def describe(changes: set[tuple[watchfiles.Change, str]]) -> str:
    """What changed, for the build log: `added a.txt, modified b.txt`."""
    return ", ".join(sorted(f"{change.name} {PurePath(path).name}" for change, path in changes))


def watch_corpus(settings: Settings, reindex: Callable[[str], object], stop: threading.Event) -> None:
    """Call `reindex(what changed)` after each quiet burst of article changes, until `stop` is set."""
    quiet = settings.watch_quiet_ms
    for changes in watchfiles.watch(
        settings.corpus_dir, watch_filter=ArticleFilter(), step=quiet, debounce=max(1600, 4 * quiet),
        stop_event=stop, raise_interrupt=False,
    ):
        try:
            reindex(describe(changes))
        except RagError as e:  # say the last article was removed: the old build keeps serving, the watch goes on
            logs.event("build_failed", error=str(e))
        except Exception as e:  # a full disk, a surprise: reported, and the next change is tried again
            logs.event("build_failed", error=f"{type(e).__name__}: {e}")
