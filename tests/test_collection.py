"""The garbage-collector pause of the crawl's start-up (crawler.collection)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from crawler.collection import collection_paused


@pytest.fixture
def collections_started() -> Iterator[list[int]]:
    """The generations of the collections that start while the test runs; the heap unfrozen
    afterwards (other tests run crawls in this process, which freeze it too)."""
    started: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.collect()
    gc.callbacks.append(record)
    try:
        yield started
    finally:
        gc.callbacks.remove(record)
        gc.unfreeze()


def test_what_was_built_while_paused_is_frozen_not_collected(
    collections_started: list[int],
) -> None:
    frozen_before = gc.get_freeze_count()
    with collection_paused():
        assert not gc.isenabled()
        kept = [[number] for number in range(20_000)]  # containers, as imports make them
    # Without the freeze, the allocations right after the pause collect all 20,000 lists.
    resumed = [[number] for number in range(100)]
    assert gc.isenabled()
    assert collections_started == []
    assert gc.get_freeze_count() >= frozen_before + len(kept)
    assert len(resumed) == 100


def test_after_an_error_the_collector_resumes_and_nothing_is_frozen(
    collections_started: list[int],
) -> None:
    frozen_before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("a bad config file")
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen_before


def test_a_pause_inside_a_pause_leaves_it_to_the_outer_one(
    collections_started: list[int],
) -> None:
    with collection_paused():
        frozen = gc.get_freeze_count()
        with collection_paused():
            built = [[number] for number in range(1_000)]
        assert not gc.isenabled()
        assert gc.get_freeze_count() == frozen
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(built)
