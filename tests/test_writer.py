"""Tests of crawler.writer: batches, order, outcomes and errors, with a repository stand-in."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from crawler.writer import BatchWriter
from storage.errors import StorageError
from storage.records import SaveOutcome, SaveStatus, SkippedRecord


class SlowRepository:
    """Records each batch; the first one waits for `release`, so that later writes queue up."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.batches: list[list[str]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail = fail or set()

    def save_batch(self, writes: list[SkippedRecord]) -> list[Any]:
        self.started.set()
        self.release.wait(timeout=30)
        self.batches.append([write.url for write in writes])
        return [
            StorageError(f"refused {write.url}") if write.url in self.fail else None
            for write in writes
        ]


def skipped(number: int) -> SkippedRecord:
    return SkippedRecord(url=f"https://example.ma/{number}", source="example", reason="test")


def recording_writer(repository: object, **options: Any) -> tuple[BatchWriter, list[str]]:
    """A writer over a stand-in repository, and the URLs its callback saw, in order."""
    done: list[str] = []
    writer = BatchWriter(
        repository,  # type: ignore[arg-type]
        lambda write, outcome: done.append(write.url),  # type: ignore[union-attr]
        **options,
    )
    return writer, done


def test_writes_queued_during_a_commit_share_the_next_one():
    repository = SlowRepository()
    writer, done = recording_writer(repository, max_batch=3, linger=0.0)
    first = writer.submit(skipped(0))
    assert repository.started.wait(timeout=30)
    later = [writer.submit(skipped(number)) for number in range(1, 6)]
    repository.release.set()
    writer.close()

    assert repository.batches == [
        ["https://example.ma/0"],
        ["https://example.ma/1", "https://example.ma/2", "https://example.ma/3"],
        ["https://example.ma/4", "https://example.ma/5"],
    ]
    assert done == [f"https://example.ma/{number}" for number in range(6)]
    assert all(future.result(timeout=30) is None for future in [first, *later])


def test_a_failed_write_fails_its_future_only():
    repository = SlowRepository(fail={"https://example.ma/1"})
    repository.release.set()
    writer, done = recording_writer(repository, linger=0.0)
    futures = [writer.submit(skipped(number)) for number in range(3)]
    writer.close()
    with pytest.raises(StorageError, match="refused"):
        futures[1].result(timeout=30)
    assert futures[0].result(timeout=30) is None
    assert futures[2].result(timeout=30) is None
    assert done == ["https://example.ma/0", "https://example.ma/2"]


def test_outcomes_reach_the_callback_before_the_future():
    outcome = SaveOutcome(SaveStatus.NEW, article_id=7, new_match=True, story_id=7)

    class Repository:
        def save_batch(self, writes: list[Any]) -> list[Any]:
            return [outcome for _ in writes]

    seen: list[object] = []
    writer = BatchWriter(
        Repository(),  # type: ignore[arg-type]
        lambda write, result: seen.append(result),
    )
    future = writer.submit(skipped(0))
    assert future.result(timeout=30) is outcome
    assert seen == [outcome]
    writer.close()


class ScriptedRepository:
    """Answers each write with what `answers` says for its URL: an outcome, None or an error."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.batches: list[list[str]] = []

    def save_batch(self, writes: list[SkippedRecord]) -> list[Any]:
        self.batches.append([write.url for write in writes])
        return [self.answers[write.url] for write in writes]


def test_a_batch_of_mixed_outcomes_gives_each_future_its_own():
    answers: dict[str, Any] = {
        "https://example.ma/0": SaveOutcome(SaveStatus.NEW, article_id=10, new_match=True),
        "https://example.ma/1": StorageError("disk full for 1"),
        "https://example.ma/2": None,
        "https://example.ma/3": SaveOutcome(
            SaveStatus.DUPLICATE_URL, article_id=3, new_match=False
        ),
        "https://example.ma/4": ValueError("bad row 4"),
        "https://example.ma/5": StorageError("disk full for 5"),
        "https://example.ma/6": SaveOutcome(SaveStatus.NEW, article_id=16, new_match=False),
    }
    repository = ScriptedRepository(answers)
    done: list[tuple[str, object]] = []
    # A long linger and room for exactly the 7 writes: they all share one transaction.
    writer = BatchWriter(
        repository,  # type: ignore[arg-type]
        lambda write, outcome: done.append((write.url, outcome)),  # type: ignore[union-attr]
        max_batch=len(answers),
        linger=30.0,
    )
    resolved: list[int] = []
    futures = []
    for number in range(len(answers)):
        future = writer.submit(skipped(number))
        future.add_done_callback(lambda _, number=number: resolved.append(number))
        futures.append(future)
    writer.close()

    assert repository.batches == [list(answers)]
    for future, answer in zip(futures, answers.values(), strict=True):
        if isinstance(answer, Exception):
            assert future.exception(timeout=30) is answer
        else:
            assert future.result(timeout=30) is answer
    assert resolved == list(range(len(answers)))  # resolved in the order of the writes
    # The callback sees the writes that were stored, with their own outcome, and no other.
    assert done == [
        (url, answer) for url, answer in answers.items() if not isinstance(answer, Exception)
    ]


def test_a_failed_batch_fails_every_future_and_the_writer_goes_on():
    class Repository:
        def __init__(self) -> None:
            self.calls = 0

        def save_batch(self, writes: list[Any]) -> list[Any]:
            self.calls += 1
            if self.calls == 1:
                raise StorageError("connection lost")
            return [None for _ in writes]

    writer, done = recording_writer(Repository(), max_batch=2, linger=30.0)
    first = [writer.submit(skipped(number)) for number in range(2)]
    errors = [future.exception(timeout=30) for future in first]
    assert isinstance(errors[0], StorageError)
    assert errors[1] is errors[0]
    later = writer.submit(skipped(2))
    writer.close()
    assert later.result(timeout=30) is None
    assert done == ["https://example.ma/2"]


def test_a_callback_error_is_logged_the_write_reported_stored_and_the_writer_goes_on(caplog):
    repository = ScriptedRepository({f"https://example.ma/{n}": None for n in range(6)})
    problem = RuntimeError("counting broke")
    called: list[str] = []

    def done(write: Any, outcome: Any) -> None:
        called.append(write.url)
        if write.url == "https://example.ma/1":
            raise problem

    writer = BatchWriter(
        repository,  # type: ignore[arg-type]
        done,
        max_batch=3,
        linger=30.0,
    )
    with caplog.at_level(logging.ERROR, logger="crawler.writer"):
        batch = [writer.submit(skipped(number)) for number in range(3)]
        # The write was stored: its waiter gets its outcome; the callback's error is logged.
        assert [future.result(timeout=30) for future in batch] == [None, None, None]
        # The thread survived: writes submitted afterwards, in a new transaction, complete.
        later = [writer.submit(skipped(number)) for number in range(3, 6)]
        assert [future.result(timeout=30) for future in later] == [None, None, None]
    writer.close()

    assert repository.batches == [
        ["https://example.ma/0", "https://example.ma/1", "https://example.ma/2"],
        ["https://example.ma/3", "https://example.ma/4", "https://example.ma/5"],
    ]
    # The callback still ran for the writes after the one it failed on.
    assert called == [f"https://example.ma/{number}" for number in range(6)]
    logged = [r for r in caplog.records if r.name == "crawler.writer"]
    assert [r.getMessage() for r in logged] == ["Counting a saved write failed"]
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[1] is problem


def test_a_batch_answered_with_the_wrong_number_of_outcomes_fails_every_future():
    """A repository bug must not leave a waiter hanging: every future of the batch fails."""

    class ShortRepository:
        def save_batch(self, writes: list[Any]) -> list[Any]:
            return [None for _ in writes][:-1] if len(writes) > 1 else [None]

    writer = BatchWriter(
        ShortRepository(),  # type: ignore[arg-type]
        lambda write, outcome: None,
        max_batch=3,
        linger=30.0,
    )
    batch = [writer.submit(skipped(number)) for number in range(3)]
    errors = [future.exception(timeout=30) for future in batch]
    assert all(isinstance(error, RuntimeError) for error in errors)
    assert "2 outcomes for a batch of 3 writes" in str(errors[0])
    later = writer.submit(skipped(3))
    writer.close()
    assert later.result(timeout=30) is None


def test_a_future_cancelled_in_the_middle_of_a_batch_leaves_the_others_resolved():
    """A waiter may give up on its write while the write waits for a transaction: the write is
    stored all the same, and the writes after it in the same batch still get their outcomes."""
    repository = SlowRepository()
    writer, done = recording_writer(repository, max_batch=3, linger=30.0)
    first = [writer.submit(skipped(number)) for number in range(3)]
    assert repository.started.wait(timeout=30)  # the first batch is in its transaction
    second = [writer.submit(skipped(number)) for number in range(3, 6)]
    assert second[1].cancel()
    repository.release.set()
    writer.close()
    assert [future.result(timeout=30) for future in first] == [None, None, None]
    assert second[0].result(timeout=30) is None
    assert second[2].result(timeout=30) is None
    assert second[1].cancelled()
    assert repository.batches == [
        [skipped(n).url for n in range(3)],
        [skipped(n).url for n in range(3, 6)],
    ]
    assert done == [skipped(n).url for n in range(6)]
