"""Logging configuration: timestamped lines to stderr, optionally to a file. Called by the CLI only."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s"

# Libraries whose INFO lines (Scrapy's middleware lists and stats dumps, Alembic's context) are
# noise for a user; they show with -vv. Their own duplicates of our per-page warnings (size
# limits, decompression) show only with -vv too: newswatch logs the same event with its source.
NOISY = (
    "scrapy",
    "twisted",
    "trafilatura",
    "htmldate",
    "courlan",
    "alembic",
    "asyncio",
    "py.warnings",
)
DUPLICATED = (
    "scrapy.core.downloader.handlers.http11",
    "scrapy.downloadermiddlewares.httpcompression",
)


class _LibraryFilter(logging.Filter):
    """A handler filter, not logger levels: Scrapy resets its loggers' levels when it starts."""

    def __init__(self, verbosity: int) -> None:
        super().__init__()
        self.verbosity = verbosity

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbosity > 1:
            return True
        name = record.name
        if name.startswith(DUPLICATED):
            return record.levelno >= logging.ERROR
        if name.startswith(NOISY):
            return record.levelno >= logging.WARNING
        return True


def configure_logging(verbosity: int = 0, log_file: Path | None = None) -> None:
    """Default: one line per crawl, feed and match; -v adds each page (DEBUG); -vv the libraries."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    formatter = logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_LibraryFilter(verbosity))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity > 0 else logging.INFO)
