"""Runs one crawl with Scrapy and returns its recorded run. It does no parsing itself."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.crawl_settings import build_settings
from crawler.filter import RuleEngine
from crawler.pipelines import RUN_ID_KEY
from crawler.spiders.news import NewsSpider
from crawler.workers import WorkerPool, shared_pool
from storage.errors import StorageError
from storage.locks import crawl_lock
from storage.repository import Repository

if TYPE_CHECKING:
    from collections.abc import Sequence

    from crawler.config import Config
    from storage.records import RunView

logger = logging.getLogger(__name__)


def check_before_crawl(config: Config, source_names: Sequence[str]) -> None:
    """Fail fast, before any request: bad source names, bad rules, unreachable database."""
    config.select_sources(list(source_names))
    RuleEngine.from_path(config.rules_path())
    Repository(config.database.url).close()


def run_crawl(config: Config, source_names: Sequence[str] = ()) -> RunView:
    """Crawl the chosen sources (all by default) once, in this process, and return the run."""
    check_before_crawl(config, source_names)
    pool = WorkerPool(config.crawl.workers, config.rules_path())
    with crawl_lock(config.database.url), shared_pool(pool):
        with Repository(config.database.url) as repository:
            abandoned = repository.close_abandoned_runs()
        if abandoned:
            logger.warning("%d earlier crawl(s) had been killed; marked as interrupted", abandoned)
        settings = Settings(
            {
                **build_settings(config),
                "LOG_INSTALL_ROOT_HANDLER": False,
            }
        )
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(NewsSpider)
        process.crawl(crawler, source=",".join(source_names))
        process.start()
    assert crawler.stats is not None
    run_id = crawler.stats.get_value(RUN_ID_KEY)
    if run_id is None:
        raise StorageError("the crawl ended before its run could be recorded; see the log above")
    with Repository(config.database.url) as repository:
        return repository.get_run(int(run_id))
