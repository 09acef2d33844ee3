"""The generic spider with in-memory responses: which requests each discovery path yields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scrapy.http import HtmlResponse, Request, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.config import Config, SourceConfig
from crawler.crawl_settings import build_settings
from crawler.spiders.news import NewsSpider


def make_spider(**source: object) -> NewsSpider:
    config = Config(sources=(SourceConfig.model_validate({"name": "site", **source}),))
    crawler = get_crawler(NewsSpider, build_settings(config))
    crawler.stats.open_spider()  # type: ignore[union-attr]
    return NewsSpider.from_crawler(crawler)


def kinds(requests: list[Request]) -> list[tuple[str, str]]:
    return [(r.meta["nw_kind"], r.url) for r in requests]


def test_each_discovery_path_can_be_turned_off():
    urls = {
        "homepage": "https://www.site.ma/",
        "feeds": ["https://www.site.ma/feed/"],
        "sitemaps": ["https://www.site.ma/sitemap.xml"],
        "sections": ["https://www.site.ma/regions/"],
    }
    spider = make_spider(**urls)
    assert kinds(list(spider.discovery_requests(spider.sources[0]))) == [
        ("feed", "https://www.site.ma/feed/"),
        ("sitemap", "https://www.site.ma/sitemap.xml"),
        ("section", "https://www.site.ma/regions/"),
    ]
    only_feeds = make_spider(**urls, discover=["feeds"])
    assert kinds(list(only_feeds.discovery_requests(only_feeds.sources[0]))) == [
        ("feed", "https://www.site.ma/feed/")
    ]


def test_homepage_only_source_is_autodiscovered():
    spider = make_spider(homepage="https://www.site.ma/")
    assert kinds(list(spider.discovery_requests(spider.sources[0]))) == [
        ("homepage", "https://www.site.ma/"),
        ("robots", "https://www.site.ma/robots.txt"),
    ]


def test_sitemap_entries_outside_the_window_or_site_are_not_requested():
    spider = make_spider(sitemaps=["https://www.site.ma/sitemap.xml"])
    recent = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    old = (datetime.now(UTC) - timedelta(days=40)).strftime("%Y-%m-%d")
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://www.site.ma/economie/recent-story-123</loc><lastmod>{recent}</lastmod></url>
  <url><loc>https://www.site.ma/economie/old-story-456</loc><lastmod>{old}</lastmod></url>
  <url><loc>https://elsewhere.ma/economie/other-site-789</loc><lastmod>{recent}</lastmod></url>
  <url><loc>https://www.site.ma/economie/recent-story-123?utm_source=x#top</loc></url>
</urlset>"""
    request = Request("https://www.site.ma/sitemap.xml", meta={"nw_source": "site"})
    response = XmlResponse(request.url, body=body.encode(), request=request)
    requests = list(spider.parse_sitemap(response))
    assert kinds(requests) == [("article", "https://www.site.ma/economie/recent-story-123")]
    stats = spider.crawler.stats
    assert stats.get_value("newswatch/too_old") == 1
    assert stats.get_value("newswatch/offsite") == 1


@pytest.mark.parametrize("page", [1, 2])
def test_section_pagination_is_bounded(page):
    spider = make_spider(sections=["https://www.site.ma/regions/"], discover=["sections"])
    spider.section_pages = 2
    html = """<html><body><main>
      <a href="/regions/la-region-signe-un-accord-de-cooperation-4521">story</a>
      <a href="/tag/cooperation/">tag</a>
    </main><a rel="next" href="/regions/?page=9">next</a></body></html>"""
    request = Request("https://www.site.ma/regions/", meta={"nw_source": "site", "nw_page": page})
    response = HtmlResponse(request.url, body=html.encode(), request=request, encoding="utf-8")
    found = kinds(list(spider.parse_section(response)))
    assert (
        "article",
        "https://www.site.ma/regions/la-region-signe-un-accord-de-cooperation-4521",
    ) in found
    assert not [url for kind, url in found if "/tag/" in url]
    follows_next = ("section", "https://www.site.ma/regions/?page=9") in found
    assert follows_next is (page < 2)
