"""Runs one crawl with Scrapy and returns its recorded run. It does no parsing itself.

`run_crawl` crawls in this process (the `newswatch crawl` command); `run_crawl_in_child` runs
the same crawl in a fresh child process, as the daemon does: a new Twisted reactor each time,
memory handed back when it ends, a wall-clock limit, and a clean stop on request.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.collection import collection_paused, rarer_collections
from crawler.filter.rules import load_rules_file
from crawler.workers import WorkerPool, shared_pool
from storage.errors import CrawlLockedError, NewswatchError, StorageError
from storage.locks import crawl_lock
from storage.records import RunStats
from storage.repository import Repository

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Sequence
    from multiprocessing.connection import Connection

    from crawler.config import Config
    from storage.records import RunView

logger = logging.getLogger(__name__)


def check_before_crawl(config: Config, source_names: Sequence[str]) -> None:
    """Fail fast, before any request: bad source names, bad rules, unreachable database."""
    config.select_sources(list(source_names))
    # Loading validates the rules; compiling them (what the workers do) finds no more errors
    # and would cost this process 0.08 s of the crawl's start.
    load_rules_file(config.rules_path())
    Repository(config.database.url).close()


def run_crawl(
    config: Config,
    source_names: Sequence[str] = (),
    *,
    extra_settings: dict[str, Any] | None = None,
) -> RunView:
    """Crawl the chosen sources (all by default) once, in this process, and return the run.

    Meant for a process of its own (`newswatch crawl`, the daemon's child): it installs a
    Twisted reactor, and leaves the objects it built out of later garbage collections.
    """
    check_before_crawl(config, source_names)
    with crawl_lock(config.database.url):
        # Under the lock: a refused crawl starts no workers. The pool before Scrapy: its
        # forkserver imports the extraction modules on another core while this process imports
        # Scrapy, so the workers are ready when the first article arrives (they were 0.4 s
        # late, measured on 500 pages). `newswatch crawl` has started the forkserver already.
        pool = WorkerPool(config.crawl.workers, config.rules_path())
        with shared_pool(pool):
            with Repository(config.database.url) as repository:
                abandoned = repository.close_abandoned_runs()
            if abandoned:
                logger.warning(
                    "%d earlier crawl(s) had been killed; marked as interrupted", abandoned
                )
            run_id = _crawl_with_scrapy(config, source_names, extra_settings or {})
    if run_id is None:
        raise StorageError("the crawl ended before its run could be recorded; see the log above")
    with Repository(config.database.url) as repository:
        return repository.get_run(run_id)


def _crawl_with_scrapy(
    config: Config, source_names: Sequence[str], extra_settings: dict[str, Any]
) -> int | None:
    """Run the Scrapy crawl; returns the id of the run its pipeline recorded, if any."""
    with collection_paused():
        # Imported here, once the worker pool is starting (see `run_crawl`).
        from scrapy.crawler import CrawlerProcess
        from scrapy.settings import Settings

        from crawler.crawl_settings import build_settings
        from crawler.pipelines import RUN_ID_KEY
        from crawler.scrapy_imports import import_download_handler
        from crawler.spiders.news import NewsSpider

        import_download_handler()

        settings = Settings(
            {**build_settings(config), "LOG_INSTALL_ROOT_HANDLER": False, **extra_settings}
        )
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(NewsSpider)
        process.crawl(crawler, source=",".join(source_names))
    # What exists now (modules, Scrapy's components) lives as long as the process: frozen as
    # the pause ended, it is left out of the crawl's full garbage collections (0.1 s each), and
    # what the crawl leaves behind out of the collection at exit (0.3 s), as measured on 500
    # pages.
    with rarer_collections():
        process.start()
    gc.freeze()
    assert crawler.stats is not None
    run_id = crawler.stats.get_value(RUN_ID_KEY)
    return None if run_id is None else int(run_id)


# Seconds a stopping crawl gets to close cleanly (its figures recorded) before it is killed;
# the daemon promises to be gone within 10 s of SIGTERM.
STOP_GRACE = 6.0
# Past `[crawl] max_duration`, Scrapy closes the crawl itself; this much more is allowed for
# that close (in-flight downloads, extraction) before the child is stopped from outside.
CLOSE_ALLOWANCE = 30.0
_POLL = 0.2


@dataclass(frozen=True, slots=True)
class CrawlOutcome:
    """How a crawl in a child process ended.

    `status` is the run's (ok, failed, interrupted, timeout), or "locked" when another crawl
    held the database and nothing ran. `run` is None when no run could be recorded.
    """

    status: str
    run: RunView | None
    message: str | None
    seconds: float


def run_crawl_in_child(
    config: Config,
    source_names: Sequence[str] = (),
    *,
    stop: threading.Event | None = None,
    time_limit: float | None = None,
    child_setup: Callable[[], object] | None = None,
) -> CrawlOutcome:
    """Crawl in a fresh child process and wait for it, stopping it on `stop` or after the limit.

    Args:
        time_limit: wall-clock seconds before the child is stopped; default `[crawl]
            max_duration` plus the time Scrapy needs to close after it.
        child_setup: called first in the child (a picklable callable: logging set-up).
    """
    limit = time_limit if time_limit is not None else _hard_limit(config)
    context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(config, tuple(source_names), sender, child_setup),
        name="newswatch-crawl",
    )
    started = time.monotonic()
    child.start()
    sender.close()
    ended_by = _watch(child, started + limit, stop)
    report = _read_report(receiver)
    if report is None and child.pid is not None:
        # Died without a word (killed, crashed): its extraction workers may outlive it. Its
        # group id stays reserved while any member lives, so this reaches only our processes.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
    seconds = time.monotonic() - started
    if report is not None and report[0] == "done" and report[1] is not None:
        with Repository(config.database.url) as repository:
            finished = repository.get_run(report[1])
        return CrawlOutcome(finished.status, finished, None, seconds)
    if report is not None and report[0] == "locked":
        return CrawlOutcome("locked", None, str(report[2]), seconds)
    if ended_by is None:  # the child ended on its own, without a run to show
        message = str(report[2]) if report is not None else f"exit code {child.exitcode}"
        return CrawlOutcome(
            "failed", _record_failure(config, source_names, message), message, seconds
        )
    status = "timeout" if ended_by == "timeout" else "interrupted"
    run = _close_killed_run(config, status)
    message = (
        f"stopped after {limit:.0f}s ([crawl] max_duration {config.crawl.max_duration}s)"
        if status == "timeout"
        else "stopped: newswatch is shutting down"
    )
    return CrawlOutcome(status, run, message, seconds)


def _read_report(receiver: Connection) -> tuple[str, int | None, str | None] | None:
    """The child's last word, or None when it died without one."""
    try:
        if receiver.poll():
            report: tuple[str, int | None, str | None] = receiver.recv()
            return report
    except (EOFError, OSError):
        pass
    finally:
        receiver.close()
    return None


def _hard_limit(config: Config) -> float:
    return config.crawl.max_duration + config.crawl.download_timeout + CLOSE_ALLOWANCE


def _watch(
    child: multiprocessing.process.BaseProcess, deadline: float, stop: threading.Event | None
) -> str | None:
    """Wait for the child; stop it at the deadline or on `stop`. Returns why it was stopped."""
    while True:
        child.join(_POLL)
        if child.exitcode is not None:
            return None
        reason = None
        if stop is not None and stop.is_set():
            reason = "stop"
        elif time.monotonic() >= deadline:
            reason = "timeout"
        if reason is not None:
            _stop_child(child)
            return reason


def _stop_child(child: multiprocessing.process.BaseProcess) -> None:
    """SIGTERM (Scrapy closes the crawl and records it), then SIGKILL to the child's group."""
    assert child.pid is not None
    logger.info("Stopping the crawl (process %d)", child.pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGTERM)
    child.join(STOP_GRACE)
    if child.exitcode is None:
        logger.warning("The crawl did not stop within %.0fs; killing it", STOP_GRACE)
        # The child leads its own process group: its extraction workers go with it. It is not
        # reaped yet, so the group id cannot belong to anyone else.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.join()


def _close_killed_run(config: Config, status: str) -> RunView | None:
    """Mark the run a killed child left "running"; its committed articles stay."""
    try:
        with (
            crawl_lock(config.database.url, what="clean-up"),
            Repository(config.database.url) as repository,
        ):
            repository.close_abandoned_runs(status=status)
            runs = repository.list_runs(limit=1)
    except NewswatchError as exc:
        logger.warning("Could not record how the stopped crawl ended: %s", exc)
        return None
    return runs[0] if runs and runs[0].status == status else None


def _record_failure(config: Config, source_names: Sequence[str], message: str) -> RunView | None:
    """A crawl that failed before it could record itself is still recorded, as failed."""
    try:
        names = [source.name for source in config.select_sources(list(source_names))]
        with Repository(config.database.url) as repository:
            run_id = repository.start_run(names)
            stats = RunStats(errors=1, error_samples=[message])
            repository.finish_run(run_id, stats, "failed")
            return repository.get_run(run_id)
    except NewswatchError as exc:
        logger.warning("Could not record the failed crawl: %s", exc)
        return None


def _child_main(
    config: Config,
    source_names: tuple[str, ...],
    report: Connection,
    child_setup: Callable[[], object] | None,
) -> None:
    """The child: its own process group (so the daemon can stop its workers with it), then one
    crawl, then a report to the parent: ("done", run id) | ("locked", message) | ("error", message).
    """
    os.setpgid(0, 0)
    if child_setup is not None:
        child_setup()
    try:
        run = run_crawl(config, source_names, extra_settings={"NEWSWATCH_PROGRESS": False})
    except CrawlLockedError as exc:
        report.send(("locked", None, str(exc)))
    except NewswatchError as exc:
        logger.error("Crawl failed: %s", exc)
        report.send(("error", None, str(exc)))
    except Exception as exc:
        logger.exception("Crawl failed")
        report.send(("error", None, f"{type(exc).__name__}: {exc}"))
    else:
        report.send(("done", run.id, None))
    finally:
        report.close()
