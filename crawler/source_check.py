"""`newswatch sources --check`: fetch each source's robots.txt, feeds and sitemaps once and report.

This is a one-shot probe, not a crawl: a handful of requests per source with the crawl's user
agent, timeout and size limit, run a few sources at a time. It never fetches an article page.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from crawler.discovery import (
    decompress_sitemap,
    feed_links_from_html,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)
from crawler.errors import SourceError
from crawler.sources import Source

if TYPE_CHECKING:
    from crawler.config import Config

logger = logging.getLogger(__name__)

MAX_CHILDREN = 10  # child sitemaps of an index probed by --check


@dataclass(frozen=True, slots=True)
class Probe:
    kind: str  # robots | homepage | feed | sitemap
    url: str
    ok: bool
    entries: int = 0
    recent: int = 0  # entries within max_age_days (or undated)
    error: str = ""


@dataclass(slots=True)
class SourceReport:
    source: str
    probes: list[Probe] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return any(p.ok and p.kind in ("feed", "sitemap") and p.entries for p in self.probes)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "ok": self.ok, "probes": [asdict(p) for p in self.probes]}


class _Fetcher:
    def __init__(self, config: Config) -> None:
        self.user_agent = config.crawl.user_agent
        self.timeout = config.crawl.download_timeout
        self.max_bytes = config.crawl.max_page_bytes

    def get(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read(self.max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise SourceError(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceError(f"cannot connect: {reason}") from None
        if len(body) > self.max_bytes:
            raise SourceError(f"larger than {self.max_bytes} bytes")
        return body


def check_sources(config: Config) -> list[SourceReport]:
    fetcher = _Fetcher(config)
    cutoff = datetime.now(UTC) - timedelta(days=config.crawl.max_age_days)
    sources = [Source.from_config(s) for s in config.sources]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda s: check_source(s, fetcher, cutoff), sources))


def check_source(source: Source, fetcher: _Fetcher, cutoff: datetime) -> SourceReport:
    report = SourceReport(source.name)
    feeds = list(source.feeds) if source.uses("feeds") else []
    sitemaps = list(source.sitemaps) if source.uses("sitemaps") else []
    if source.origin:
        robots_url = f"{source.origin}/robots.txt"
        try:
            text = fetcher.get(robots_url).decode("utf-8", "replace")
        except SourceError as exc:
            report.probes.append(Probe("robots", robots_url, False, error=str(exc)))
        else:
            listed = sitemaps_from_robots(text, robots_url)
            report.probes.append(Probe("robots", robots_url, True, entries=len(listed)))
            if not sitemaps and source.uses("sitemaps"):
                sitemaps = [url for url in listed if source.owns(url)]
    if not feeds and source.homepage and source.uses("feeds"):
        try:
            html = fetcher.get(source.homepage).decode("utf-8", "replace")
        except SourceError as exc:
            report.probes.append(Probe("homepage", source.homepage, False, error=str(exc)))
        else:
            feeds = [u for u in feed_links_from_html(html, source.homepage) if source.owns(u)]
            report.probes.append(Probe("homepage", source.homepage, True, entries=len(feeds)))
    for url in feeds:
        report.probes.append(_probe_feed(url, fetcher, cutoff))
    for url in sitemaps:
        report.probes.extend(_probe_sitemap(url, fetcher, cutoff, source))
    logger.info("Checked %s: %s", source.name, "ok" if report.ok else "problems")
    return report


def _probe_feed(url: str, fetcher: _Fetcher, cutoff: datetime) -> Probe:
    try:
        entries = parse_feed(fetcher.get(url), url)
    except SourceError as exc:
        return Probe("feed", url, False, error=_short(exc, url))
    recent = sum(1 for e in entries if e.published is None or e.published >= cutoff)
    return Probe("feed", url, True, entries=len(entries), recent=recent)


def _probe_sitemap(
    url: str, fetcher: _Fetcher, cutoff: datetime, source: Source, depth: int = 0
) -> list[Probe]:
    """The sitemap, and for an index its recent children (one level, at most MAX_CHILDREN)."""
    try:
        document = parse_sitemap(decompress_sitemap(fetcher.get(url), url, fetcher.max_bytes), url)
    except SourceError as exc:
        return [Probe("sitemap", url, False, error=_short(exc, url))]
    dates = [e.news_published or e.lastmod for e in document.entries]
    recent = sum(1 for d in dates if d is None or d >= cutoff)
    if document.kind == "urlset":
        return [Probe("sitemap", url, True, entries=len(document.entries), recent=recent)]
    probes = [Probe("sitemap index", url, True, entries=len(document.entries), recent=recent)]
    if depth == 0:
        children = [
            e.url
            for e in document.entries
            if (e.lastmod is None or e.lastmod >= cutoff) and source.owns(e.url)
        ]
        for child in children[:MAX_CHILDREN]:
            probes.extend(_probe_sitemap(child, fetcher, cutoff, source, depth + 1))
    return probes


def _short(exc: Exception, url: str) -> str:
    """Discovery errors start with the URL; the report already shows it."""
    return str(exc).removeprefix(f"{url}: ")
