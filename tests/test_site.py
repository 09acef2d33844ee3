"""The local news site behaves as the end-to-end tests and the benchmark expect.

These tests check the site, not the crawler: every outlet answers, listings link exactly what
the manifest says, feeds and sitemaps are conditional, and each failure mode is really there.
"""

from __future__ import annotations

import gzip
import html
import http.client
import re
import tomllib
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.site.hostile import inflated_size
from tests.site.manifest import OUTLETS, VIAS, load_manifest, read_request_log
from tests.site.plugin import NewsSite, run_news_site
from tests.site.server import render_bulk_page

if TYPE_CHECKING:
    from pathlib import Path

Response = tuple[int, dict[str, str], bytes]


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
    """One raw request: no redirects followed, no decompression."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def text_of(response: Response) -> str:
    _status, headers, body = response
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return body.decode("utf-8")


# -- the manifest -----------------------------------------------------------------------------


def test_manifest_has_enough_varied_fixtures() -> None:
    manifest = load_manifest()
    positives = manifest.expected_matches()
    negatives = manifest.expected_non_matches()
    by_lang = {lang: [a for a in positives if a.lang == lang] for lang in ("fr", "en", "ar")}
    assert len(positives) >= 12
    assert (len(by_lang["fr"]), len(by_lang["en"]), len(by_lang["ar"])) >= (8, 2, 2)
    assert all(len(by_lang[lang]) >= 2 for lang in by_lang)
    assert len(negatives) >= 24
    assert {a.lang for a in negatives} == {"fr", "en", "ar"}
    for article in manifest.articles:
        if article.expect == "match":
            assert 250 <= article.word_count <= 500, (article.id, article.word_count)
    assert manifest.too_old(), "some real articles must be older than max_age_days"
    assert all(a.days_ago >= 40 for a in manifest.too_old(14))


def test_manifest_covers_every_discovery_path() -> None:
    manifest = load_manifest()
    only = {via: [a for a in manifest.articles if a.reachable_via == (via,)] for via in VIAS}
    assert only["feed"]
    assert only["sitemap"]
    assert only["section"]
    assert any(c.outlet == a.outlet for a in manifest.articles for c in a.republished_as)
    assert any(c.outlet != a.outlet for a in manifest.articles for c in a.republished_as)
    near = [(a, a.near_duplicate_of) for a in manifest.articles if a.near_duplicate_of]
    assert near
    assert all(manifest.article(original).outlet != a.outlet for a, original in near)
    assert manifest.never_requested()


def test_manifest_loader_rejects_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        '[[articles]]\nid = "x"\noutlet = "odj"\npath = "/x"\nsection = "s"\nlang = "fr"\n'
        'title = "t"\nauthor = "a"\ndays_ago = 1\nexpect = "match"\nreachable_via = []\n'
        'paragraphs = ["p"]\ntypo = 1\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="unknown keys"):
        load_manifest(directory=tmp_path)


def test_manifest_paths_follow_publication_dates() -> None:
    manifest = load_manifest()
    article = manifest.article("mwn-texas-souss-massa")
    published = article.published(manifest.now)
    assert article.path.startswith(f"/{published:%Y}/{published:%m}/")


# -- the server -------------------------------------------------------------------------------


def test_every_outlet_answers(news_site: NewsSite) -> None:
    assert set(news_site.outlets) == set(OUTLETS)
    for name, base in news_site.outlets.items():
        assert base.startswith("http://127.0.0.1:")
        assert fetch(base + "/")[0] == 200, name
        assert fetch(base + "/robots.txt")[0] == 200, name
        assert fetch(base + "/no/such/page.html")[0] == 404, name


def test_articles_are_served_with_their_text(news_site: NewsSite) -> None:
    for article in news_site.manifest.articles:
        if article.kind not in ("article", "control_chars"):
            continue
        for url in article.urls:
            status, _headers, body = fetch(url)
            assert status == 200, url
            text = body.decode(article.encoding)
            assert html.escape(article.title) in text, article.id
            if article.kind == "article":
                assert html.escape(article.paragraphs[-1], quote=False) in text, article.id


def _listing_texts(site: NewsSite, outlet: str) -> dict[str, str]:
    """Every listing a crawler can read on this outlet, grouped by discovery kind."""
    docs: dict[str, list[str]] = {via: [] for via in VIAS}
    spec = OUTLETS[outlet]
    feeds = {
        "odj": ["/xml/syndication.rss"],
        "hostile": ["/feed.xml", "/feeds/laughs.xml", "/feeds/xxe.xml"],
    }.get(outlet, spec.get("feeds", []))
    sitemaps = {
        "wpeco": ["/post-sitemap.xml", "/post-sitemap2.xml.gz"],
        "odj": ["/sitemap.xml"],
        "hostile": ["/sitemap-pages.xml"],
    }.get(outlet, spec.get("sitemaps", []))
    sections = {
        "lematin": ["/regions/", "/regions/?page=2", "/regions/?page=3", "/economie/"],
        "wpeco": ["/category/economie/", "/category/economie/page/2/"],
    }.get(outlet, spec.get("sections", []))
    for via, paths in (("feed", feeds), ("sitemap", sitemaps), ("section", sections)):
        docs[via] = [text_of(fetch(site.url(outlet, p))) for p in paths]
    if not spec.get("sections"):  # the crawler reads the homepage as the section page
        docs["homepage"] = [text_of(fetch(site.url(outlet, "/")))]
    return {via: "\n".join(texts) for via, texts in docs.items()}


@pytest.mark.parametrize("outlet", sorted(OUTLETS))
def test_listings_link_exactly_what_the_manifest_says(news_site: NewsSite, outlet: str) -> None:
    listings = _listing_texts(news_site, outlet)
    places = [
        (a.id, a.url, a.reachable_via) for a in news_site.manifest.articles if a.outlet == outlet
    ] + [
        (a.id, c.url, c.reachable_via)
        for a in news_site.manifest.articles
        for c in a.republished_as
        if c.outlet == outlet
    ]
    for article_id, url, vias in places:
        for via in VIAS:
            linked = bool(re.search(re.escape(url) + r'[?"<\s]', listings[via]))
            assert linked == (via in vias), f"{article_id}: linked from {via}: {linked}"


def _discovery_documents(site: NewsSite) -> list[str]:
    urls = [
        site.url(name, path)
        for name, spec in OUTLETS.items()
        for key in ("feeds", "sitemaps")
        for path in spec.get(key, [])
        if path != "/feeds/broken.xml"
    ]
    extra = {
        "wpeco": ["/sitemap_index.xml", "/post-sitemap.xml", "/post-sitemap2.xml.gz"],
        "odj": ["/xml/syndication.rss", "/sitemap.xml"],
        "hostile": ["/sitemap-pages.xml", "/sitemap-bomb.xml.gz"],
    }
    urls += [site.url(name, path) for name, paths in extra.items() for path in paths]
    return urls


def test_feeds_and_sitemaps_answer_conditional_requests(news_site: NewsSite) -> None:
    for url in _discovery_documents(news_site):
        status, headers, _ = fetch(url, method="HEAD")
        assert status == 200, url
        assert headers.get("etag"), url
        assert headers.get("last-modified"), url
        etag, last_modified = headers["etag"], headers["last-modified"]
        assert fetch(url, {"If-None-Match": etag})[0] == 304, url
        assert fetch(url, {"If-None-Match": f'{etag}, W/"other"'})[0] == 304, url
        assert fetch(url, {"If-Modified-Since": last_modified})[0] == 304, url
        assert fetch(url, {"If-None-Match": 'W/"stale"'})[0] == 200, url
        older = parsedate_to_datetime(last_modified) - timedelta(days=1)
        assert (
            fetch(url, {"If-Modified-Since": older.strftime("%a, %d %b %Y %H:%M:%S GMT")})[0] == 200
        ), url


def test_feed_dates_are_relative_to_the_server_start(news_site: NewsSite) -> None:
    text = text_of(fetch(news_site.url("arcnews", "/arc/outboundfeeds/sitemap-news/")))
    assert "http://www.google.com/schemas/sitemap-news/0.9" in text
    old = news_site.manifest.article("arcnews-old-rsk-sao-paulo")
    entry = text.split(old.url)[1].split("</url>")[0]
    date = re.search(r"<news:publication_date>([^<]+)<", entry)
    assert date
    assert date[1].startswith(f"{old.published(news_site.now):%Y-%m-%d}")
    assert "<news:title>" in entry


def test_robots_txt_announces_sitemaps_and_forbids_private(news_site: NewsSite) -> None:
    robots = fetch(news_site.url("wpeco", "/robots.txt"))[2].decode()
    assert "Disallow: /private/" in robots
    assert f"Sitemap: {news_site.url('wpeco', '/sitemap_index.xml')}" in robots
    assert (
        "Sitemap: " + news_site.url("odj", "/sitemap.xml")
        in fetch(news_site.url("odj", "/robots.txt"))[2].decode()
    )
    private = news_site.manifest.never_requested()
    assert private
    assert all(a.path.startswith("/private/") for a in private)


def test_odj_announces_its_feed_on_the_homepage(news_site: NewsSite) -> None:
    home = text_of(fetch(news_site.url("odj", "/")))
    assert '<link rel="alternate" type="application/rss+xml"' in home
    assert 'href="/xml/syndication.rss"' in home


def test_windows_1256_pages(news_site: NewsSite) -> None:
    undeclared = news_site.manifest.article("arabic-jadida-setubal-cp1256")
    status, headers, body = fetch(undeclared.url, {"Accept-Encoding": "identity"})
    assert status == 200
    assert headers["content-type"] == "text/html"
    assert b"charset" not in body.lower()
    assert b"encoding=" not in body.lower()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert undeclared.paragraphs[0] in body.decode("windows-1256")
    assert undeclared.paragraphs[0].encode("windows-1256") in body

    declared = news_site.manifest.article("arabic-oriental-arizona-cp1256")
    status, headers, body = fetch(declared.url)
    assert headers["content-type"] == "text/html; charset=windows-1256"
    assert declared.paragraphs[0].encode("windows-1256") in body


def test_latin1_page_declares_utf8(news_site: NewsSite) -> None:
    article = news_site.manifest.article("hostile-latin1-ifrane-montreux")
    _status, headers, body = fetch(article.url)
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b'<meta charset="utf-8">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert article.paragraphs[1] in body.decode("latin-1")


def test_gzip_bombs_are_small_on_the_wire(news_site: NewsSite) -> None:
    page = news_site.manifest.article("hostile-gzip-bomb-page")
    _, headers, body = fetch(page.url, {"Accept-Encoding": "gzip"})
    assert headers["content-encoding"] == "gzip"
    assert len(body) < 200_000
    assert int(headers["content-length"]) == len(body)
    assert inflated_size(body) > 50_000_000

    sitemap = news_site.manifest.trap("hostile-gzip-bomb-sitemap")
    _status, headers, body = fetch(sitemap.url, {"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers
    assert headers["content-type"] == "application/x-gzip"
    assert len(body) < 200_000
    assert inflated_size(body) > 50_000_000
    index = text_of(fetch(news_site.url("hostile", "/sitemap_index.xml")))
    assert sitemap.url in index


def test_hostile_failure_modes(news_site: NewsSite) -> None:
    manifest = news_site.manifest
    huge = fetch(manifest.article("hostile-huge-page").url, method="HEAD")
    assert huge[0] == 200
    assert int(huge[1]["content-length"]) > 12_000_000
    assert "content-encoding" not in huge[1]

    first = fetch(manifest.article("hostile-redirect-loop").url)
    second = fetch(first[1]["location"])
    assert first[0] == second[0] == 302
    assert second[1]["location"] == manifest.article("hostile-redirect-loop").url

    assert fetch(manifest.article("hostile-server-error").url)[0] == 500
    pdf = fetch(manifest.article("hostile-pdf-report").url)
    assert pdf[1]["content-type"] == "application/pdf"
    assert pdf[2].startswith(b"%PDF-1.4")
    gallery = text_of(fetch(manifest.article("hostile-photo-gallery").url))
    assert gallery.count("<figure") == 4

    dirty = fetch(manifest.article("hostile-control-chars-laayoune-murcie").url)[2]
    assert b"\x00" in dirty
    assert b"\x1b" in dirty
    assert b"\x7f" in dirty
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", dirty.decode("utf-8"))
    article = manifest.article("hostile-control-chars-laayoune-murcie")
    assert all(p in cleaned for p in article.paragraphs)

    laughs = fetch(manifest.trap("hostile-billion-laughs").url)[2]
    assert b'<!ENTITY lol9 "&lol8;' in laughs
    assert b"<title>&lol9;</title>" in laughs
    xxe = fetch(manifest.trap("hostile-xxe").url)[2]
    assert b'SYSTEM "file:///etc/passwd"' in xxe
    assert b"&xxe;" in xxe
    broken = fetch(manifest.trap("hostile-not-xml").url)
    assert broken[0] == 200
    assert broken[1]["content-type"].startswith("text/html")


def test_slow_page_waits(tmp_path: Path) -> None:
    with run_news_site(tmp_path, slow_seconds=0.2) as site:
        article = site.manifest.article("hostile-slow-bourse")
        status, _, body = fetch(article.url)
        assert status == 200
        assert article.paragraphs[0].encode() in body


def test_pagination_and_calendar_never_end(news_site: NewsSite) -> None:
    page = text_of(fetch(news_site.url("lematin", "/regions/?page=57")))
    assert f'rel="next" href="{news_site.url("lematin", "/regions/?page=58")}"' in page
    year = news_site.now.year
    archive = text_of(fetch(news_site.url("wpeco", f"/{year}/")))
    assert news_site.url("wpeco", f"/{year + 1}/") in archive
    month = text_of(fetch(news_site.url("wpeco", f"/{year + 40}/12/")))
    assert news_site.url("wpeco", f"/{year + 41}/01/") in month
    category = text_of(fetch(news_site.url("wpeco", "/category/economie/")))
    assert news_site.url("wpeco", f"/{year}/{news_site.now:%m}/") in category


def test_session_ids_change_on_every_page(news_site: NewsSite) -> None:
    pattern = r"PHPSESSID=([0-9a-f]{32})"
    first = re.findall(pattern, text_of(fetch(news_site.url("wpeco", "/category/economie/"))))
    second = re.findall(pattern, text_of(fetch(news_site.url("wpeco", "/category/economie/"))))
    assert first
    assert second
    assert not set(first) & set(second)


def test_gzip_is_used_when_accepted(news_site: NewsSite) -> None:
    url = news_site.url("lematin", "/rssFeed/2")
    zipped = fetch(url, {"Accept-Encoding": "gzip, deflate"})
    plain = fetch(url)
    assert zipped[1]["content-encoding"] == "gzip"
    assert "content-encoding" not in plain[1]
    assert gzip.decompress(zipped[2]) == plain[2]
    assert zipped[1]["etag"] == plain[1]["etag"]


def test_request_log_records_every_request(fresh_news_site: NewsSite) -> None:
    site = fresh_news_site
    feed = site.url("mwn", "/feed/")
    etag = fetch(feed)[1]["etag"]
    fetch(feed, {"If-None-Match": etag, "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    fetch(site.url("arabic", "/no-such-page"), method="HEAD")
    arabic = site.manifest.article("arabic-marrakech-safi-paca")
    fetch(arabic.url + "?utm_source=test")
    logged = read_request_log(site.log_path)
    assert logged == site.requests()
    assert [(r.outlet, r.method, r.status) for r in logged] == [
        ("mwn", "GET", 200),
        ("mwn", "GET", 304),
        ("arabic", "HEAD", 404),
        ("arabic", "GET", 200),
    ]
    assert logged[0].if_none_match is None
    assert logged[1].if_none_match == etag
    assert logged[1].if_modified_since == "Mon, 01 Jan 2001 00:00:00 GMT"
    assert logged[3].bare_path == arabic.path
    assert logged[3].query == "utm_source=test"


def test_sources_toml_is_a_valid_newswatch_config(news_site: NewsSite) -> None:
    from crawler.config import Config

    data = tomllib.loads(news_site.sources_toml())
    config = Config.model_validate(data)
    assert [s.name for s in config.sources] == list(OUTLETS)
    by_name = {s.name: s for s in config.sources}
    assert not by_name["wpeco"].sitemaps
    assert by_name["wpeco"].feeds
    odj = by_name["odj"]
    assert odj.homepage
    assert not (odj.feeds)
    assert not (odj.sitemaps)
    assert not (odj.sections)
    assert tomllib.loads(news_site.sources_toml(["mwn"]))["sources"][0]["language"] == "en"


def test_bulk_outlet_matches_render_bulk_page(tmp_path: Path) -> None:
    with run_news_site(tmp_path, bulk=30) as site:
        assert "bulk" in site.outlets
        sitemap = text_of(fetch(site.url("bulk", "/sitemap.xml")))
        urls = re.findall(r"<loc>([^<]+)</loc>", sitemap)
        assert len(urls) == 30
        status, _headers, body = fetch(urls[7])
        assert status == 200
        assert body == render_bulk_page(7, 30, site.now, site.outlets["bulk"])
        assert "Sitemap: " in fetch(site.url("bulk", "/robots.txt"))[2].decode()
    pages = [render_bulk_page(i, 200) for i in range(200)]
    assert len(set(pages)) == 200
    texts = [re.search(rb"field__item\">(.*?)</div>", p, re.DOTALL)[1] for p in pages[:20]]  # type: ignore[index]
    assert all(4500 < len(re.sub(rb"<[^>]+>", b"", t)) < 9000 for t in texts)


def test_bulk_news_layout_wraps_the_same_article_in_a_full_news_page(tmp_path: Path) -> None:
    """The benchmark's default pages: the weight of a real article page (the news pages of
    trafilatura's test cache weigh 36-380 KB), with the same article for the crawler to find."""
    from lxml import html as lxml_html

    from crawler.extract import build_extractor, extract_article

    with run_news_site(tmp_path, bulk=12, bulk_layout="news") as site:
        base = site.outlets["bulk"]
        urls = re.findall(r"<loc>([^<]+)</loc>", text_of(fetch(site.url("bulk", "/sitemap.xml"))))
        status, _headers, body = fetch(urls[5])
        assert status == 200
        assert body == render_bulk_page(5, 12, site.now, base, layout="news")
        assert body != render_bulk_page(5, 12, site.now, base)
    extractor = build_extractor()
    now = site.now
    for i in range(12):
        lean = render_bulk_page(i, 12, now)
        news = render_bulk_page(i, 12, now, layout="news")
        assert news == render_bulk_page(i, 12, now, layout="news")  # the same bytes every time
        assert len(lean) < 15_000
        assert 90_000 < len(news) < 200_000
        assert len(lxml_html.fromstring(news).xpath("//*")) > 1000
        url = f"http://127.0.0.1/actualite/{i}/depeche.html"
        from_lean = extract_article(lean.decode(), url, extractor=extractor)
        from_news = extract_article(news.decode(), url, extractor=extractor)
        # None of the furniture (menus, ticker, related posts, widgets, comments) gets in.
        for field in ("title", "text", "published_at", "language", "canonical_url"):
            assert getattr(from_news, field) == getattr(from_lean, field), (i, field)
    with pytest.raises(ValueError, match="layout"):
        render_bulk_page(0, 1, layout="tabloid")
