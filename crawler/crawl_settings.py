"""Scrapy settings of newswatch: our configuration turned into Scrapy's, plus fixed politeness.

Used by `crawler.runner` for `newswatch crawl` and by `crawler.settings` for `scrapy crawl`. Politeness is fixed in code (robots.txt, AutoThrottle, per-domain
concurrency, size limits); users tune only the few knobs exposed in `[crawl]`. To add a setting,
put it in `build_settings` with a comment saying why, and document any new config key in README.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.settings import default_settings

if TYPE_CHECKING:
    from crawler.config import Config


def build_settings(config: Config) -> dict[str, Any]:
    crawl = config.crawl
    return {
        "BOT_NAME": "newswatch",
        "SPIDER_MODULES": ["crawler.spiders"],
        "NEWSPIDER_MODULE": "crawler.spiders",
        "NEWSWATCH_CONFIG": config,
        # Politeness: identify honestly, obey robots.txt, and never hammer one host.
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        # Scrapy runs this many parallel tasks for every response's output; an article page
        # yields one item, so Scrapy's 100 cost more than the page (measured: 1/3 of the crawl).
        "CONCURRENT_ITEMS": 4,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_DELAY_JITTER": 0.5,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 1.0),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency_per_domain),
        # Limits: a huge page or a decompression bomb is cut, not inflated (Scrapy applies
        # DOWNLOAD_MAXSIZE to decompressed bodies too); sitemaps use the same limit.
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": crawl.max_page_bytes // 2,
        "REDIRECT_MAX_TIMES": 5,
        "DEPTH_LIMIT": 8,
        # Retries: transient errors once or twice; 429/503 wait as Retry-After asks.
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 504, 522, 524, 408],
        # Session cookies turn one article into endless URLs; news sites need none.
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "CLOSESPIDER_TIMEOUT": crawl.max_duration,
        "DOWNLOADER_MIDDLEWARES": {
            # The spider keeps each source to its own sites (`Source.owns`) and sets no
            # `allowed_domains`, so Scrapy's offsite check let everything through, at 5% of the
            # crawl's main-process time (benchmarks/crawl_local.py).
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "crawler.middlewares.IncrementalMiddleware": 80,
            "crawler.middlewares.RetryAfterMiddleware": 560,
            # Scrapy's own, at its own place, minus decoding every page to look for a refresh.
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "crawler.middlewares.MetaRefreshMiddleware": 580,
        },
        # Warns developers whose spiders copy Scrapy's internal meta keys; ours does not, and
        # it wraps the output of every page in one more asynchronous generator.
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None
        },
        "ITEM_PIPELINES": {"crawler.pipelines.ArticlePipeline": 300},
        # Scrapy's remote control runs Python code sent to a localhost port and writes a job
        # file to the user's profile; newswatch needs neither. Left out of the base list rather
        # than disabled in EXTENSIONS, where Scrapy imports every key, even one set to None:
        # its module then is not even imported (aiohttp: 0.1 s of every crawl's start).
        "EXTENSIONS_BASE": {
            name: order
            for name, order in default_settings.EXTENSIONS_BASE.items()
            if name != "scrapy.extensions.remote_control.RemoteControl"
        },
        "EXTENSIONS": {"crawler.progress.ProgressLine": 500},
        # Feeds and sitemaps often answer gzip; brotli is installed with its security floor.
        "COMPRESSION_ENABLED": True,
        # Twisted's own reactor (epoll on Linux), not Scrapy's default asyncio one: the asyncio
        # event loop and Scrapy's glue around it were a sixth of a crawl's main-process time
        # (benchmarks/crawl_local.py). Our coroutines await Deferreds (`crawler.awaiting`).
        "TWISTED_REACTOR": None,
    }
