"""The crawl's writer thread: stores what the pipeline hands it, several writes per transaction.

The reactor keeps fetching while rows are committed, and writes stay in order (SQLite takes one
writer at a time anyway). What the pipeline does with each outcome stays in `crawler.pipelines`.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import queue
import threading
import time
from concurrent.futures import Future, InvalidStateError
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.prepare import PreparedArticle
    from storage.records import SaveOutcome, SkippedRecord
    from storage.repository import Repository

    Write = PreparedArticle | SkippedRecord
    Outcome = SaveOutcome | None
    # Called on the writer thread once the write is committed, before its future resolves.
    Done = Callable[[Write, Outcome], None]

logger = logging.getLogger(__name__)

# Most writes per transaction. A commit costs more than an article's rows (SQLite: 1.4 ms an
# article alone, 0.8 ms in batches of 32, measured on the bulk benchmark pages), and a crawl
# killed half-way loses at most the batch in flight. On PostgreSQL a batch takes its articles'
# 40 band-key locks each at once: at most 1,280, a fifth of the server's default lock table
# (max_locks_per_transaction 64 x 100 connections).
MAX_BATCH = 32
# How long a batch waits for more writes after its first. A busy crawl stores an article every
# few milliseconds (about 8 a batch at 150 pages/s), and this is all its last write waits.
LINGER_SECONDS = 0.05


class BatchWriter:
    """Group commit: one thread saves, and each transaction takes the writes that arrived
    within `linger` seconds of its first one (at most `max_batch`), or while the previous
    transaction ran. At a trickle, each write gets its own transaction, `linger` late.

    `done` is called on the writer thread with each stored write and its outcome, before the
    write's future is resolved; an error it raises is logged and changes nothing else.
    """

    def __init__(
        self,
        repository: Repository,
        done: Done,
        *,
        max_batch: int = MAX_BATCH,
        linger: float = LINGER_SECONDS,
    ) -> None:
        self._repository = repository
        self._done = done
        self._max_batch = max_batch
        self._linger = linger
        self._queue: queue.SimpleQueue[tuple[Write, Future[Outcome]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="newswatch-writer", daemon=True)
        self._thread.start()
        # A crawl stopped without closing its pipeline (a second Ctrl-C) still commits what it
        # had handed over before the process exits.
        atexit.register(self.close)

    def submit(self, write: Write) -> Future[Outcome]:
        """Queue `write`; the future gives its outcome (or its error) once it is committed."""
        future: Future[Outcome] = Future()
        self._queue.put((write, future))
        return future

    def close(self) -> None:
        """Write everything queued, then stop the thread. Later calls do nothing."""
        atexit.unregister(self.close)
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        closing = False
        while not closing:
            batch, closing = self._next_batch()
            if not batch:
                continue
            try:
                self._write(batch)
            except Exception:  # a bug here must not stop the thread: later writes would hang
                logger.exception("The writer failed on a batch of %d writes", len(batch))

    def _next_batch(self) -> tuple[list[tuple[Write, Future[Outcome]]], bool]:
        """The writes of the next transaction, and whether `close` was called after them."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = time.monotonic() + self._linger
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _write(self, batch: list[tuple[Write, Future[Outcome]]]) -> None:
        try:
            outcomes = self._repository.save_batch([write for write, _ in batch])
        except Exception as exc:  # not one write's fault (a bug): each write reports it too
            logger.exception("Saving a batch of %d writes failed", len(batch))
            for _, future in batch:
                _fail(future, exc)
            return
        if len(outcomes) != len(batch):  # a bug: no write can be told what became of it
            error = RuntimeError(f"{len(outcomes)} outcomes for a batch of {len(batch)} writes")
            logger.error("Saving a batch failed: %s", error)
            for _, future in batch:
                _fail(future, error)
            return
        for (write, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                _fail(future, outcome)
                continue
            try:
                self._done(write, outcome)
            except Exception:  # the writer thread must outlive a bug in the callback
                # The row is stored all the same: its waiter is told so, not that it failed.
                logger.exception("Counting a saved write failed")
            _succeed(future, outcome)


# Defensive: should a waiter cancel its future (the crawl's pipeline does not), even between a
# `done()` check and the call that sets it, nobody is waiting; the error is ignored (the row,
# if any, stays).
def _succeed(future: Future[Outcome], outcome: Outcome) -> None:
    with contextlib.suppress(InvalidStateError):
        future.set_result(outcome)


def _fail(future: Future[Outcome], error: BaseException) -> None:
    with contextlib.suppress(InvalidStateError):
        future.set_exception(error)
