"""Counting a crawl's outcomes in Scrapy's stats collector, under `newswatch/*` keys.

The pipeline turns these into the run's figures (`storage.records.RunStats`) when the crawl ends.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

ERROR_SAMPLES_KEY = "newswatch/error_samples"
MAX_ERROR_SAMPLES = 50
# Per-source counters, e.g. "newswatch/source/lematin/articles"; source names hold no "/".
SOURCE_PREFIX = "newswatch/source/"
# Per source, the URLs named by its error messages (a feed that is not XML fails on a 200).
ERROR_URLS_PREFIX = "newswatch/error_urls/"
MAX_ERROR_URLS = 200


class QuietSkip(IgnoreRequest):
    """A request dropped on purpose (already stored, not modified, over the page limit)."""


def inc(crawler: Crawler, key: str, count: int = 1) -> None:
    assert crawler.stats is not None
    crawler.stats.inc_value(key, count)


def get(crawler: Crawler, key: str) -> int:
    assert crawler.stats is not None
    return int(crawler.stats.get_value(key, 0))


def inc_source(crawler: Crawler, source: str, figure: str, count: int = 1) -> None:
    """Count `figure` for one source (the run keeps these for the source-health check)."""
    assert crawler.stats is not None
    crawler.stats.inc_value(f"{SOURCE_PREFIX}{source}/{figure}", count)


def source_figures(crawler: Crawler) -> dict[str, dict[str, int]]:
    """The per-source counters so far: {source: {figure: count}}."""
    assert crawler.stats is not None
    figures: dict[str, dict[str, int]] = {}
    for key, value in crawler.stats.get_stats().items():
        if key.startswith(SOURCE_PREFIX) and isinstance(value, int):
            source, _, figure = key[len(SOURCE_PREFIX) :].rpartition("/")
            figures.setdefault(source, {})[figure] = value
    return figures


def error_urls(crawler: Crawler, source: str) -> set[str]:
    """The URLs that appeared in the source's error messages."""
    assert crawler.stats is not None
    return set(crawler.stats.get_value(ERROR_URLS_PREFIX + source) or [])


def record_error(crawler: Crawler, source: str, message: str) -> None:
    """Log one failure with where it happened, count it, and keep a bounded sample for the run."""
    logger.warning("[%s] %s", source, message)
    assert crawler.stats is not None
    crawler.stats.inc_value("newswatch/errors")
    inc_source(crawler, source, "errors")
    urls: list[str] = crawler.stats.get_value(ERROR_URLS_PREFIX + source) or []
    for word in message.split():
        if word.startswith(("http://", "https://")) and len(urls) < MAX_ERROR_URLS:
            urls.append(word.rstrip(":,;"))
    crawler.stats.set_value(ERROR_URLS_PREFIX + source, urls)
    samples: list[str] = crawler.stats.get_value(ERROR_SAMPLES_KEY) or []
    if len(samples) < MAX_ERROR_SAMPLES:
        samples.append(f"[{source}] {message}"[:500])
        crawler.stats.set_value(ERROR_SAMPLES_KEY, samples)


def is_permanent_failure(exc: BaseException) -> str | None:
    """A skip reason when fetching the URL again would fail the same way, else None."""
    if isinstance(exc, DownloadCancelledError):
        return "larger than the download size limit"
    if isinstance(exc, IgnoreRequest) and "larger than the download max size" in str(exc):
        return "larger than the download size limit when decompressed"
    if isinstance(exc, HttpError) and exc.response.status in (404, 410, 451):
        return f"HTTP {exc.response.status}"
    return None
