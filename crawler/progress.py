"""A live progress line on a terminal, plain periodic log lines otherwise."""

from __future__ import annotations

import functools
import logging
import sys
from typing import TYPE_CHECKING, Self

from scrapy import signals
from twisted.internet import task

from crawler import crawlstats

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ProgressLine:
    def __init__(self, crawler: Crawler, live: bool, interval: float) -> None:
        self.crawler = crawler
        self.live = live
        self.interval = interval
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        live = crawler.settings.getbool("NEWSWATCH_PROGRESS", sys.stderr.isatty())
        interval = 1.0 if live else crawler.settings.getfloat("NEWSWATCH_LOG_INTERVAL", 30.0)
        extension = cls(crawler, live, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def figures(self) -> str:
        get = functools.partial(crawlstats.get, self.crawler)
        return (
            f"pages {get('downloader/response_count')} · "
            f"articles {get('newswatch/articles_extracted')} · "
            f"matches {get('newswatch/matches')} · "
            f"skipped {get('newswatch/skipped')} · errors {get('newswatch/errors')}"
        )

    def spider_opened(self, spider: Spider) -> None:
        self._loop = task.LoopingCall(self.show)
        self._loop.start(self.interval, now=False)

    def show(self) -> None:
        if self.live:
            sys.stderr.write(f"\r\033[K{self.figures()}")
            sys.stderr.flush()
        else:
            logger.info("Progress: %s", self.figures())

    def spider_closed(self, spider: Spider) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.live:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
