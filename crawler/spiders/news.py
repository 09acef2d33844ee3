"""The one generic spider: discovers article URLs of each source through feeds, sitemaps and
section pages, and yields the fetched article pages.

It only yields requests and `ArticlePage` items; decoding, extraction, filtering and storage happen
in the pipeline, and the per-source page limit and incremental skipping in `crawler.middlewares`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from crawler import crawlstats
from crawler.discovery import (
    decompress_sitemap,
    feed_links_from_html,
    next_page_link,
    parse_feed,
    parse_sitemap,
    section_links,
    sitemaps_from_robots,
)
from crawler.errors import SourceError
from crawler.items import ArticlePage, PageFailure
from crawler.sources import Source
from crawler.urls import canonicalize_url, is_trap_url, looks_like_article

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

    from crawler.config import Config

logger = logging.getLogger(__name__)

# Articles are fetched as soon as they are discovered (higher priority), which keeps the
# scheduler's queue short and the extraction workers busy from the first seconds of a crawl.
ARTICLE_PRIORITY = 20
DISCOVERY_PRIORITY = 10
SECTION_PRIORITY = 0


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `scrapy crawl news -a source=a,b` and `newswatch crawl --source a --source b`.
        self.source_names = [name for name in source.split(",") if name]
        self.sources: list[Source] = []
        self._by_name: dict[str, Source] = {}
        self.cutoff = datetime.now(UTC) - timedelta(days=14)
        self.section_pages = 3
        self.max_sitemap_bytes = 10 * 1024 * 1024
        self._seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        config: Config = crawler.settings["NEWSWATCH_CONFIG"]
        spider.sources = [Source.from_config(s) for s in config.select_sources(spider.source_names)]
        spider._by_name = {source.name: source for source in spider.sources}
        spider.cutoff = datetime.now(UTC) - timedelta(days=config.crawl.max_age_days)
        spider.section_pages = config.crawl.section_pages
        spider.max_sitemap_bytes = config.crawl.max_page_bytes
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for source in self.sources:
            for request in self.discovery_requests(source):
                yield request

    def discovery_requests(self, source: Source) -> Iterator[scrapy.Request]:
        """Cheapest first: feeds, then sitemaps, then section pages."""
        if source.uses("feeds"):
            for url in source.feeds:
                yield self._request(url, source, "feed", self.parse_feed, DISCOVERY_PRIORITY)
        if source.homepage and (
            (source.uses("feeds") and not source.feeds)
            or (source.uses("sections") and not source.sections)
        ):
            yield self._request(source.homepage, source, "homepage", self.parse_homepage)
        if source.uses("sitemaps"):
            for url in source.sitemaps:
                yield self._request(url, source, "sitemap", self.parse_sitemap, DISCOVERY_PRIORITY)
            if not source.sitemaps and source.origin:
                robots = f"{source.origin}/robots.txt"
                yield self._request(robots, source, "robots", self.parse_robots, DISCOVERY_PRIORITY)
        if source.uses("sections"):
            for url in source.sections:
                yield self._request(url, source, "section", self.parse_section, meta={"nw_page": 1})

    # -- discovery callbacks -------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        source = self._source(response)
        try:
            entries = parse_feed(response.body, response.url)
        except SourceError as exc:
            crawlstats.record_error(self.crawler, source.name, str(exc))
            return
        crawlstats.inc(self.crawler, "newswatch/feeds_parsed")
        crawlstats.inc(self.crawler, "newswatch/feed_entries", len(entries))
        logger.info("Feed %s of %s: %d entries", response.url, source.name, len(entries))
        for entry in entries:
            yield from self._article_request(
                source, entry.url, "feed", published=entry.published, title=entry.title
            )

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        source = self._source(response)
        text = response.text if isinstance(response, TextResponse) else ""
        sitemaps = sitemaps_from_robots(text, response.url)
        logger.info("robots.txt of %s lists %d sitemaps", source.name, len(sitemaps))
        for url in sitemaps:
            if source.owns(url):
                yield self._request(url, source, "sitemap", self.parse_sitemap, DISCOVERY_PRIORITY)

    def parse_homepage(self, response: Response) -> Iterator[scrapy.Request]:
        source = self._source(response)
        if not isinstance(response, TextResponse):
            return
        if source.uses("feeds") and not source.feeds:
            feeds = [url for url in feed_links_from_html(response.text, response.url)]
            logger.info("Homepage of %s announces %d feeds", source.name, len(feeds))
            for url in feeds:
                if source.owns(url):
                    yield self._request(url, source, "feed", self.parse_feed, DISCOVERY_PRIORITY)
        if source.uses("sections") and not source.sections:
            # Without configured sections, the homepage is the listing page of the latest news.
            yield from self._section_articles(source, response)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        source = self._source(response)
        try:
            body = decompress_sitemap(response.body, response.url, self.max_sitemap_bytes)
            document = parse_sitemap(body, response.url)
        except SourceError as exc:
            crawlstats.record_error(self.crawler, source.name, str(exc))
            return
        crawlstats.inc(self.crawler, "newswatch/sitemaps_parsed")
        if document.kind == "index":
            for child in document.entries:
                if child.lastmod and child.lastmod < self.cutoff:
                    continue  # an old child sitemap holds only old entries
                if source.owns(child.url):
                    yield self._request(
                        child.url, source, "sitemap", self.parse_sitemap, DISCOVERY_PRIORITY
                    )
            return
        # Newest first, so the per-source page limit keeps the most recent articles.
        epoch = datetime.min.replace(tzinfo=UTC)
        entries = sorted(
            document.entries,
            key=lambda e: e.news_published or e.lastmod or epoch,
            reverse=True,
        )
        logger.info("Sitemap %s of %s: %d entries", response.url, source.name, len(entries))
        for entry in entries:
            yield from self._article_request(
                source,
                entry.url,
                "sitemap",
                published=entry.news_published or entry.lastmod,
                title=entry.news_title,
            )

    def parse_section(self, response: Response) -> Iterator[scrapy.Request]:
        source = self._source(response)
        if not isinstance(response, TextResponse):
            return
        yield from self._section_articles(source, response)
        page = int(response.meta.get("nw_page", 1))
        if page >= self.section_pages:
            return  # bounded pagination: endless "next" links stop here
        next_url = next_page_link(response.text, response.url)
        if next_url:
            next_url = canonicalize_url(next_url)
            if source.owns(next_url) and not is_trap_url(next_url):
                yield self._request(
                    next_url, source, "section", self.parse_section, meta={"nw_page": page + 1}
                )

    def _section_articles(self, source: Source, response: TextResponse) -> Iterator[scrapy.Request]:
        links = section_links(response.text, response.url)
        for url in links:
            if looks_like_article(url):
                yield from self._article_request(source, url, "section")

    # -- articles ------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[ArticlePage]:
        source = self._source(response)
        content_type = response.headers.get(b"Content-Type")
        yield ArticlePage(
            source=source.name,
            url=response.meta["nw_url"],
            response_url=canonicalize_url(response.url),
            status=response.status,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            discovered_via=response.meta["nw_via"],
            hint_published=response.meta.get("nw_published"),
            hint_title=response.meta.get("nw_title"),
            language=source.language,
        )

    def _article_request(
        self,
        source: Source,
        raw_url: str,
        via: str,
        *,
        published: datetime | None = None,
        title: str | None = None,
    ) -> Iterator[scrapy.Request]:
        try:
            url = canonicalize_url(raw_url)
        except ValueError:
            crawlstats.inc(self.crawler, "newswatch/bad_urls")
            return
        if not url.startswith(("http://", "https://")) or url in self._seen:
            return
        if not source.owns(url):
            crawlstats.inc(self.crawler, "newswatch/offsite")
            return
        if is_trap_url(url):
            crawlstats.inc(self.crawler, "newswatch/traps")
            return
        if published is not None and published < self.cutoff:
            crawlstats.inc(self.crawler, "newswatch/too_old")
            return
        self._seen.add(url)
        meta = {"nw_url": url, "nw_via": via, "nw_published": published, "nw_title": title}
        yield self._request(url, source, "article", self.parse_article, ARTICLE_PRIORITY, meta)

    # -- plumbing ------------------------------------------------------------------------

    def _request(
        self,
        url: str,
        source: Source,
        kind: str,
        callback: Any,
        priority: int = SECTION_PRIORITY,
        meta: dict[str, Any] | None = None,
    ) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=priority,
            meta={"nw_source": source.name, "nw_kind": kind, **(meta or {})},
        )

    def _source(self, response: Response) -> Source:
        return self._by_name[response.meta["nw_source"]]

    def on_error(self, failure: Failure) -> Iterable[PageFailure]:
        """Log and count one failed request; the crawl goes on with the others."""
        request = failure.request  # type: ignore[attr-defined]
        source = request.meta.get("nw_source", "?")
        kind = request.meta.get("nw_kind", "?")
        exc = failure.value
        assert exc is not None
        if isinstance(exc, crawlstats.QuietSkip):
            return []  # already known, not modified, over the limit: not an error
        if isinstance(exc, IgnoreRequest) and str(exc) in ("", "Forbidden by robots.txt"):
            crawlstats.inc(self.crawler, "newswatch/robots_forbidden")
            logger.debug("Forbidden by robots.txt: %s", request.url)
            return []
        if isinstance(exc, HttpError):
            status = exc.response.status
            if kind == "robots" and status == 404:
                logger.info("%s has no robots.txt", source)
                return []
            message = f"HTTP {status} for {kind} {request.url}"
        else:
            message = f"{type(exc).__name__} for {kind} {request.url}: {exc}"
        crawlstats.record_error(self.crawler, source, message)
        permanent = crawlstats.is_permanent_failure(exc)
        if kind == "article" and permanent:
            return [PageFailure(source=source, url=request.meta["nw_url"], reason=permanent)]
        return []
