"""XML documents of the local news site: RSS 2.0 and Atom feeds, sitemaps and sitemap indexes.

Pure functions from values to UTF-8 bytes; the outlets decide what goes in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from collections.abc import Iterable

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
XML_PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True, slots=True)
class FeedItem:
    url: str
    title: str
    published: datetime
    author: str
    summary: str
    category: str = ""
    content_html: str = ""  # WordPress feeds carry the full text in content:encoded
    guid: str = ""


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None = None
    news_title: str = ""  # set for Google News sitemaps
    news_published: datetime | None = None


def rfc822(when: datetime) -> str:
    """RSS dates, e.g. "Mon, 23 Nov 2026 10:15:00 +0000"."""
    return format_datetime(when.astimezone(UTC))


def w3c(when: datetime) -> str:
    """Sitemap and Atom dates, e.g. "2026-11-23T10:15:00+00:00"."""
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


def rss(
    *,
    title: str,
    link: str,
    description: str,
    language: str,
    items: Iterable[FeedItem],
    self_url: str = "",
    generator: str = "",
) -> bytes:
    items = list(items)
    parts = [
        XML_PROLOG,
        (
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n'
        ),
        "<channel>\n",
        f"<title>{escape(title)}</title>\n<link>{escape(link)}</link>\n",
        f"<description>{escape(description)}</description>\n",
        f"<language>{escape(language)}</language>\n",
    ]
    if self_url:
        parts.append(
            f'<atom:link href={quoteattr(self_url)} rel="self" type="application/rss+xml"/>\n'
        )
    if generator:
        parts.append(f"<generator>{escape(generator)}</generator>\n")
    if items:
        newest = max(item.published for item in items)
        parts.append(f"<lastBuildDate>{rfc822(newest)}</lastBuildDate>\n")
    for item in items:
        parts.append("<item>\n")
        parts.append(f"<title>{escape(item.title)}</title>\n<link>{escape(item.url)}</link>\n")
        guid = item.guid or item.url
        permalink = "true" if guid == item.url else "false"
        parts.append(f'<guid isPermaLink="{permalink}">{escape(guid)}</guid>\n')
        parts.append(f"<pubDate>{rfc822(item.published)}</pubDate>\n")
        parts.append(f"<dc:creator><![CDATA[{_cdata(item.author)}]]></dc:creator>\n")
        if item.category:
            parts.append(f"<category><![CDATA[{_cdata(item.category)}]]></category>\n")
        parts.append(f"<description><![CDATA[{_cdata(item.summary)}]]></description>\n")
        if item.content_html:
            parts.append(
                f"<content:encoded><![CDATA[{_cdata(item.content_html)}]]></content:encoded>\n"
            )
        parts.append("</item>\n")
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


def atom(*, title: str, link: str, self_url: str, items: Iterable[FeedItem], feed_id: str) -> bytes:
    items = list(items)
    updated = max((item.published for item in items), default=datetime.now(UTC))
    parts = [
        XML_PROLOG,
        '<feed xmlns="http://www.w3.org/2005/Atom">\n',
        f"<id>{escape(feed_id)}</id>\n<title>{escape(title)}</title>\n",
        f"<updated>{w3c(updated)}</updated>\n",
        f'<link rel="alternate" type="text/html" href={quoteattr(link)}/>\n',
        f'<link rel="self" type="application/atom+xml" href={quoteattr(self_url)}/>\n',
    ]
    for item in items:
        parts.append("<entry>\n")
        parts.append(f"<id>{escape(item.guid or item.url)}</id>\n")
        parts.append(f'<title type="text">{escape(item.title)}</title>\n')
        parts.append(f'<link rel="alternate" type="text/html" href={quoteattr(item.url)}/>\n')
        parts.append(f"<published>{w3c(item.published)}</published>\n")
        parts.append(f"<updated>{w3c(item.published)}</updated>\n")
        parts.append(f"<author><name>{escape(item.author)}</name></author>\n")
        if item.category:
            parts.append(f"<category term={quoteattr(item.category)}/>\n")
        parts.append(f'<summary type="text">{escape(item.summary)}</summary>\n')
        parts.append("</entry>\n")
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8")


def urlset(entries: Iterable[SitemapEntry]) -> bytes:
    parts = [XML_PROLOG, f'<urlset xmlns="{SITEMAP_NS}">\n']
    for entry in entries:
        parts.append(f"<url><loc>{escape(entry.url)}</loc>")
        if entry.lastmod:
            parts.append(f"<lastmod>{w3c(entry.lastmod)}</lastmod>")
        parts.append("</url>\n")
    parts.append("</urlset>\n")
    return "".join(parts).encode("utf-8")


def news_urlset(entries: Iterable[SitemapEntry], *, publication: str, language: str) -> bytes:
    """A Google News sitemap: each URL with news:publication_date and news:title."""
    parts = [XML_PROLOG, f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">\n']
    for entry in entries:
        published = entry.news_published or entry.lastmod or datetime.now(UTC)
        parts.append(f"<url>\n<loc>{escape(entry.url)}</loc>\n")
        if entry.lastmod:
            parts.append(f"<lastmod>{w3c(entry.lastmod)}</lastmod>\n")
        parts.append(
            "<news:news>\n<news:publication>\n"
            f"<news:name>{escape(publication)}</news:name>\n"
            f"<news:language>{escape(language)}</news:language>\n"
            "</news:publication>\n"
            f"<news:publication_date>{w3c(published)}</news:publication_date>\n"
            f"<news:title>{escape(entry.news_title)}</news:title>\n"
            "</news:news>\n</url>\n"
        )
    parts.append("</urlset>\n")
    return "".join(parts).encode("utf-8")


def sitemap_index(children: Iterable[tuple[str, datetime | None]]) -> bytes:
    parts = [XML_PROLOG, f'<sitemapindex xmlns="{SITEMAP_NS}">\n']
    for url, lastmod in children:
        parts.append(f"<sitemap><loc>{escape(url)}</loc>")
        if lastmod:
            parts.append(f"<lastmod>{w3c(lastmod)}</lastmod>")
        parts.append("</sitemap>\n")
    parts.append("</sitemapindex>\n")
    return "".join(parts).encode("utf-8")


def _cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")
