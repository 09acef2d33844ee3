"""Tests of crawler.writer: batches, order, outcomes and errors, with a repository stand-in."""

from __future__ import annotations

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


def test_writes_queued_during_a_commit_share_the_next_one():
    repository = SlowRepository()
    done: list[str] = []
    writer = BatchWriter(
        repository,  # type: ignore[arg-type]
        lambda write, outcome: done.append(write.url),  # type: ignore[union-attr]
        max_batch=3,
        linger=0.0,
    )
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
    done: list[str] = []
    writer = BatchWriter(
        repository,  # type: ignore[arg-type]
        lambda write, outcome: done.append(write.url),  # type: ignore[union-attr]
        linger=0.0,
    )
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
