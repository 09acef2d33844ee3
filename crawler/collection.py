"""Garbage collection around a process's start-up."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the process imports and builds what it keeps.

    Imports allocate objects by the hundred thousand and free almost none, so the collections
    they trigger walk an ever larger heap and find nothing: 15% of `newswatch crawl`'s imports
    (0.1 s). Left as it was if already paused.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
