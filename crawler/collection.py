"""Garbage collection settings for the crawl process: its start-up, and the crawl itself."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the process imports and builds what it keeps,
    then freeze what it built: moved out of the collector's sight for good. Left as it was if
    already paused.

    Imports allocate objects by the hundred thousand and free almost none, so the collections
    they trigger walk an ever larger heap and find nothing: 15% of `newswatch crawl`'s imports
    (0.1 s). Frozen before the collector resumes, because its first allocation would otherwise
    collect every object made while it was paused, all still in the young generation: 10 and
    27 ms at the two pauses of a crawl's start, and 9 ms more when those moved up a generation.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
        gc.freeze()  # not after an error: its traceback and the half-built state stay collectable
    finally:
        gc.enable()


# Young-generation collections every 10,000 net allocations instead of 700; older ones as often
# relative to those as Python's defaults have them.
CRAWL_THRESHOLDS = (10_000, 10, 10)


@contextmanager
def rarer_collections(thresholds: tuple[int, int, int] = CRAWL_THRESHOLDS) -> Iterator[None]:
    """Collect less often while a crawl runs.

    A crawl keeps thousands of requests, responses and Deferreds alive for a while, so each
    collection walks them again and frees little: with Python's default thresholds the crawl
    process spent a tenth of its CPU collecting (0.8 s of a 2,000-page crawl, 0.2 s of 500
    pages of benchmarks/crawl_local.py's site, timed with `gc.callbacks`), with these a fifth.
    Reference cycles are still collected, a little later.
    """
    before = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*before)
