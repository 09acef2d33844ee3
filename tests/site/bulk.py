"""The `bulk` outlet (`--bulk N`): N synthetic article pages for benchmarks.

Each page mixes fixture paragraphs in a different order and closes with a sentence of its own,
so no two texts are identical; `render_bulk_page(i, n)` gives a benchmark the same bytes
in-process, without HTTP.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from functools import cache

from tests.site import documents, pages, replies
from tests.site.documents import SitemapEntry
from tests.site.manifest import FixtureArticle, Manifest, absolute_url, load_manifest
from tests.site.outlets import Outlet, SiteOptions
from tests.site.pages import Entry, Style
from tests.site.replies import Reply, Request

TEXT_CHARS = 5000  # about 5 KB of article text per page
SITEMAP_LIMIT = 50_000  # URLs per sitemap file, as the protocol allows
STYLE = Style(
    "bulk",
    "Dépêches des Régions",
    "fr",
    item='<div class="views-row"><a href="{url}">{title}</a> <time datetime="{iso}">{date}</time></div>',
)
BULK_PATH = re.compile(r"/actualite/(\d+)/[a-z0-9-]+\.html")


@cache
def _pool() -> tuple[tuple[FixtureArticle, ...], tuple[str, ...]]:
    """French fixture articles and all their paragraphs: the material of the synthetic pages."""
    articles = tuple(
        a for a in load_manifest().articles if a.lang == "fr" and a.paragraphs and a.storable
    )
    return articles, tuple(p for a in articles for p in a.paragraphs if len(p) > 200)


def bulk_path(i: int) -> str:
    articles, _ = _pool()
    slug = re.sub(r"[^a-z0-9]+", "-", articles[i % len(articles)].id.lower()).strip("-")
    return f"/actualite/{i}/{slug}.html"


def bulk_published(i: int, n: int, now: datetime) -> datetime:
    """Spread over the last 10 days, page 0 the newest: all recent."""
    return now - timedelta(days=10 * i / max(n, 1), minutes=7)


def bulk_article(i: int, n: int, now: datetime, base: str) -> Entry:
    articles, paragraphs = _pool()
    rng = random.Random(i)
    chosen: list[str] = []
    for paragraph in rng.sample(paragraphs, len(paragraphs)):
        chosen.append(paragraph)
        if sum(map(len, chosen)) >= TEXT_CHARS:
            break
    chosen.append(f"Cette dépêche porte le numéro {i} sur {n} dans les archives de la rédaction.")
    source = articles[i % len(articles)]
    article = FixtureArticle(
        id=f"bulk-{i}",
        outlet="bulk",
        path=bulk_path(i),
        section="regions",
        lang="fr",
        title=f"{source.title} (dépêche {i})",
        author=source.author,
        days_ago=10 * i / max(n, 1),
        expect="no_match",
        reachable_via=("sitemap",),
        paragraphs=tuple(chosen),
    )
    url = absolute_url(base, article.path)
    return Entry(
        article, article.path, url, "regions", ("sitemap",), url, bulk_published(i, n, now)
    )


def _sidebar(i: int, n: int, now: datetime, base: str) -> str:
    others = [(i + k) % n for k in range(1, 6) if n > 1]
    return "\n".join(
        STYLE.sidebar_item.format(url=absolute_url(base, bulk_path(j)), title=pages.esc(_title(j)))
        for j in others
    )


def _title(i: int) -> str:
    articles, _ = _pool()
    return f"{articles[i % len(articles)].title} (dépêche {i})"


def render_bulk_page(
    i: int, n: int, now: datetime | None = None, base: str = "http://127.0.0.1"
) -> bytes:
    """The HTML of bulk page `i` of `n`, as the server sends it (UTF-8 bytes)."""
    now = now or datetime.now(UTC)
    entry = bulk_article(i, n, now, base)
    body = pages.body_html(STYLE, entry.article.paragraphs)
    main = pages.article_main(STYLE, entry, body, now)
    text = pages.page(
        STYLE,
        base=base,
        title=f"{entry.article.title} - {STYLE.site}",
        main=main,
        sidebar=_sidebar(i, n, now, base),
        year=now.year,
        head=pages.open_graph(entry, STYLE.site),
    )
    return text.encode("utf-8")


class Bulk(Outlet):
    name = "bulk"
    style = STYLE

    def __init__(self, base_url: str, manifest: Manifest, options: SiteOptions, count: int) -> None:
        self.count = count
        super().__init__(base_url, manifest, options)

    def _entries(self) -> list[Entry]:
        return []  # generated per request: N can be large

    def robots(self) -> str:
        return f"User-agent: *\nAllow: /\n\nSitemap: {self.base}/sitemap.xml\n"

    def add_routes(self) -> None:
        n, now = self.count, self.now
        urls = [SitemapEntry(self.url(bulk_path(i)), bulk_published(i, n, now)) for i in range(n)]
        if n <= SITEMAP_LIMIT:
            self.routes["/sitemap.xml"] = replies.document(documents.urlset(urls), replies.XML, now)
        else:
            children = []
            for k, start in enumerate(range(0, n, SITEMAP_LIMIT), start=1):
                body = documents.urlset(urls[start : start + SITEMAP_LIMIT])
                self.routes[f"/sitemap-{k}.xml"] = replies.document(body, replies.XML, now)
                children.append((self.url(f"/sitemap-{k}.xml"), now))
            index = documents.sitemap_index(children)
            self.routes["/sitemap.xml"] = replies.document(index, replies.XML, now)
        latest = [bulk_article(i, n, now, self.base) for i in range(min(n, 10))]
        self.routes["/"] = replies.page(self.render_listing("Dernières dépêches", latest, []))
        self.patterns.append((BULK_PATH, self._article))

    def _article(self, request: Request, match: re.Match[str]) -> Reply:
        i = int(match[1])
        if i >= self.count or request.path != bulk_path(i):
            return replies.not_found(self.style.site)
        # Not gzipped: the benchmark should measure the crawler, not the server's zlib.
        reply = Reply(body=render_bulk_page(i, self.count, self.now, self.base))
        reply.compressible = False
        return reply
