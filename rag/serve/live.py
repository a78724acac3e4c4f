"""The server follows the index: whoever publishes a build (`rag index` in another process, this server's own
watch or upload, another host sharing the folder), it is loaded in the background and swapped in between
requests. A request takes `live.rag` once and finishes on that build; the old build is dropped with its last
request, which unmaps its files."""
from __future__ import annotations

import gc
import os
import threading
import time
from dataclasses import dataclass

from rag.config import Settings
from rag.encode.embedder import Embedder
from rag.errors import RagError
from rag.index import build as index_mod
from rag.pipeline import RAG
from rag.serve import logs
from rag.serve.watch import watch_corpus


@dataclass(frozen=True)
class Serving:
    """What /api/health says about the build being served."""

    build: str
    since: float  # time.time() of the swap
    published: str | None  # the build `current` points at now (one readlink)
    error: str | None  # why the newest published build could not be loaded (the old one still serves)
    stale: str | None  # a stage config differs from the build's: the next `rag index` re-runs it


class Live:
    """Owns the current RAG and swaps in newly published builds; one attribute assignment is the swap."""

    def __init__(self, rag: RAG):
        self.settings: Settings = rag.settings
        self.embedder: Embedder = rag.embedder
        self._rag, self._since = rag, time.time()
        self._error: tuple[str, str] | None = None  # (build that failed to load, why)
        self._stages = index_mod.stage_configs(self.settings, self.embedder)  # once: it hashes the rule files
        self._swap = threading.Lock()  # one load at a time
        self._build = threading.Lock()  # one build at a time in this process (flock orders it with others)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def rag(self) -> RAG:
        """The build to answer from; take it once per request, so the request ends on the build it began on."""
        return self._rag

    def published(self) -> str | None:
        """The store's newest published build: one readlink of `current` (or one query of a PostgreSQL store),
        no corpus access."""
        try:
            return self._rag.index.published_version() or None
        except OSError:
            return None

    def serving(self) -> Serving:
        rag, published = self._rag, self.published()
        error = self._error[1] if self._error and self._error[0] == published else None
        manifest_stages = rag.index.manifest.get("stages", {})
        stale = next((f"the {name} stage changed since the build: run `rag index`" for name, config in self._stages.items()
                      if manifest_stages.get(name) != config), None)
        return Serving(rag.index.version, self._since, published, error, stale)

    def refresh(self) -> bool:
        """Load and swap in the published build if it is not the one serving; True when it swapped. A build
        that cannot be loaded leaves the old one serving (and is not retried until another is published)."""
        with self._swap:
            target = self.published()
            if target is None or target == self._rag.index.version or (self._error and self._error[0] == target):
                return False
            t0 = time.perf_counter()
            try:
                new = RAG(self.settings, self.embedder)
            except RagError as e:
                if target == self.published():  # else a newer build replaced it mid-load: the next check takes that
                    self._error = (target, str(e))
                    logs.event("load_failed", build=target, error=str(e))
                return False
            old, self._rag, self._since, self._error = self._rag, new, time.time(), None
        loaded = time.perf_counter() - t0
        try:  # from the moment `current` was swapped on disk to now
            lag = time.time() - os.lstat(self.settings.index_dir / index_mod.CURRENT).st_mtime
        except OSError:
            lag = loaded
        logs.event("swap", build=new.index.version, previous=old.index.version, documents=len(new.index.documents),
                  chunks=len(new.index.chunks), load_ms=round(loaded * 1000, 1), lag_ms=round(lag * 1000, 1))
        del old
        gc.collect()  # a cycle holding the old Index would keep its mapped files
        return True

    def reindex(self, why: str) -> index_mod.BuildReport:
        """Index the corpus folder's changes (incrementally) and swap the result in at once."""
        with self._build:
            report = index_mod.build(self.settings, self.embedder, progress=False)
        for problem in report.problems:
            logs.event("skipped", file_problem=problem)
        logs.event("build", why=why, published=report.published, documents=report.documents, chunks=report.chunks,
                  embedded=report.embedded_chunks, seconds=round(report.seconds, 2))
        self.refresh()
        return report

    def start(self) -> Live:
        """Start following the index (every `index_poll_seconds`) and, with `watch`, the corpus folder."""
        if self.settings.index_poll_seconds > 0:
            self._spawn(self._poll, "rag-follow-index")
        if self.settings.watch:
            self._spawn(lambda: watch_corpus(self.settings, self.reindex, self._stop), "rag-watch-corpus")
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(5)

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _poll(self) -> None:
        while not self._stop.wait(self.settings.index_poll_seconds):
            try:
                self.refresh()
            except Exception as e:  # the follower must outlive any surprise; the old build keeps serving
                logs.event("follow_failed", error=f"{type(e).__name__}: {e}")
