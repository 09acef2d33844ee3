"""The extraction worker pool (one process per core, started early and warmed up), and the
jobs and results that cross into and out of it.

Extraction is most of a crawl's CPU, so it runs in worker processes while Scrapy fetches in the
main one. Workers come from a "forkserver": the parent runs a Twisted reactor and threads, which
makes forking it unsafe, and "spawn" would re-import everything in every worker. The forkserver
imports the extraction modules once and forks ready workers from that clean process.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import forkserver, spawn
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from storage.prepare import PreparedArticle
    from storage.records import ArticleRecord

logger = logging.getLogger(__name__)

# Imports the workers' modules and builds their shared state from what `start_forkserver` names.
_PRELOAD = ["crawler.worker_preload"]
# What the forkserver preloads, read by crawler.worker_preload: the crawl's rules file, and the
# crawl's main script (see `start_forkserver`).
PRELOAD_RULES_VARIABLE = "NEWSWATCH_PRELOAD_RULES"
PRELOAD_MAIN_VARIABLE = "NEWSWATCH_PRELOAD_MAIN"


RulesIdentity = tuple[str, int, int]


def rules_file_identity(path: str | Path) -> RulesIdentity:
    """Path, modification time and size of a rules file: preloaded rules are reused only by
    workers of a pool that found the file the same. (Its gazetteer files are not looked at.)"""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return str(resolved), stat.st_mtime_ns, stat.st_size


@dataclass(frozen=True, slots=True)
class PageJob:
    source: str
    run_id: int | None
    url: str  # canonical URL that was requested
    response_url: str  # canonical URL after redirects
    body: bytes
    content_type: str | None
    language_hint: str | None
    hint_published: datetime | None
    min_text_chars: int


@dataclass(frozen=True, slots=True)
class ProcessedArticle:
    """An extracted, filtered article with its storage row already prepared (hash, compression)."""

    prepared: PreparedArticle

    @property
    def record(self) -> ArticleRecord:
        return self.prepared.record


@dataclass(frozen=True, slots=True)
class SkippedPage:
    reason: str


def process_in_worker(job: PageJob) -> ProcessedArticle | SkippedPage:
    """`crawler.processing.process_page`, submitted by this name so that the crawl process never
    imports the extraction modules (trafilatura, htmldate, justext: 0.03 s of its start, and
    their memory); the workers have them preloaded."""
    from crawler.processing import process_page

    return process_page(job)


class WorkerPool:
    def __init__(self, workers: int, rules_path: Path) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.rules_path = str(rules_path)
        # Taken once, at the crawl's start: workers forked after a restart keep the same rules.
        self.rules_identity = rules_file_identity(rules_path)
        self._executor: ProcessPoolExecutor | None = None
        self._warming: list[Future[None]] = []
        self._starter: threading.Thread | None = None

    @property
    def executor(self) -> ProcessPoolExecutor:
        if self._starter is None:
            self.start()
        assert self._starter is not None
        self._starter.join()
        assert self._executor is not None
        return self._executor

    def start(self) -> None:
        """Start the processes in the background: the forkserver imports while Scrapy starts.

        The forkserver is started with this pool's rules preloaded, unless it runs already
        (`newswatch crawl` starts it sooner, before it imports Scrapy)."""
        if self._starter is None:
            start_forkserver(Path(self.rules_path))
            self._starter = threading.Thread(target=self._start, name="newswatch-pool-start")
            self._starter.start()

    def _start(self) -> None:
        context = _forkserver_context()
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(self.rules_path, self.rules_identity, os.getpid()),
        )
        # One no-op per worker makes the pool start all its processes now, not on first use.
        self._warming = [self._executor.submit(_ready) for _ in range(self.workers)]
        logger.debug("Started %d extraction workers", self.workers)

    def wait_ready(self) -> None:
        self.executor  # noqa: B018 (joins the starter thread)
        wait(self._warming)

    def restart(self) -> None:
        """After a worker died (out of memory, killed): a broken pool accepts no more work."""
        self.shutdown(wait=False)
        self.start()

    def shutdown(self, wait: bool = True) -> None:
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor = None


def _forkserver_context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def start_forkserver(rules_path: Path | None = None) -> None:
    """Start the workers' forkserver now: it imports the extraction modules (0.4 s) on another
    core while this process goes on loading Scrapy and the storage layer, so the pool forks
    its workers from it without waiting (they were ready 0.1 to 0.2 s after Scrapy when the
    pool started the forkserver, measured on the bulk benchmark). Does not wait for it.

    With `rules_path`, the forkserver also compiles those rules and warms the extraction up
    once (`crawler.processing.preload`): every worker forked from it starts hot. It also
    stands in for this process's main script (the `newswatch` console script): multiprocessing
    runs it again in every child that does not already have it, which cost each worker 0.15 s
    of imports (the CLI, click, pydantic) before its first page, and the workers need nothing
    from it (`crawler.worker_preload`). Does nothing if this process's forkserver is already
    running.
    """
    _forkserver_context()
    preload = {
        PRELOAD_MAIN_VARIABLE: _main_script_path(),
        PRELOAD_RULES_VARIABLE: "" if rules_path is None else str(rules_path),
    }
    # The forkserver reads them from the environment it starts with (and removes them); each
    # set, or removed when empty, for that start only, so that no other child inherits them.
    previous = {name: os.environ.get(name) for name in preload}
    for name, value in preload.items():
        _set_variable(name, value or None)
    try:
        forkserver.ensure_running()
    finally:
        for name, earlier in previous.items():
            _set_variable(name, earlier)


def _set_variable(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _main_script_path() -> str:
    """The script multiprocessing would run again in each child ("" for none: `python -c`, or
    a main run as a module with `-m`, which it imports by name instead)."""
    data = spawn.get_preparation_data("newswatch")
    return str(data.get("init_main_from_path", ""))


def _init_worker(rules_path: str, rules_identity: RulesIdentity, crawl_pid: int) -> None:
    """In each worker: build its extraction state, then freeze the objects it started with.

    Imported here, not at the top: this module stays light, so that a crawl can start its
    pool before importing Scrapy; the forkserver has preloaded `crawler.processing` anyway.
    Frozen objects are left out of garbage collections, which would otherwise walk every
    preloaded module's objects again (0.1 ms a page, measured).
    """
    from crawler import processing

    processing.init_worker(rules_path, rules_identity, crawl_pid)
    gc.freeze()


def _ready() -> None:
    """A no-op task: once it returns, the worker has imported everything and built its state."""


_current: WorkerPool | None = None


@contextlib.contextmanager
def shared_pool(pool: WorkerPool) -> Iterator[WorkerPool]:
    """Start `pool` now and offer it to the crawl's pipeline (same process); shut it down after.

    Scrapy deep-copies its settings, so a live pool cannot travel in them.
    """
    global _current
    pool.start()
    _current = pool
    try:
        yield pool
    finally:
        _current = None
        pool.shutdown()


def current_pool() -> WorkerPool | None:
    return _current
