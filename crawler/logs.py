"""Logging configuration: timestamped lines to stderr, optionally to a file. Called by the CLI only."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(verbosity: int = 0, log_file: Path | None = None) -> None:
    """-v shows each page (DEBUG) and Scrapy's own INFO lines; default is one line per feed/crawl."""
    level = logging.DEBUG if verbosity > 0 else logging.INFO
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    formatter = logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    # Scrapy's and the libraries' INFO chatter (middleware lists, stats dumps) only with -vv.
    noisy = logging.INFO if verbosity > 1 else logging.WARNING
    for name in ("scrapy", "twisted", "trafilatura", "htmldate", "courlan", "alembic", "asyncio"):
        logging.getLogger(name).setLevel(noisy)
    if verbosity < 2:
        # One warning per skipped page is already logged by newswatch with its source.
        logging.getLogger("scrapy.core.downloader.handlers.http11").setLevel(logging.ERROR)
