"""The item pipeline: extract and filter each fetched page in a worker process, then store it.

It owns the crawl run record (opened with the spider, closed with its figures) and counts every
outcome in the crawler stats. It never writes SQL: storage goes through `Repository`.
"""

from __future__ import annotations

import functools
import logging
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals

from crawler import crawlstats
from crawler.awaiting import future_result
from crawler.items import ArticlePage, PageFailure
from crawler.workers import (
    PageJob,
    ProcessedArticle,
    SkippedPage,
    WorkerPool,
    current_pool,
    process_in_worker,
)
from crawler.writer import BatchWriter
from storage.prepare import PreparedArticle
from storage.records import RunStats, SaveOutcome, SaveStatus, SkippedRecord
from storage.repository import Repository

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

    from crawler.config import Config

logger = logging.getLogger(__name__)

RUN_ID_KEY = "newswatch/run_id"
# Requests that tell whether a source's discovery works (robots.txt may rightly be missing).
DISCOVERY_KINDS = frozenset({"feed", "sitemap", "homepage", "section"})


class ArticlePipeline:
    def __init__(self, crawler: Crawler, config: Config) -> None:
        self.crawler = crawler
        self.config = config
        self.repository = Repository(config.database.url)
        self.cutoff = datetime.now(UTC) - timedelta(days=config.crawl.max_age_days)
        # The runner starts the pool before Scrapy so that it warms up meanwhile; under
        # `scrapy crawl` the pipeline starts (and owns) its own.
        shared = current_pool()
        self.owns_pool = shared is None
        self.pool: WorkerPool = shared or WorkerPool(config.crawl.workers, config.rules_path())
        # One writer thread, several articles per transaction (crawler.writer).
        self.writer = BatchWriter(self.repository, self._count)
        self.run_id: int | None = None
        # Per source, for the source-health check: article URLs found (new or already stored),
        # and discovery URLs requested and those that gave a usable answer.
        self.candidates: dict[str, set[str]] = {}
        self.discovery_tried: dict[str, set[str]] = {}
        self.discovery_answered: dict[str, set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler, crawler.settings["NEWSWATCH_CONFIG"])
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(pipeline.response_downloaded, signal=signals.response_downloaded)
        return pipeline

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        kind, source = request.meta.get("nw_kind"), request.meta.get("nw_source")
        if source is None:
            return
        if kind == "article":
            self.candidates.setdefault(source, set()).add(request.meta["nw_url"])
        elif kind in DISCOVERY_KINDS:
            self.discovery_tried.setdefault(source, set()).add(_first_url(request))

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        kind, source = request.meta.get("nw_kind"), request.meta.get("nw_source")
        if source is None or kind not in DISCOVERY_KINDS:
            return
        # A redirect is answered by the request that follows it (same first URL).
        if 200 <= response.status < 300 or response.status == 304:
            self.discovery_answered.setdefault(source, set()).add(_first_url(request))
        if response.status == 304:
            crawlstats.inc_source(self.crawler, source, "not_modified")

    def source_stats(self) -> dict[str, dict[str, Any]]:
        """Per-source figures of this run; every crawled source appears, even with nothing."""
        spider = self.crawler.spider
        names = [source.name for source in getattr(spider, "sources", [])]
        figures: dict[str, dict[str, Any]] = {
            name: dict(counts) for name, counts in crawlstats.source_figures(self.crawler).items()
        }
        for name in dict.fromkeys([*names, *figures]):
            entry = figures.setdefault(name, {})
            entry["candidates"] = len(self.candidates.get(name, ()))
            tried = self.discovery_tried.get(name, set())
            entry["discovery"] = len(tried)
            unanswered = tried - self.discovery_answered.get(name, set())
            failed = sorted(unanswered | (tried & crawlstats.error_urls(self.crawler, name)))
            if failed:
                entry["failed_urls"] = failed
        return figures

    def open_spider(self) -> None:
        spider = self.crawler.spider
        names = [source.name for source in getattr(spider, "sources", [])]
        self.repository.ensure_sources(names)
        self.run_id = self.repository.start_run(names)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(RUN_ID_KEY, self.run_id)
        self.pool.start()
        logger.info("Crawl run %d started: %d sources", self.run_id, len(names))

    def close_spider(self) -> None:
        if self.owns_pool:
            self.pool.shutdown()
        self.writer.close()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        status = {"finished": "ok", "closespider_timeout": "timeout"}.get(reason, "interrupted")
        self.repository.finish_run(self.run_id, self.run_stats(), status, self.source_stats())
        self.repository.close()

    def run_stats(self) -> RunStats:
        get = functools.partial(crawlstats.get, self.crawler)
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
            await self._skip(item.url, item.source, item.reason)
        elif isinstance(item, ArticlePage):
            await self._process_page(item)
        return item

    async def _process_page(self, page: ArticlePage) -> None:
        job = PageJob(
            source=page.source,
            run_id=self.run_id,
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
            await self._skip(page.url, page.source, result.reason)
            return
        published = result.record.published_at
        if published is not None and published < self.cutoff:
            await self._skip(page.url, page.source, f"published {published:%Y-%m-%d}, too old")
            return
        await self._save(result)

    async def _run_in_worker(self, job: PageJob) -> ProcessedArticle | SkippedPage:
        executor = self.pool.executor
        try:
            return await future_result(executor.submit(process_in_worker, job))
        except BrokenProcessPool:
            # A worker died (out of memory, killed): every page waiting on that pool lands
            # here; the first to do so starts a fresh pool, and each tries its page once more.
            if self.pool.executor is executor:
                logger.warning("An extraction worker died; restarting the pool")
                self.pool.restart()
            return await future_result(self.pool.executor.submit(process_in_worker, job))

    async def _save(self, article: ProcessedArticle) -> None:
        await future_result(self.writer.submit(article.prepared))

    def _count(self, write: PreparedArticle | SkippedRecord, outcome: SaveOutcome | None) -> None:
        """On the writer thread, as each write commits: counted at once, so that once the writer
        has drained (`close_spider`), the run's figures are complete when it is recorded."""
        if not isinstance(write, PreparedArticle) or outcome is None:
            return
        record = write.record
        crawlstats.inc(self.crawler, "newswatch/articles_extracted")
        crawlstats.inc_source(self.crawler, record.source, "articles")
        if record.matched:
            crawlstats.inc(self.crawler, "newswatch/matches")
        if outcome.status is not SaveStatus.NEW:
            crawlstats.inc(self.crawler, "newswatch/duplicates")
            logger.debug("Duplicate (%s): %s", outcome.status.value, record.fetched_url)
            return
        if outcome.new_match:
            crawlstats.inc(self.crawler, "newswatch/new_matches")
            crawlstats.inc_source(self.crawler, record.source, "new_matches")
            logger.info("Match (score %.1f): %s — %s", record.score, record.title, record.url)

    async def _skip(self, url: str, source: str, reason: str) -> None:
        crawlstats.inc(self.crawler, "newswatch/skipped")
        logger.debug("Skipped %s: %s", url, reason)
        skipped = SkippedRecord(url=url, source=source, reason=reason, run_id=self.run_id)
        await future_result(self.writer.submit(skipped))


def _first_url(request: Request) -> str:
    """The URL a request chain started from (before any redirect)."""
    redirects = request.meta.get("redirect_urls")
    return str(redirects[0]) if redirects else request.url
