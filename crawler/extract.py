"""Article extraction: decoded HTML text in, `ExtractedArticle` out, or `ExtractionError`.

trafilatura finds the main text, title, author and description. This module adds what it does not
do well for news: full publication timestamps, the declared canonical URL, the language, and the
removal of other stories' headlines. It does no I/O and never sees raw bytes (trafilatura would
decompress them again without a size limit): decoding is `crawler.encoding`'s job.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from copy import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from lxml.etree import XPath
from urllib3.exceptions import DependencyWarning

# trafilatura's downloader probes for SOCKS proxy support when imported, and urllib3 warns that
# PySocks is missing. newswatch never downloads through trafilatura (Scrapy fetches the pages).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DependencyWarning)
    import trafilatura
    from trafilatura.settings import Extractor

from crawler import metadata_trim, readability_gate
from crawler.encoding import clean_text
from crawler.errors import ExtractionError
from crawler.template_verdicts import template_verdicts

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """What a news page says about itself; every string has been through `clean_text`."""

    title: str
    text: str
    published_at: datetime | None  # aware, UTC
    author: str | None
    language: str | None  # ISO 639-1: "fr", "en", "ar", ...
    canonical_url: str | None  # absolute, as declared by the page (rel=canonical, og:url)
    description: str | None


def build_extractor() -> Extractor:
    """Build the one trafilatura configuration a crawl (or a worker) shares.

    Measured with benchmarks/extract_speed.py (ms per page, typical 19 KB / heavy 155 KB page):
    - precision, not balanced (+1 / +7 ms): a sidebar headline in the text makes the filter
      match a story the page is not about, and balanced mode accepted the listing and gallery
      golden pages as articles (767 and 407 chars of teasers and captions).
    - no `extensive_search` for htmldate: free when the page declares a date, but it doubled
      the time (30 -> 60 ms) on a heavy page without one; the dates read here come first anyway.
    - no `deduplicate`: its cache is module-global, so it drops paragraphs, and whole pages,
      once seen twice earlier in the process; repeats are removed within each article instead.
    - not `fast` (it would save 2 / 9 ms): the readability/justext fallback rescues odd layouts.
      Readability is skipped where it cannot win (`crawler.readability_gate`: 1 ms a page).
    - tables on: with them off trafilatura deletes every table, and the text of old table-layout
      sites with them. Comments off: readers' opinions are not the story.
    - `max_date` is fixed when the extractor is built: build one per crawl, not per process.
    - categories, tags and license are not searched for (`crawler.metadata_trim`): nothing
      keeps them, and they were half of trafilatura's metadata time.
    """
    metadata_trim.install()
    gated = readability_gate.install()
    extractor = (readability_gate.GatedExtractor if gated else Extractor)(
        output_format="python",
        precision=True,
        comments=False,
        tables=True,
        with_metadata=True,
    )
    # Set after construction: the constructor's annotation wants str values, htmldate wants bools.
    extractor.date_params = {
        "original_date": True,
        "extensive_search": False,
        "max_date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    return extractor


def extract_article(
    html: str,
    url: str,
    *,
    extractor: Extractor | None = None,
    min_text_chars: int = 400,
    language_hint: str | None = None,
) -> ExtractedArticle:
    """Extract the article of one page already fetched and decoded.

    Args:
        html: the decoded body (see `crawler.encoding.decode_html`).
        url: the URL the page was fetched from; relative canonical links resolve against it.
        extractor: from `build_extractor()`; building one per page wastes time.
        min_text_chars: shorter texts are not articles (listing pages, galleries, stubs).
        language_hint: the source's configured language, used when the page does not tell.

    Raises:
        ExtractionError: the page is not HTML, holds no article text, or too little of it.
    """
    if not _looks_like_html(html):
        raise ExtractionError("not HTML", url)
    tree = trafilatura.load_html(html)
    if tree is None:
        raise ExtractionError("not HTML", url)

    link_texts = _long_link_texts(tree)
    _prune_boilerplate(tree)
    options = copy(extractor or build_extractor())
    options.url = options.source = url
    with metadata_trim.skipping():
        document = trafilatura.bare_extraction(tree, url=url, options=options)
    if document is None or isinstance(document, dict) or not document.text:
        raise ExtractionError("no article text", url)

    title = clean_text(document.title or "")
    text = _clean_body(document.text, title, link_texts)
    if not text:
        raise ExtractionError("no article text", url)
    if len(text) < min_text_chars:
        raise ExtractionError(f"text too short ({len(text)} chars)", url)
    if not title:
        title = clean_text(text.split("\n", 1)[0][:200])
    article = ExtractedArticle(
        title=title,
        text=text,
        published_at=_published_at(tree, document.date),
        author=_clean_author(document.author),
        language=_language(tree, text, language_hint),
        canonical_url=_canonical_url(tree, url),
        description=clean_text(document.description or "") or None,
    )
    logger.debug(
        "Extracted %s: %d chars, language %s, published %s",
        url,
        len(text),
        article.language,
        article.published_at,
    )
    return article


# --- input checks and pruning -------------------------------------------------------------

_NOT_HTML_START = ("%PDF", "{", "[", "GIF8", "\x89PNG", "PK\x03\x04")
_FEED_ROOT = re.compile(r"<(?:rss|feed|rdf:RDF|urlset|sitemapindex)\b", re.IGNORECASE)
_HTML_MARK = re.compile(r"<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE)


def _looks_like_html(html: str) -> bool:
    """Reject PDFs, JSON, images and XML feeds that reached us with an HTML-ish content type.

    Only the markers are required, not that they come first: some CMSs print PHP warnings before
    the doctype.
    """
    head = html[:4096].lstrip("\ufeff \t\r\n")
    # A stray NUL happens in broken templates; many of them mean a binary file.
    if head.startswith(_NOT_HTML_START) or head.count("\x00") > 8:
        return False
    html_mark = _HTML_MARK.search(head)
    feed_mark = _FEED_ROOT.search(head)
    if feed_mark is not None and (html_mark is None or feed_mark.start() < html_mark.start()):
        return False
    return html_mark is not None


# Blocks that list *other* stories or readers' comments. trafilatura drops most of them, but not
# when they are built from <article> cards, which it may take for the main content.
_BOILERPLATE_BLOCKS = (
    r"(?:^|[\s_-])(?:related|most-?read|most-?popular|most-?viewed|popular-?posts|trending"
    r"|plus-?lus|lire-?aussi|read-?also|read-?more|recommended|more-?stories"
    r"|recent-?(?:posts|entries|news)|latest-?(?:posts|news|articles)"
    r"|sidebar|comments?|comment-?list|newsletter)(?:$|[\s_-])"
)
_BOILERPLATE_BLOCK = re.compile(_BOILERPLATE_BLOCKS, re.IGNORECASE)
# The whole document's, in document order: markup after </html> becomes a second top-level
# element, outside the root's subtree, whose dates and links the metadata lookups still read.
_BLOCKS = XPath("//div | //section | //aside | //ul | //ol")
_HOLDS_ARTICLE = XPath("boolean(.//h1 | .//*[@itemprop='articleBody'])")


def _prune_boilerplate(tree: HtmlElement) -> None:
    """Remove other-stories and comment blocks, never one holding most of the page's text.

    The guard matters: wrappers such as Genesis' "content-sidebar-wrap" hold the article too.
    """
    # Tested here rather than in one XPath with EXSLT's re:test: 0.1 ms less a page.
    candidates = [
        element
        for element in _BLOCKS(tree)
        if _is_boilerplate_block(element.get("id"), element.get("class"))
        and not _HOLDS_ARTICLE(element)
    ]
    if not candidates:
        return
    page_chars = _visible_chars(tree)
    removed: set[HtmlElement] = set()
    for element in candidates:  # document order: an ancestor comes before its descendants
        if any(ancestor in removed for ancestor in element.iterancestors()):
            continue
        if _visible_chars(element) * 2 > page_chars:
            continue
        removed.add(element)
    for element in removed:
        element.drop_tree()


@template_verdicts  # 0.3 ms less a 130 KB news page
def _is_boilerplate_block(id_: str | None, class_: str | None) -> bool:
    return bool((id_ or class_) and _BOILERPLATE_BLOCK.search(f"{id_ or ''} {class_ or ''}"))


def _visible_chars(element: HtmlElement) -> int:
    hidden = sum(len(node.text or "") for node in element.iter("script", "style"))
    return len(element.text_content()) - hidden


def _long_link_texts(tree: HtmlElement) -> frozenset[str]:
    """Texts of links long enough to be headlines: such a line in the text is another story."""
    links = tree.xpath("//a[string-length(normalize-space()) >= 30]")
    return frozenset(" ".join(a.text_content().split()) for a in links)


# --- text ----------------------------------------------------------------------------------

# In-body "read also" teasers link to another story; their headline is not this article's text.
_READ_ALSO = re.compile(
    r"^\W*(?:(?:à\s+)?lire\s+(?:aussi|également|encore)|voir\s+aussi|read\s+(?:also|more)"
    r"|see\s+also|related\s*:|اقرأ\s+(?:أيضا|أيضاً|كذلك|المزيد)|إقرأ\s+(?:أيضا|أيضاً))",
    re.IGNORECASE,
)


def _clean_body(raw: str, title: str, link_texts: frozenset[str]) -> str:
    """Clean the text, then drop repeated paragraphs, the title, and other stories' headlines."""
    seen: set[str] = set()
    kept: list[str] = []
    for line in clean_text(raw).split("\n"):
        key = " ".join(line.split())
        if not key:
            continue
        if key in seen or (not kept and key == title) or key in link_texts:
            continue
        if len(key) < 300 and _READ_ALSO.match(key):
            continue
        seen.add(key)
        kept.append(line.strip())
    return "\n".join(kept)


_BYLINE_PREFIX = re.compile(r"^(?:par|by|بقلم|كتبه|من طرف)\s*:?\s+", re.IGNORECASE)


def _clean_author(author: str | None) -> str | None:
    if not author:
        return None
    return clean_text(_BYLINE_PREFIX.sub("", author.strip())) or None


# --- canonical URL ---------------------------------------------------------------------------


_CANONICAL_XPATHS = (
    (
        "//link[contains(concat(' ', normalize-space(translate(@rel, 'CANONIL', 'canonil')), ' '),"
        " ' canonical ')]/@href"
    ),
    "//meta[@property='og:url' or @name='og:url']/@content",
)


def _canonical_url(tree: HtmlElement, url: str) -> str | None:
    """The page's own rel=canonical, else og:url, made absolute; None when it declares neither."""
    for xpath in _CANONICAL_XPATHS:
        for value in tree.xpath(xpath):
            absolute = urljoin(url, str(value).strip())
            parts = urlsplit(absolute)
            if parts.scheme in {"http", "https"} and parts.netloc:
                return absolute
    return None


# --- language ------------------------------------------------------------------------------

_LANG_XPATH = (
    "/html/@lang"
    " | //meta[@property='og:locale']/@content"
    " | //meta[translate(@http-equiv, 'CONTENTLAGU', 'contentlagu')='content-language']/@content"
    " | //meta[@name='language']/@content"
)
# Runs of letters, of Arabic letters and of word characters: counting runs, not characters, and
# looking words up in sets instead of scanning with two alternations, halves the guess (0.2 ms).
_LETTERS = re.compile(r"[^\W\d_]+")
_ARABIC_LETTERS = re.compile(r"[\u0621-\u064a\u0671-\u06d3]+")
_WORD = re.compile(r"\w+")
_FR_STOPWORDS = frozenset(
    {
        "le", "la", "les", "des", "du", "de", "et", "est", "une", "un", "dans", "pour", "qui",
        "que", "sur", "au", "aux", "avec", "par", "ce", "cette", "sont", "été", "ne", "pas",
        "plus", "leur", "ses", "son", "sa",
    }
)  # fmt: skip
_EN_STOPWORDS = frozenset(
    {
        "the", "and", "of", "to", "in", "is", "that", "for", "with", "was", "by", "as", "are",
        "it", "this", "from", "at", "be", "an", "has", "have", "which", "were", "will", "their",
        "its",
    }
)  # fmt: skip
_GUESSED = frozenset({"ar", "fr", "en"})


def _language(tree: HtmlElement, text: str, hint: str | None) -> str | None:
    """The declared language, unless the text plainly is in another of ar/fr/en; else a guess.

    Templates often keep a wrong default (lang="en-US" on a French WordPress site), so the
    declaration is checked against a cheap guess from the text.
    """
    declared = next(
        (code for value in tree.xpath(_LANG_XPATH) if (code := _iso639_1(str(value)))), None
    )
    if declared and declared not in _GUESSED:
        return declared  # the guess only tells ar, fr and en apart
    guessed = _guess_language(text)
    if declared and guessed and declared != guessed:
        return guessed
    return declared or guessed or (_iso639_1(hint) if hint else None)


def _iso639_1(value: str) -> str | None:
    code = re.split(r"[-_\s]", value.strip(), maxsplit=1)[0].lower()
    return code if len(code) == 2 and code.isascii() and code.isalpha() else None


def _guess_language(text: str) -> str | None:
    """Arabic by script; French against English by stopwords. None when unsure."""
    sample = text[:3000]
    arabic = sum(map(len, _ARABIC_LETTERS.findall(sample)))
    # Letters counted only as far as the two tests below need (at least 50, and at least twice
    # the Arabic ones): a page of Latin text stops after a few words (0.13 ms less a page).
    enough = max(50, 2 * arabic)
    letters = 0
    for word in _LETTERS.finditer(sample):
        letters += word.end() - word.start()
        if letters >= enough:
            break
    if letters < 50:
        return None
    if arabic > letters / 2:
        return "ar"
    words = _WORD.findall(sample.lower())
    fr = sum(map(_FR_STOPWORDS.__contains__, words))
    en = sum(map(_EN_STOPWORDS.__contains__, words))
    if fr >= 10 and fr >= 2 * en:
        return "fr"
    if en >= 10 and en >= 2 * fr:
        return "en"
    return None


# --- publication date ----------------------------------------------------------------------

_PUBLISHED_META = (
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @property='og:article:published_time']/@content"
)
_PUBLISHED_ITEMPROP = (
    "//*[@itemprop='datePublished']/@content | //*[@itemprop='datePublished']/@datetime"
)
# The generic "date" meta comes last: some CMSs fill it with the time the page was rendered.
_PUBLISHED_OTHER_META = (
    "//meta[@name='pubdate' or @name='publish-date' or @name='publish_date'"
    " or @name='parsely-pub-date' or @name='sailthru.date' or @name='DC.date.issued'"
    " or @name='dcterms.issued' or @name='dcterms.created' or @name='date']/@content"
)
_ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "Report",
    }
)
_HAS_TIME = re.compile(r"\d[T ]\d{1,2}:\d{2}")


def _published_at(tree: HtmlElement, trafilatura_date: str | None) -> datetime | None:
    """The publication time in UTC: a full timestamp when the page has one.

    Order: article:published_time, JSON-LD datePublished of the article (not of the WebSite),
    itemprop, other metas; then trafilatura's date (htmldate, a day only) refined by a
    <time datetime> of the same day. A day without a time becomes midnight UTC.
    """
    day: date | None = None
    for value in _declared_dates(tree):
        parsed = _parse_timestamp(value)
        if parsed is None:
            continue
        moment, has_time = parsed
        if has_time and (day is None or moment.date() == day):
            return moment.astimezone(UTC)
        day = day or moment.date()
    day = day or _parse_day(trafilatura_date)
    if day is None:
        return None
    for value in tree.xpath("//time/@datetime")[:50]:
        parsed = _parse_timestamp(str(value))
        if parsed is not None and parsed[1] and parsed[0].date() == day:
            return parsed[0].astimezone(UTC)
    return datetime.combine(day, time(0), tzinfo=UTC)


def _declared_dates(tree: HtmlElement) -> Iterator[str]:
    """Publication dates the page declares, most specific source first (lazily: the first
    full timestamp ends the search)."""
    yield from map(str, tree.xpath(_PUBLISHED_META))
    yield from _json_ld_dates(tree)
    yield from map(str, tree.xpath(_PUBLISHED_ITEMPROP))
    yield from map(str, tree.xpath(_PUBLISHED_OTHER_META))


def _json_ld_dates(tree: HtmlElement) -> list[str]:
    dates: list[str] = []
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(str(script))
        except ValueError:
            continue
        for node in _json_ld_nodes(data, depth=0):
            value = node.get("datePublished")
            if isinstance(value, str):
                dates.append(value)
    return dates


def _json_ld_nodes(data: Any, depth: int) -> list[dict[str, Any]]:
    """Article-typed JSON-LD objects, searched through @graph lists and nesting (bounded)."""
    if depth > 4:
        return []
    if isinstance(data, list):
        return [node for item in data for node in _json_ld_nodes(item, depth + 1)]
    if not isinstance(data, dict):
        return []
    found: list[dict[str, Any]] = []
    types = data.get("@type")
    type_set = (
        {types} if isinstance(types, str) else set(types) if isinstance(types, list) else set()
    )
    if type_set & _ARTICLE_TYPES:
        found.append(data)
    for key in ("@graph", "mainEntity", "mainEntityOfPage"):
        if key in data:
            found.extend(_json_ld_nodes(data[key], depth + 1))
    return found


def _parse_timestamp(value: str) -> tuple[datetime, bool] | None:
    """Parse ISO 8601 (or RFC 2822) into an aware datetime, in the page's own offset, and
    whether it carried a time. No offset means UTC; dates outside 1995..tomorrow are rejected.
    """
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year < 1995 or parsed > datetime.now(UTC) + timedelta(days=1):
        return None
    return parsed, bool(_HAS_TIME.search(value))


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
