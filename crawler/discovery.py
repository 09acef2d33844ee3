"""Discovery parsers: fetched feed, sitemap, robots.txt and listing-page bodies to candidate URLs.

Pure functions: the spider fetches, this module only reads bytes it is given. Feeds go through
feedparser, sitemaps through Scrapy's entity-safe parser; neither ever resolves an entity or
loads a DTD. Filtering by site, age and article shape is left to the spider and `crawler.urls`.
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin
from xml.sax import SAXParseException

import feedparser
import lxml.etree
import lxml.html
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.errors import SourceError
from crawler.urls import canonicalize_url

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    url: str  # absolute, not yet canonical
    title: str | None
    published: datetime | None  # aware, UTC


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    url: str  # absolute, not yet canonical
    lastmod: datetime | None
    news_title: str | None  # <news:title> of a Google News sitemap
    news_published: datetime | None  # <news:publication_date>


@dataclass(frozen=True, slots=True)
class SitemapDocument:
    kind: Literal["index", "urlset"]
    entries: list[SitemapEntry]  # for an index, the child sitemaps


# -- feeds -----------------------------------------------------------------------------------

# Any entity declaration, anywhere. Entity declarations only belong in the DOCTYPE, but finding
# where the prolog ends needs a parser, and a comment can fake an early root element; a literal
# "<!ENTITY" inside a news item's CDATA is not worth that risk. What the libraries do alone:
# feedparser strips `<!ENTITY` lines from the prolog with a line-anchored regex and re-inserts
# only plain-text ones, so the classic multi-line billion-laughs and `SYSTEM "file://..."` XXE
# come out unexpanded; but with the declarations on one line its regex misses them and expat
# expands them until its amplification limit (expat >= 2.4) stops it, after ~0.25 s of work.
# Rejecting first keeps the cost at one scan.
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


def parse_feed(body: bytes, url: str) -> list[FeedEntry]:
    """Entries of an RSS 0.9x/1.0/2.0 or Atom feed; a valid feed without items gives [].

    Raises:
        SourceError: the body is not a feed (an HTML error page, garbage), or it declares
            XML entities.
    """
    if not body.strip():
        raise SourceError(f"{url}: not a feed (empty body)")
    _reject_entities(body, url, "feed")
    # A BytesIO, never the bytes: feedparser.parse() treats a bytes argument as a file name
    # to open when it is one, so a body reading "/etc/passwd" would be read from disk.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-location": url},
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    if not parsed.get("version"):
        error = parsed.get("bozo_exception")
        reason = (
            f"not well-formed XML: {error}"
            if isinstance(error, SAXParseException)
            else "no RSS or Atom root element"
        )
        raise SourceError(f"{url}: not a feed ({reason}); check the URL in a browser")
    if parsed.get("bozo"):
        logger.debug("Feed %s is malformed, read leniently: %s", url, parsed.get("bozo_exception"))
    entries: list[FeedEntry] = []
    for entry in parsed.entries:
        link = _entry_link(entry)
        if link is None:
            continue
        entries.append(
            FeedEntry(
                url=urljoin(url, link), title=_text(entry, "title"), published=_published(entry)
            )
        )
    return entries


def _reject_entities(body: bytes, url: str, what: str) -> None:
    # UTF-16/32 documents put NULs between the ASCII bytes of "<!ENTITY".
    sample = body.replace(b"\x00", b"") if b"\x00" in body[:4] else body
    if _ENTITY_DECLARATION.search(sample):
        raise SourceError(
            f"{url}: {what} declares XML entities (<!ENTITY>), refused as unsafe "
            "(entity expansion or external entity attack)"
        )


# feedparser's dict maps missing keys to look-alikes with a DeprecationWarning
# (updated_parsed -> published_parsed); plain dict.get reads only what the feed said.
def _text(entry: dict[str, Any], key: str) -> str | None:
    value = dict.get(entry, key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _entry_link(entry: dict[str, Any]) -> str | None:
    link = _text(entry, "link")
    if link:
        return link
    guid = _text(entry, "id")  # RSS <guid isPermaLink="true"> without <link>
    return guid if guid and guid.startswith(("http://", "https://")) else None


def _published(entry: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)
        if value is not None:
            try:
                return datetime.fromtimestamp(timegm(value), UTC)  # feedparser gives UTC
            except (TypeError, ValueError, OverflowError):
                continue
    return parse_date(_text(entry, "published") or _text(entry, "updated"))


# -- sitemaps --------------------------------------------------------------------------------

_GZIP_MAGIC = b"\x1f\x8b"


def decompress_sitemap(body: bytes, url: str, max_size: int) -> bytes:
    """Gunzip a `.xml.gz` sitemap, cut at `max_size` decompressed bytes (gzip bombs).

    Only the gzip magic bytes decide: a `.gz` URL whose body is already plain XML was
    decompressed by the HTTP layer (Content-Encoding) and is returned as is.

    Raises:
        SourceError: the sitemap is larger than `max_size` once decompressed, or the gzip
            stream is corrupt.
    """
    if not body.startswith(_GZIP_MAGIC):
        if len(body) > max_size:
            raise SourceError(f"{url}: sitemap larger than {max_size} bytes")
        return body
    try:
        # Scrapy's gunzip reads 64 KiB at a time and raises (a ValueError subclass) as soon
        # as the running total passes max_size, so a bomb costs at most max_size of memory.
        return gunzip(body, max_size=max_size)
    except ValueError as exc:
        raise SourceError(f"{url}: sitemap larger than {max_size} bytes when decompressed") from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"{url}: sitemap is not valid gzip ({exc})") from exc


_SITEMAP_KINDS: dict[str, Literal["index", "urlset"]] = {
    "sitemapindex": "index",
    "urlset": "urlset",
}
_NEWS_NAMESPACE = b"google.com/schemas/sitemap-news/"


def parse_sitemap(body: bytes, url: str) -> SitemapDocument:
    """A sitemap index (its child sitemaps) or a urlset (its pages, with Google News fields).

    Raises:
        SourceError: the body is not a sitemap.
    """
    if not body.strip():
        raise SourceError(f"{url}: not a sitemap (empty body)")
    _reject_entities(body, url, "sitemap")  # lxml would not expand them either; be explicit
    try:
        sitemap = Sitemap(body)
        kind = _SITEMAP_KINDS.get(sitemap.type)
        if kind is None:
            hint = "; list it under `feeds`" if sitemap.type in {"rss", "feed", "RDF"} else ""
            raise SourceError(f"{url}: not a sitemap (root element <{sitemap.type}>){hint}")
        raw = list(sitemap)
    except (lxml.etree.LxmlError, StopIteration) as exc:
        detail = f": {exc}" if str(exc) else ""
        raise SourceError(f"{url}: not a sitemap (not XML{detail})") from exc
    news = _news_fields(body) if kind == "urlset" and _NEWS_NAMESPACE in body else {}
    entries: list[SitemapEntry] = []
    for item in raw:
        loc = str(item.get("loc") or "").strip()
        if not loc:
            continue
        title, published = news.get(loc, (None, None))
        entries.append(
            SitemapEntry(
                url=urljoin(url, loc),
                lastmod=parse_date(item.get("lastmod")),
                news_title=title,
                news_published=published,
            )
        )
    return SitemapDocument(kind=kind, entries=entries)


def _news_fields(body: bytes) -> dict[str, tuple[str | None, datetime | None]]:
    """<news:title> and <news:publication_date> by <loc>: Scrapy's parser clears nested elements.

    Same safety as Scrapy's parser: no entity substitution, no DTD, no network, libxml2's
    default size limits (huge_tree=False).
    """
    fields: dict[str, tuple[str | None, datetime | None]] = {}
    events = lxml.etree.iterparse(
        io.BytesIO(body),
        events=("end",),
        tag="{*}url",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
    )
    try:
        for _, element in events:
            loc = (element.findtext("{*}loc") or "").strip()
            news = element.find("{*}news")
            if loc and news is not None:
                title = (news.findtext("{*}title") or "").strip() or None
                fields[loc] = (title, parse_date(news.findtext("{*}publication_date")))
            element.clear()
    except lxml.etree.LxmlError as exc:
        logger.debug("News fields of a sitemap are partly unreadable: %s", exc)
    return fields


def sitemaps_from_robots(robots_txt: str, base_url: str) -> list[str]:
    """Absolute URLs of the `Sitemap:` lines of a robots.txt, in order, without duplicates."""
    found = sitemap_urls_from_robots(robots_txt.encode("utf-8"), base_url=base_url)
    return list(dict.fromkeys(u for u in found if u.startswith(("http://", "https://"))))


# -- HTML pages ------------------------------------------------------------------------------

# RSS and Atom as announced in the wild (the x- and text/ forms are not IANA types but common).
# JSON Feed is left out: feedparser 6 cannot read it.
_FEED_TYPES = frozenset(
    {
        "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/rss",
        "application/x-rss+xml", "application/x-atom+xml", "text/rss+xml", "text/atom+xml",
    }
)  # fmt: skip


def _parse_html(html: str) -> lxml.html.HtmlElement | None:
    # Bytes plus an explicit encoding: lxml refuses str input that carries an XML declaration.
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        root = lxml.html.fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.LxmlError, ValueError):
        return None
    return root if isinstance(root, lxml.html.HtmlElement) else None


def _base(root: lxml.html.HtmlElement, base_url: str) -> str:
    for href in root.xpath("//base/@href"):
        return urljoin(base_url, str(href).strip())
    return base_url


def _absolute(href: object, base: str) -> str | None:
    """Canonical absolute http(s) URL of an href, or None (mailto:, javascript:, garbage)."""
    if not isinstance(href, str) or not href.strip() or href.strip().startswith("#"):
        return None
    try:
        return canonicalize_url(href, base)
    except ValueError:
        return None


def feed_links_from_html(html: str, base_url: str) -> list[str]:
    """Feeds a page announces with <link rel="alternate" type="application/rss+xml" href>."""
    root = _parse_html(html)
    if root is None:
        return []
    base = _base(root, base_url)
    links: list[str] = []
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in _FEED_TYPES:
            url = _absolute(link.get("href"), base)
            if url and url not in links:
                links.append(url)
    return links


_SKIPPED_TAGS = frozenset({"nav", "footer", "aside", "script", "style", "noscript", "template"})
_SKIPPED_ROLES = frozenset({"navigation", "contentinfo", "complementary", "search", "menu"})
_MAIN_TAGS = frozenset({"main", "article"})
_BOILERPLATE_WORDS = frozenset(
    {
        "sidebar", "widget", "widgets", "menu", "navbar", "nav", "breadcrumb", "breadcrumbs",
        "footer", "social", "share", "sharing", "cookie", "cookies", "newsletter", "comments",
    }
)  # fmt: skip
# "has-sidebar", "with-menu", "layout-with-sidebar" describe a layout, not a boilerplate block.
_STATE_WORDS = frozenset({"has", "with", "without", "no", "is", "layout"})


def section_links(html: str, base_url: str) -> list[str]:
    """Links of a listing page, canonical and absolute, deduplicated, main content first.

    Links in <nav>, <footer>, <aside>, the page-level <header> and blocks classed like menus or
    sidebars are dropped; links inside <main> or <article> come before the rest, each group in
    page order. Whether a link is an article is left to `crawler.urls.looks_like_article`.
    """
    root = _parse_html(html)
    if root is None:
        return []
    base = _base(root, base_url)
    main: list[str] = []
    rest: list[str] = []
    for href, in_main in _content_links(root):
        url = _absolute(href, base)
        if url:
            (main if in_main else rest).append(url)
    return list(dict.fromkeys([*main, *rest]))


def _content_links(root: lxml.html.HtmlElement) -> Iterator[tuple[str | None, bool]]:
    """(href, inside main content) for each <a> outside boilerplate, in document order."""
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        element, in_main = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""
        if _is_boilerplate(element, tag, in_main):
            continue
        in_main = in_main or tag in _MAIN_TAGS or element.get("role") == "main"
        if tag == "a":
            yield element.get("href"), in_main
        stack.extend((child, in_main) for child in reversed(element))


def _is_boilerplate(element: Any, tag: str, in_main: bool) -> bool:
    if tag in _SKIPPED_TAGS or (tag == "header" and not in_main):
        return True
    if tag in {"html", "body"}:
        return False  # page-wide classes ("has-sidebar") say nothing about one block
    if (element.get("role") or "").lower() in _SKIPPED_ROLES:
        return True
    tokens = f"{element.get('class') or ''} {element.get('id') or ''}".lower().split()
    if not any(_names_boilerplate(token) for token in tokens):
        return False
    # A wrapper classed "with-sidebar" may still hold the articles: keep it when it does.
    return element.find(".//article") is None and element.find(".//main") is None


def _names_boilerplate(token: str) -> bool:
    words = re.split(r"[-_]", token)
    return not _STATE_WORDS & set(words) and bool(_BOILERPLATE_WORDS & set(words))


_NEXT_LABELS = frozenset(
    {"next", "next page", "suivant", "suivante", "page suivante", "التالي", "الصفحة التالية"}
)
_ARROWS = "»›→>"
_ARROW_ONLY = frozenset({"»", "›", "→", ">"})  # "»»" is usually the last page, not the next


def next_page_link(html: str, base_url: str) -> str | None:
    """The next page of a listing: rel=next, else a link labelled next/suivant/»/التالي, else
    a link (or its parent) classed "next". None when there is none or it points to this page."""
    root = _parse_html(html)
    if root is None:
        return None
    base = _base(root, base_url)
    here = _absolute(base_url, base_url)
    candidates = root.xpath("//link[@href] | //a[@href]")
    for test in (_is_rel_next, _is_labelled_next, _is_classed_next):
        for element in candidates:
            if element.tag == "link" and test is not _is_rel_next:
                continue
            if test(element):
                url = _absolute(element.get("href"), base)
                if url and url != here:
                    return url
    return None


def _is_rel_next(element: Any) -> bool:
    return "next" in (element.get("rel") or "").lower().split()


def _is_labelled_next(element: Any) -> bool:
    label = " ".join(element.text_content().split()).lower()
    label = label or (element.get("aria-label") or element.get("title") or "").strip().lower()
    bare = label.strip(_ARROWS + " ")
    return bare in _NEXT_LABELS or label in _ARROW_ONLY


def _is_classed_next(element: Any) -> bool:
    parent = element.getparent()
    classes = f"{element.get('class') or ''} {'' if parent is None else parent.get('class') or ''}"
    return bool(re.search(r"(?:^|[-_\s])next(?:$|[-_\s])", classes, re.IGNORECASE))


# -- dates -----------------------------------------------------------------------------------

_YEAR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def parse_date(value: str | None) -> datetime | None:
    """A W3C/ISO 8601 or RFC 822 date as an aware UTC datetime; None when unreadable.

    A date without a time zone is taken as UTC: feeds and sitemaps that omit it are mostly
    generated in UTC, and an hour of error does not matter for a 14-day cutoff.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    parsed: datetime | None = None
    if match := _YEAR_MONTH.match(text):  # W3C-DTF allows YYYY and YYYY-MM
        try:
            parsed = datetime(int(match[1]), int(match[2] or 1), 1)
        except ValueError:
            return None
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed out of range by the offset
        return None


__all__ = [
    "FeedEntry",
    "SitemapDocument",
    "SitemapEntry",
    "decompress_sitemap",
    "feed_links_from_html",
    "next_page_link",
    "parse_date",
    "parse_feed",
    "parse_sitemap",
    "section_links",
    "sitemaps_from_robots",
]
