"""Discovery parsers (crawler.discovery): feeds, sitemaps, robots.txt and listing pages.

Every body is built in memory; nothing here touches the network.
"""

from __future__ import annotations

import gzip
import io
import tracemalloc
from datetime import UTC, datetime

import pytest

from crawler.discovery import (
    FeedEntry,
    SitemapDocument,
    SitemapEntry,
    decompress_sitemap,
    feed_links_from_html,
    next_page_link,
    parse_date,
    parse_feed,
    parse_sitemap,
    section_links,
    sitemaps_from_robots,
)
from crawler.errors import SourceError

MB = 1024 * 1024

# -- feeds -----------------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
  <title>La Nouvelle Tribune</title>
  <link>https://lnt.ma/</link>
  <item>
    <title>Casablanca-Settat et l'Île-de-France arrêtent leur feuille de route</title>
    <link>https://lnt.ma/casablanca-settat-et-lile-de-france-arretent-leur-feuille-de-route/</link>
    <pubDate>Mon, 03 Nov 2025 10:15:00 +0100</pubDate>
  </item>
  <item>
    <title>Un lien relatif</title>
    <link>/economie/un-lien-relatif-vers-un-article-4242/</link>
  </item>
  <item>
    <title>Seulement un guid</title>
    <guid isPermaLink="true">https://lnt.ma/?p=4243</guid>
    <pubDate>pas une date</pubDate>
  </item>
  <item>
    <title>Sans lien du tout</title>
  </item>
</channel>
</rss>
""".encode()

RSS_ARABIC = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>هسبريس</title>
<item><title>جهة الشرق توقع اتفاقية شراكة مع الأندلس</title>
<link>https://www.hespress.com/%D8%AC%D9%87%D8%A9-%D8%A7%D9%84%D8%B4%D8%B1%D9%82-1234567.html</link>
<pubDate>Tue, 04 Nov 2025 08:00:00 GMT</pubDate></item>
</channel></rss>
""".encode()

RSS_1_0 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://www.mapexpress.ma/"><title>MAP Express</title></channel>
  <item rdf:about="https://www.mapexpress.ma/actualite/regions/oriental-wallonie-accord/">
    <title>L'Oriental et la Wallonie signent un accord</title>
    <link>https://www.mapexpress.ma/actualite/regions/oriental-wallonie-accord/</link>
    <dc:date>2025-11-05T09:30:00+01:00</dc:date>
  </item>
</rdf:RDF>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Hespress English</title>
  <id>https://en.hespress.com/</id>
  <updated>2025-11-06T12:00:00Z</updated>
  <entry>
    <title>Souss-Massa and Virginia sign a memorandum on agriculture</title>
    <link rel="alternate" href="https://en.hespress.com/112233-souss-massa-and-virginia-sign.html"/>
    <id>tag:en.hespress.com,2025:112233</id>
    <updated>2025-11-06T11:00:00Z</updated>
    <published>2025-11-06T10:45:00+01:00</published>
  </entry>
</feed>
"""

EMPTY_RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Vide</title>
<link>https://lnt.ma/</link><description>Aucun article</description></channel></rss>"""


def test_rss_entries():
    entries = parse_feed(RSS, "https://lnt.ma/feed/")
    assert entries == [
        FeedEntry(
            url="https://lnt.ma/casablanca-settat-et-lile-de-france-arretent-leur-feuille-de-route/",
            title="Casablanca-Settat et l'Île-de-France arrêtent leur feuille de route",
            published=datetime(2025, 11, 3, 9, 15, tzinfo=UTC),
        ),
        FeedEntry(
            url="https://lnt.ma/economie/un-lien-relatif-vers-un-article-4242/",
            title="Un lien relatif",
            published=None,
        ),
        FeedEntry(url="https://lnt.ma/?p=4243", title="Seulement un guid", published=None),
    ]


def test_rss_in_arabic():
    (entry,) = parse_feed(RSS_ARABIC, "https://www.hespress.com/feed")
    assert entry.title == "جهة الشرق توقع اتفاقية شراكة مع الأندلس"
    assert entry.published == datetime(2025, 11, 4, 8, 0, tzinfo=UTC)
    assert entry.url.endswith("-1234567.html")


def test_rss_1_0():
    (entry,) = parse_feed(RSS_1_0, "https://www.mapexpress.ma/feed")
    assert entry.url == "https://www.mapexpress.ma/actualite/regions/oriental-wallonie-accord/"
    assert entry.published == datetime(2025, 11, 5, 8, 30, tzinfo=UTC)


def test_atom_prefers_published_over_updated():
    (entry,) = parse_feed(ATOM, "https://en.hespress.com/feed")
    assert entry == FeedEntry(
        url="https://en.hespress.com/112233-souss-massa-and-virginia-sign.html",
        title="Souss-Massa and Virginia sign a memorandum on agriculture",
        published=datetime(2025, 11, 6, 9, 45, tzinfo=UTC),
    )


def test_a_valid_empty_feed_gives_no_entries():
    assert parse_feed(EMPTY_RSS, "https://lnt.ma/feed/") == []


@pytest.mark.parametrize(
    "body",
    [
        (
            b"<!DOCTYPE html><html><head><title>403 Forbidden</title></head>"
            b"<body><h1>Access denied</h1></body></html>"
        ),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR garbage",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        b"",
        b"   \n",
    ],
    ids=["html-error-page", "binary", "json", "empty", "blank"],
)
def test_not_a_feed_raises_source_error(body):
    with pytest.raises(SourceError, match=r"^https://lnt\.ma/feed/: not a feed"):
        parse_feed(body, "https://lnt.ma/feed/")


def test_a_body_that_names_a_local_file_is_not_opened(tmp_path):
    # feedparser.parse(bytes) would open a file of that name; parse_feed must not.
    local = tmp_path / "feed.xml"
    local.write_bytes(RSS)
    with pytest.raises(SourceError, match="not a feed"):
        parse_feed(str(local).encode(), "https://lnt.ma/feed/")


def _billion_laughs(root: bytes, *, one_line: bool) -> bytes:
    sep = b"" if one_line else b"\n"
    entities = [b'<!ENTITY l0 "lollollollollollollollollollol">']
    entities += [b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 10)]
    return (
        b'<?xml version="1.0"?>'
        + sep
        + b"<!DOCTYPE %s [" % root
        + sep
        + sep.join(entities)
        + sep
        + b"]>"
        + sep
    )


LAUGHS_RSS = b'<rss version="2.0"><channel><title>&l9;</title><item><title>&l9;</title>'
LAUGHS_RSS += b"<link>https://lnt.ma/a-b-c-d-1</link></item></channel></rss>"
XXE_RSS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<rss version="2.0"><channel><title>t</title><item><title>&secret;</title>
<link>https://lnt.ma/a-b-c-d-1</link></item></channel></rss>"""
XXE_PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote; ]>
<rss version="2.0"><channel><title>t</title></channel></rss>"""


@pytest.mark.parametrize(
    "body",
    [
        _billion_laughs(b"rss", one_line=False) + LAUGHS_RSS,
        _billion_laughs(b"rss", one_line=True) + LAUGHS_RSS,
        XXE_RSS,
        XXE_PARAMETER,
        XXE_RSS.decode().encode("utf-16"),
        XXE_RSS.replace(b"<!ENTITY", b"<!entity"),
    ],
    ids=["billion-laughs", "billion-laughs-one-line", "xxe-file", "xxe-parameter", "utf-16", "lc"],
)
def test_entity_declarations_are_refused_before_parsing(body):
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="declares XML entities"):
            parse_feed(body, "https://lnt.ma/feed/")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 * MB  # refused on a scan: nothing was expanded


def test_a_plain_doctype_without_entities_is_accepted():
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>t</title><link>https://lnt.ma/</link>'
        b"<item><title>Un</title><link>https://lnt.ma/un-deux-trois-quatre/</link></item>"
        b"</channel></rss>"
    )
    assert [e.url for e in parse_feed(body, "https://lnt.ma/feed/")] == [
        "https://lnt.ma/un-deux-trois-quatre/"
    ]


# -- sitemaps --------------------------------------------------------------------------------

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://medias24.com/post-sitemap180.xml</loc>
    <lastmod>2025-11-06T08:12:45+00:00</lastmod></sitemap>
  <sitemap><loc>https://medias24.com/post-sitemap1.xml.gz</loc></sitemap>
</sitemapindex>
"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by a plugin -->
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://medias24.com/2025/11/06/la-region-de-loriental-accueille-une-delegation/</loc>
    <lastmod>2025-11-06</lastmod><changefreq>daily</changefreq></url>
  <url><loc> https://medias24.com/2025/11/05/un-deuxieme-article-sans-date/ </loc></url>
  <url><lastmod>2025-11-06</lastmod></url>
</urlset>
"""

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://www.hespress.com/%D8%AC%D9%87%D8%A9-1234567.html</loc>
    <news:news>
      <news:publication><news:name>Hespress</news:name><news:language>ar</news:language>
      </news:publication>
      <news:publication_date>2025-11-06T10:15:00+01:00</news:publication_date>
      <news:title>جهة الدار البيضاء سطات تستقبل وفدا من ولاية فرجينيا</news:title>
    </news:news>
    <image:image><image:loc>https://www.hespress.com/photo.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>https://www.hespress.com/sans-bloc-news-7654321.html</loc>
    <lastmod>2025-11-05T18:00:00Z</lastmod>
  </url>
</urlset>
""".encode()


def test_sitemap_index():
    document = parse_sitemap(SITEMAP_INDEX, "https://medias24.com/sitemap_index.xml")
    assert document == SitemapDocument(
        kind="index",
        entries=[
            SitemapEntry(
                url="https://medias24.com/post-sitemap180.xml",
                lastmod=datetime(2025, 11, 6, 8, 12, 45, tzinfo=UTC),
                news_title=None,
                news_published=None,
            ),
            SitemapEntry(
                url="https://medias24.com/post-sitemap1.xml.gz",
                lastmod=None,
                news_title=None,
                news_published=None,
            ),
        ],
    )


def test_urlset_with_lastmod():
    document = parse_sitemap(URLSET, "https://medias24.com/post-sitemap180.xml")
    assert document.kind == "urlset"
    assert [(e.url, e.lastmod) for e in document.entries] == [
        (
            "https://medias24.com/2025/11/06/la-region-de-loriental-accueille-une-delegation/",
            datetime(2025, 11, 6, tzinfo=UTC),
        ),
        ("https://medias24.com/2025/11/05/un-deuxieme-article-sans-date/", None),
    ]


def test_google_news_sitemap_fields():
    document = parse_sitemap(NEWS_SITEMAP, "https://www.hespress.com/sitemap-news.xml")
    first, second = document.entries
    assert first == SitemapEntry(
        url="https://www.hespress.com/%D8%AC%D9%87%D8%A9-1234567.html",
        lastmod=None,
        news_title="جهة الدار البيضاء سطات تستقبل وفدا من ولاية فرجينيا",
        news_published=datetime(2025, 11, 6, 9, 15, tzinfo=UTC),
    )
    assert second.news_title is None
    assert second.lastmod == datetime(2025, 11, 5, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body><h1>404 Not Found</h1></body></html>", r"root element <html>"),
        (EMPTY_RSS, r"root element <rss>\); list it under `feeds`"),
        (b"\x00\x01\x02 garbage", r"not XML"),
        (b"", r"empty body"),
    ],
)
def test_not_a_sitemap_raises_source_error(body, message):
    with pytest.raises(SourceError, match=r"^https://lnt\.ma/sitemap\.xml: not a sitemap"):
        parse_sitemap(body, "https://lnt.ma/sitemap.xml")
    with pytest.raises(SourceError, match=message):
        parse_sitemap(body, "https://lnt.ma/sitemap.xml")


@pytest.mark.parametrize(
    "body",
    [
        _billion_laughs(b"urlset", one_line=True)
        + b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + b"<url><loc>https://lnt.ma/&l9;</loc></url></urlset>",
        XXE_RSS.replace(b"rss", b"urlset"),
    ],
    ids=["billion-laughs", "xxe"],
)
def test_sitemaps_with_entities_are_refused(body):
    with pytest.raises(SourceError, match="declares XML entities"):
        parse_sitemap(body, "https://lnt.ma/sitemap.xml")


def test_gzip_sitemap_is_decompressed_then_parsed():
    body = decompress_sitemap(gzip.compress(URLSET), "https://medias24.com/s.xml.gz", 10 * MB)
    assert body == URLSET
    assert len(parse_sitemap(body, "https://medias24.com/s.xml.gz").entries) == 2


def test_plain_body_passes_through_even_with_a_gz_name():
    # The HTTP layer already removed a Content-Encoding: gzip.
    assert decompress_sitemap(URLSET, "https://medias24.com/s.xml.gz", 10 * MB) == URLSET


def _gzip_of_zeros(size: int) -> bytes:
    buffer = io.BytesIO()
    chunk = b"\0" * MB
    with gzip.GzipFile(fileobj=buffer, mode="wb") as stream:
        for _ in range(size // MB):
            stream.write(chunk)
    return buffer.getvalue()


def test_gzip_bomb_is_cut_at_max_size():
    bomb = _gzip_of_zeros(60 * MB)
    assert len(bomb) < MB  # 60 MB of zeros compress to about 60 kB
    tracemalloc.start()
    try:
        with pytest.raises(
            SourceError,
            match=r"^https://lnt\.ma/s\.xml\.gz: sitemap larger than 10485760 bytes when "
            r"decompressed$",
        ):
            decompress_sitemap(bomb, "https://lnt.ma/s.xml.gz", 10 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 10 * MB  # bounded by max_size, not by the 60 MB payload


@pytest.mark.parametrize(
    "body",
    [
        b"\x1f\x8b\x08\x00garbage",  # truncated header
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"\xff" * 20,  # invalid deflate block
    ],
)
def test_corrupt_gzip_raises_source_error(body):
    with pytest.raises(SourceError, match="not valid gzip"):
        decompress_sitemap(body, "https://lnt.ma/s.xml.gz", 10 * MB)


def test_an_uncompressed_body_over_max_size_is_refused():
    with pytest.raises(SourceError, match="larger than 100 bytes"):
        decompress_sitemap(URLSET, "https://lnt.ma/s.xml", 100)


# -- robots.txt ------------------------------------------------------------------------------

ROBOTS = """User-agent: *
Disallow: /wp-admin/
Allow: /wp-admin/admin-ajax.php

Sitemap: https://medias24.com/sitemap_index.xml
sitemap: /news-sitemap.xml
SITEMAP: https://medias24.com/sitemap_index.xml
# Sitemap: https://medias24.com/commented-out.xml
"""


def test_sitemaps_from_robots():
    assert sitemaps_from_robots(ROBOTS, "https://medias24.com/robots.txt") == [
        "https://medias24.com/sitemap_index.xml",
        "https://medias24.com/news-sitemap.xml",
    ]


def test_robots_without_sitemaps():
    assert sitemaps_from_robots("User-agent: *\nDisallow:\n", "https://lnt.ma/robots.txt") == []


# -- HTML pages ------------------------------------------------------------------------------

HOMEPAGE = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html lang="fr"><head>
<title>Le Site Info</title>
<link rel="alternate" type="application/rss+xml" title="Flux" href="/feed/">
<link rel="alternate" type="application/atom+xml" href="https://www.lesiteinfo.com/feed/atom/">
<link rel="Alternate" type="application/rss+xml; charset=UTF-8" href="/economie/feed">
<link rel="alternate" type="application/rss+xml" href="/feed/">
<link rel="alternate" hreflang="ar" href="https://ar.lesiteinfo.com/">
<link rel="alternate" type="application/json" href="/wp-json/wp/v2/posts">
<link rel="stylesheet" type="text/css" href="/style.css">
</head><body></body></html>
"""


def test_feed_links_from_html():
    assert feed_links_from_html(HOMEPAGE, "https://www.lesiteinfo.com/") == [
        "https://www.lesiteinfo.com/feed/",
        "https://www.lesiteinfo.com/feed/atom/",
        "https://www.lesiteinfo.com/economie/feed",
    ]


def test_feed_links_honour_base_href():
    html = '<html><head><base href="https://cdn.lnt.ma/"><link rel="alternate" '
    html += 'type="application/rss+xml" href="rss.xml"></head></html>'
    assert feed_links_from_html(html, "https://lnt.ma/") == ["https://cdn.lnt.ma/rss.xml"]


LISTING = """<!DOCTYPE html>
<html><head><title>Régions</title></head>
<body class="archive has-sidebar">
<header class="site-header">
  <a href="/">Accueil</a>
  <nav><a href="/economie/">Économie</a><a href="/regions/">Régions</a></nav>
</header>
<div class="menu-principal"><a href="/politique/">Politique</a></div>
<div class="breaking"><a href="/flash/un-titre-hors-du-contenu-principal-9001/">Flash</a></div>
<main id="content">
  <article class="post">
    <header><h2><a href="/regions/loriental-et-la-wallonie-renouvellent-leur-accord-9101/">
      L'Oriental et la Wallonie</a></h2></header>
    <div class="share-buttons"><a href="https://www.facebook.com/sharer.php?u=x">Partager</a></div>
  </article>
  <article class="post">
    <h2><a href="https://www.lesiteinfo.com/regions/souss-massa-accueille-la-virginie-9102/#respond">
      Souss-Massa</a></h2>
  </article>
  <a href="/regions/loriental-et-la-wallonie-renouvellent-leur-accord-9101/?utm_source=home">
    doublon</a>
  <nav class="pagination">
    <a class="prev page-numbers" href="/regions/page/1/">« Précédent</a>
    <a class="page-numbers" href="/regions/page/3/">3</a>
    <a class="next page-numbers" href="/regions/page/3/">Suivant »</a>
  </nav>
</main>
<aside class="sidebar"><a href="/populaire/un-article-tres-lu-de-la-barre-laterale-8001/">Lu</a></aside>
<div class="widget-area"><a href="/widget/un-article-du-widget-8002/">W</a></div>
<footer><a href="/mentions-legales/">Mentions légales</a></footer>
<a href="mailto:redaction@lesiteinfo.com">Écrire</a>
<a href="javascript:void(0)">Menu</a>
<a href="#top">Haut</a>
</body></html>
"""


def test_section_links_main_content_first_without_boilerplate():
    assert section_links(LISTING, "https://www.lesiteinfo.com/regions/page/2/") == [
        "https://www.lesiteinfo.com/regions/loriental-et-la-wallonie-renouvellent-leur-accord-9101/",
        "https://www.lesiteinfo.com/regions/souss-massa-accueille-la-virginie-9102/",
        "https://www.lesiteinfo.com/flash/un-titre-hors-du-contenu-principal-9001/",
    ]


def test_section_links_without_main_keep_page_order():
    html = """<html><body><div class="wrapper with-sidebar">
      <div class="teaser"><a href="/a-un-deux-trois-1">A</a></div>
      <div class="teaser"><a href="https://lnt.ma/b-un-deux-trois-2">B</a></div>
      <div class="teaser"><a href="/a-un-deux-trois-1">A again</a></div>
      <ul id="menu-footer"><li><a href="/contact/">Contact</a></li></ul>
    </div></body></html>"""
    assert section_links(html, "https://lnt.ma/") == [
        "https://lnt.ma/a-un-deux-trois-1",
        "https://lnt.ma/b-un-deux-trois-2",
    ]


def test_a_wrapper_classed_like_a_sidebar_that_holds_the_articles_is_kept():
    html = """<html><body><div class="layout-with-sidebar">
      <article><a href="/x-un-deux-trois-1">X</a></article>
      <div class="sidebar"><a href="/y-un-deux-trois-2">Y</a></div>
    </div></body></html>"""
    assert section_links(html, "https://lnt.ma/") == ["https://lnt.ma/x-un-deux-trois-1"]


@pytest.mark.parametrize("html", ["", "   ", "<<<>>>", "\x00\x01"])
def test_html_garbage_gives_nothing(html):
    assert section_links(html, "https://lnt.ma/") == []
    assert feed_links_from_html(html, "https://lnt.ma/") == []
    assert next_page_link(html, "https://lnt.ma/") is None


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (LISTING, "https://lnt.ma/regions/page/3/"),
        ('<head><link rel="next" href="/liste?page=3"></head>', "https://lnt.ma/liste?page=3"),
        ('<a rel="nofollow next" href="/liste/3">3</a>', "https://lnt.ma/liste/3"),
        ('<a href="/liste/3">Next ›</a>', "https://lnt.ma/liste/3"),
        ('<a href="/liste/3">  Page   suivante </a>', "https://lnt.ma/liste/3"),
        ('<a href="/ar/liste/3">التالي</a>', "https://lnt.ma/ar/liste/3"),
        ('<a href="/liste/3">»</a>', "https://lnt.ma/liste/3"),
        (
            '<a href="/liste/3" aria-label="Suivant"><i class="icon"></i></a>',
            "https://lnt.ma/liste/3",
        ),
        ('<li class="pager-next"><a href="/liste/3">3</a></li>', "https://lnt.ma/liste/3"),
        ('<a class="nextpostslink" href="/liste/3">x</a>', None),  # not a separate word
        ('<a href="/liste/1">« Précédent</a><a href="/liste/9">»»</a>', None),
        ('<a class="next" href="/liste/2">Suivant</a>', None),  # points to this very page
        ('<a class="next" href="javascript:void(0)">Suivant</a>', None),
    ],
)
def test_next_page_link(html, expected):
    assert next_page_link(html, "https://lnt.ma/liste/2") == expected


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-03", datetime(2025, 11, 3, tzinfo=UTC)),
        ("2025-11", datetime(2025, 11, 1, tzinfo=UTC)),
        ("2025", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-11-03T10:15:00+01:00", datetime(2025, 11, 3, 9, 15, tzinfo=UTC)),
        ("2025-11-03T10:15:00Z", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
        ("2025-11-03T10:15:00.250-05:00", datetime(2025, 11, 3, 15, 15, 0, 250000, tzinfo=UTC)),
        ("2025-11-03T10:15:00", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
        ("2025-11-03 10:15:00", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
        ("  2025-11-03T10:15Z ", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
        ("Mon, 03 Nov 2025 10:15:00 +0100", datetime(2025, 11, 3, 9, 15, tzinfo=UTC)),
        ("Mon, 03 Nov 2025 10:15:00 GMT", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
        ("03 Nov 2025 10:15 -0000", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
        ("Mon, 03 Nov 2025 10:15:00", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
    ],
)
def test_parse_date(value, expected):
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "hier", "2025-13-45", "32/13/2025", "0001-01-01T00:00:00+01:00", "Mon, 99"],
)
def test_parse_date_garbage_is_none(value):
    assert parse_date(value) is None
