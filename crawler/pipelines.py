"""The item pipeline: extract and filter each fetched page in a worker process, then store it.

It owns the crawl run record (opened with the spider, closed with its figures) and counts every
outcome in the crawler stats. It never writes SQL: storage goes through `Repository`.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals

from crawler import crawlstats
from crawler.items import ArticlePage, PageFailure
from crawler.processing import (
    PageJob,
    ProcessedArticle,
    SkippedPage,
    init_worker,
    process_page,
)
from storage.records import ArticleRecord, RunStats, SaveStatus
from storage.repository import Repository

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

    from crawler.config import Config

logger = logging.getLogger(__name__)

RUN_ID_KEY = "newswatch/run_id"


class ArticlePipeline:
    def __init__(self, crawler: Crawler, config: Config) -> None:
        self.crawler = crawler
        self.config = config
        self.repository = Repository(config.database.url)
        self.cutoff = datetime.now(UTC) - timedelta(days=config.crawl.max_age_days)
        self.workers = config.crawl.workers or os.cpu_count() or 1
        self.pool: ProcessPoolExecutor | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler, crawler.settings["NEWSWATCH_CONFIG"])
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        names = [source.name for source in getattr(spider, "sources", [])]
        self.repository.ensure_sources(names)
        self.run_id = self.repository.start_run(names)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(RUN_ID_KEY, self.run_id)
        self.pool = self._start_pool()
        logger.info("Crawl run %d started: %d sources", self.run_id, len(names))

    def _start_pool(self) -> ProcessPoolExecutor:
        # "spawn": the parent runs a Twisted reactor and threads; forking it is not safe.
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(str(self.config.rules_path()),),
        )

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        status = {"finished": "ok", "closespider_timeout": "timeout"}.get(reason, "interrupted")
        self.repository.finish_run(self.run_id, self.run_stats(), status)
        self.repository.close()

    def run_stats(self) -> RunStats:
        get = lambda key: crawlstats.get(self.crawler, key)
        assert self.crawler.stats is not None
        return RunStats(
            pages_fetched=get("downloader/response_count"),
            articles_extracted=get("newswatch/articles_extracted"),
            matches=get("newswatch/matches"),
            new_matches=get("newswatch/new_matches"),
            duplicates=get("newswatch/duplicates"),
            skipped=get("newswatch/skipped"),
            errors=get("newswatch/errors"),
            error_samples=list(self.crawler.stats.get_value(crawlstats.ERROR_SAMPLES_KEY) or []),
        )

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, PageFailure):
            self._skip(item.url, item.source, item.reason)
        elif isinstance(item, ArticlePage):
            await self._process_page(item)
        return item

    async def _process_page(self, page: ArticlePage) -> None:
        job = PageJob(
            url=page.url,
            response_url=page.response_url,
            body=page.body,
            content_type=page.content_type,
            language_hint=page.language,
            hint_published=page.hint_published,
            min_text_chars=self.config.crawl.min_text_chars,
        )
        try:
            result = await self._run_in_worker(job)
        except Exception as exc:  # a worker crash must not end the crawl
            logger.exception("Extraction failed for %s", page.url)
            crawlstats.record_error(
                self.crawler, page.source, f"extraction crashed on {page.url}: {exc!r}"
            )
            return
        if isinstance(result, SkippedPage):
            self._skip(page.url, page.source, result.reason)
            return
        if result.published_at is not None and result.published_at < self.cutoff:
            self._skip(page.url, page.source, f"published {result.published_at:%Y-%m-%d}, too old")
            return
        self._save(page, result)

    async def _run_in_worker(self, job: PageJob) -> ProcessedArticle | SkippedPage:
        assert self.pool is not None
        try:
            return await asyncio.wrap_future(self.pool.submit(process_page, job))
        except BrokenProcessPool:
            # A worker died (out of memory, killed): start a fresh pool and try this page once more.
            logger.warning("An extraction worker died; restarting the pool")
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._start_pool()
            return await asyncio.wrap_future(self.pool.submit(process_page, job))

    def _save(self, page: ArticlePage, article: ProcessedArticle) -> None:
        record = ArticleRecord(
            source=page.source,
            url=article.url,
            fetched_url=page.url,
            title=article.title,
            text=article.text,
            published_at=article.published_at,
            author=article.author,
            language=article.language,
            score=article.score,
            matched=article.matched,
            explanation=article.explanation,
            html=article.html,
            run_id=self.run_id,
        )
        outcome = self.repository.save_article(record)
        crawlstats.inc(self.crawler, "newswatch/articles_extracted")
        if article.matched:
            crawlstats.inc(self.crawler, "newswatch/matches")
        if outcome.status is not SaveStatus.NEW:
            crawlstats.inc(self.crawler, "newswatch/duplicates")
            logger.debug("Duplicate (%s): %s", outcome.status.value, page.url)
            return
        if outcome.new_match:
            crawlstats.inc(self.crawler, "newswatch/new_matches")
            logger.info("Match (score %.1f): %s — %s", article.score, article.title, article.url)

    def _skip(self, url: str, source: str, reason: str) -> None:
        crawlstats.inc(self.crawler, "newswatch/skipped")
        logger.debug("Skipped %s: %s", url, reason)
        self.repository.record_skipped(url, source, reason, self.run_id)
