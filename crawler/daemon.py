"""`newswatch run`: an APScheduler (3.x) BlockingScheduler with two jobs, the crawl and the digest.

It holds no crawl or mail logic: the crawl job calls `crawler.runner.run_crawl_in_child`, the
digest job `crawler.digest.deliver_digest`, and each logs one line with its figures. The daemon
holds the database's daemon lock for its whole life; SIGTERM or SIGINT stop it within 10 s.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler

from crawler.digest import deliver_digest
from crawler.runner import run_crawl_in_child
from storage.errors import NewswatchError
from storage.locks import daemon_lock
from storage.repository import Repository

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    from crawler.config import Config
    from crawler.digest import DigestResult
    from crawler.runner import CrawlOutcome

logger = logging.getLogger(__name__)

# A job that wakes up late (suspended laptop, busy machine) still runs within this many seconds
# of its time, once (coalesced). A digest hours late still beats one the next day.
CRAWL_MISFIRE_GRACE = 3600
DIGEST_MISFIRE_GRACE = 6 * 3600
# After SIGTERM the running jobs get this long to end; the exit follows within 10 s.
STOP_DEADLINE = 9.0


class Daemon:
    """The scheduler and its two jobs. `run()` blocks until SIGTERM or SIGINT (or `stop()`)."""

    def __init__(self, config: Config, *, child_setup: Callable[[], object] | None = None) -> None:
        self.config = config
        self.child_setup = child_setup
        self.stopping = threading.Event()
        self._stop_requested_at: float | None = None
        self._scheduler: BlockingScheduler | None = None
        self._active = 0
        self._idle = threading.Condition()

    def run(self) -> None:
        """Hold the daemon lock, schedule both jobs, and block until stopped."""
        self._install_signal_handlers()
        with daemon_lock(self.config.database.url):
            scheduler = self.build_scheduler(datetime.now(self.config.schedule.zone))
            self._scheduler = scheduler
            schedule = self.config.schedule
            logger.info(
                "newswatch daemon started (process %d) on %s: crawl %s, digest %s, time zone %s",
                os.getpid(),
                self.config.database.safe_url,
                schedule.crawl,
                schedule.digest if self.config.digest.to else "off (no [digest] to)",
                schedule.timezone,
            )
            if not self.stopping.is_set():
                scheduler.start()  # blocks until shutdown
            self._wait_for_jobs()
        logger.info("newswatch daemon stopped")

    def build_scheduler(self, now: datetime) -> BlockingScheduler:
        """The scheduler with its jobs; a run missed while the daemon was down is due now."""
        schedule = self.config.schedule
        zone = schedule.zone
        scheduler = BlockingScheduler(
            timezone=zone, executors={"default": ThreadPoolExecutor(max_workers=2)}
        )
        with Repository(self.config.database.url) as repository:
            last_runs = repository.list_runs(limit=1)
            last_crawl = last_runs[0].started_at if last_runs else None
            last_digest = repository.last_digest_at() or repository.first_run_at()
        crawl = schedule.crawl_schedule
        self._add_job(
            scheduler,
            self.crawl_job,
            "crawl",
            crawl.trigger(zone, start=now),
            CRAWL_MISFIRE_GRACE,
            due_now=crawl.missed(zone, last_crawl, now),
        )
        if not self.config.digest.to:
            logger.warning("No [digest] to in the configuration: the daemon sends no digest")
            return scheduler
        digest = schedule.digest_schedule
        self._add_job(
            scheduler,
            self.digest_job,
            "digest",
            digest.trigger(zone, start=now),
            DIGEST_MISFIRE_GRACE,
            # With no crawl and no digest ever, nothing was missed.
            due_now=last_digest is not None and digest.missed(zone, last_digest, now),
        )
        return scheduler

    def _add_job(
        self,
        scheduler: BlockingScheduler,
        function: Callable[[], None],
        name: str,
        trigger: Any,
        grace: int,
        *,
        due_now: bool,
    ) -> None:
        extra: dict[str, Any] = {}
        if due_now:
            extra["next_run_time"] = datetime.now(self.config.schedule.zone)
            logger.info("A %s is due (none yet, or one was missed while stopped): now", name)
        scheduler.add_job(
            self._tracked(function),
            trigger,
            id=name,
            name=name,
            max_instances=1,  # never two crawls (or two digests) of this daemon at once
            coalesce=True,  # runs missed in a row run once, not as a burst
            misfire_grace_time=grace,
            **extra,
        )

    def crawl_job(self) -> None:
        try:
            outcome = run_crawl_in_child(
                self.config, stop=self.stopping, child_setup=self.child_setup
            )
        except NewswatchError as exc:  # the database went away: say so, try again next time
            logger.error("Crawl not run: %s", exc)
            return
        log_crawl(outcome)

    def digest_job(self) -> None:
        try:
            result = deliver_digest(self.config, kind="scheduled", stop=self.stopping)
        except NewswatchError as exc:  # another digest being sent, database unreachable
            logger.error("Digest not sent: %s; the stories stay pending", exc)
            return
        log_digest(result)

    def stop(self) -> None:
        """Ask the daemon to stop: the running crawl is stopped, the scheduler shut down."""
        if self.stopping.is_set():
            return
        self._stop_requested_at = time.monotonic()
        self.stopping.set()
        threading.Thread(target=self._shut_down, name="newswatch-stop", daemon=True).start()

    def _shut_down(self) -> None:
        # The scheduler may not have started yet when the signal came: try until it has.
        for _ in range(100):
            scheduler = self._scheduler
            if scheduler is not None:
                try:
                    scheduler.shutdown(wait=False)
                    return
                except SchedulerNotRunningError:
                    pass
            time.sleep(0.05)

    def _install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            logger.info("Received %s: stopping", signal.Signals(signum).name)
            self.stop()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def _tracked(self, function: Callable[[], None]) -> Callable[[], None]:
        """The job, counted while it runs, so that stopping can wait for it (and only for it)."""

        def job() -> None:
            with self._idle:
                self._active += 1
            try:
                function()
            finally:
                with self._idle:
                    self._active -= 1
                    self._idle.notify_all()

        job.__name__ = function.__name__
        return job

    def _wait_for_jobs(self) -> None:
        start = self._stop_requested_at or time.monotonic()
        with self._idle:
            ended = self._idle.wait_for(
                lambda: self._active == 0,
                timeout=max(0.0, start + STOP_DEADLINE - time.monotonic()),
            )
        if not ended:
            # A digest stuck in an SMTP exchange: its stories stay pending (recorded as
            # interrupted at the next start); the promise to stop in time comes first.
            logger.error(
                "A job did not end within %.0fs of the stop request; exiting", STOP_DEADLINE
            )
            logging.shutdown()
            os._exit(0)


def log_crawl(outcome: CrawlOutcome) -> None:
    """One line per crawl, with its figures."""
    run = outcome.run
    if outcome.status == "locked":
        logger.warning("Crawl skipped: %s", outcome.message)
        return
    if run is None:
        logger.error("Crawl %s after %.0fs: %s", outcome.status, outcome.seconds, outcome.message)
        return
    stats = run.stats
    level = logging.INFO if run.status == "ok" else logging.WARNING
    logger.log(
        level,
        "Crawl #%d %s in %.0fs: %d pages fetched, %d articles extracted, %d matches (%d new), "
        "%d duplicates, %d skipped, %d errors%s",
        run.id,
        run.status,
        outcome.seconds,
        stats.pages_fetched,
        stats.articles_extracted,
        stats.matches,
        stats.new_matches,
        stats.duplicates,
        stats.skipped,
        stats.errors,
        f" ({outcome.message})" if outcome.message else "",
    )


def log_digest(result: DigestResult) -> None:
    """One line per digest, with its figures (never the recipients' addresses)."""
    content = result.content
    stories = content.stories if content is not None else 0
    articles = len(content.article_ids) if content is not None else 0
    if result.status == "empty":
        logger.info("Digest #%s: no new story, nothing sent", result.digest_id)
    elif result.status == "sent":
        assert result.delivery is not None
        logger.info(
            "Digest #%s sent in %.1fs: %d stories (%d articles) to %d recipients, "
            "%d attempt(s), Message-ID %s",
            result.digest_id,
            result.seconds,
            stories,
            articles,
            len(result.recipients),
            result.delivery.attempts,
            result.delivery.message_id,
        )
        if result.delivery.refused:
            logger.warning(
                "Digest #%s: the server refused %d recipient(s): %s",
                result.digest_id,
                len(result.delivery.refused),
                "; ".join(result.delivery.refused.values()),
            )
    else:
        logger.error(
            "Digest #%s %s after %.1fs: %s; its %d stories stay pending for the next digest",
            result.digest_id,
            "refused" if result.status == "refused" else "not sent",
            result.seconds,
            result.error,
            stories,
        )
