"""The `bulk` outlet (`--bulk N`): N synthetic article pages for benchmarks.

Each page strings fixture material together in its own order and closes with a sentence of its
own, so no two texts are identical; `render_bulk_page(i, n)` gives a benchmark the same bytes
in-process, without HTTP. The outlet renders its N pages once, when the server starts, and serves
those cached bytes. Two mixes (`--bulk-mix`), which differ in how much text pages share:

- "distinct" (default): fixture sentences with about half of their longer lowercase words
  swapped for other fixture words, page by page. Two pages then share word bigrams as two
  distinct stories do (Jaccard median 0.056, 99th percentile 0.09; the different-story pairs of
  tests/data/stories_pairs.jsonl: median 0.04), so near-duplicate grouping sees what a real
  site gives it: few candidates and almost no text comparison.
- "paragraphs": whole fixture paragraphs, unchanged. The fixtures hold only 143 of them (about
  50 KB), so any two pages share about 12% of their bigrams (median 0.12, up to 0.33): the
  adversarial case for near-duplicate grouping (on 500 pages, 25 band-sharing candidates and 2
  exact text comparisons per article), kept to measure that worst case.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from functools import cache

from tests.site import documents, news_layout, pages, replies
from tests.site.documents import SitemapEntry
from tests.site.manifest import FixtureArticle, Manifest, absolute_url, load_manifest
from tests.site.outlets import Outlet, SiteOptions
from tests.site.pages import Entry, Style
from tests.site.replies import Reply, Request

TEXT_CHARS = 5000  # about 5 KB of article text per page
MIXES = ("distinct", "paragraphs")
LAYOUTS = ("lean", "news")  # the page around the text: see tests/site/news_layout.py
SWAP = 0.5  # share of content words swapped in the "distinct" mix
SITEMAP_LIMIT = 50_000  # URLs per sitemap file, as the protocol allows
STYLE = Style(
    "bulk",
    "Dépêches des Régions",
    "fr",
    item='<div class="views-row"><a href="{url}">{title}</a> <time datetime="{iso}">{date}</time></div>',
)
BULK_PATH = re.compile(r"/actualite/(\d+)/[a-z0-9-]+\.html")
# A sentence ends with . ! ? or », and the next one starts with a capital or «.
_SENTENCE_END = re.compile(r"(?<=[.!?»])\s+(?=[A-ZÀ-ÝÉ«])")
# Lowercase words of 5 letters or more: no names (places stay), no function words.
_CONTENT_WORD = re.compile(r"\b[a-zàâçéèêëîïôûùüÿœ]{5,}\b")


@cache
def _pool() -> tuple[tuple[FixtureArticle, ...], tuple[str, ...]]:
    """French fixture articles and all their paragraphs: the material of the synthetic pages."""
    articles = tuple(
        a for a in load_manifest().articles if a.lang == "fr" and a.paragraphs and a.storable
    )
    return articles, tuple(p for a in articles for p in a.paragraphs if len(p) > 200)


@cache
def _sentences() -> tuple[str, ...]:
    _, paragraphs = _pool()
    return tuple(s for p in paragraphs for s in _SENTENCE_END.split(p))


def bulk_path(i: int) -> str:
    articles, _ = _pool()
    slug = re.sub(r"[^a-z0-9]+", "-", articles[i % len(articles)].id.lower()).strip("-")
    return f"/actualite/{i}/{slug}.html"


def bulk_published(i: int, n: int, now: datetime) -> datetime:
    """Spread over the last 10 days, page 0 the newest: all recent."""
    return now - timedelta(days=10 * i / max(n, 1), minutes=7)


@cache
def _content_words() -> tuple[str, ...]:
    return tuple(sorted({w for s in _sentences() for w in _CONTENT_WORD.findall(s)}))


def _body(i: int, mix: str) -> list[str]:
    """The paragraphs of page `i`: about `TEXT_CHARS` of fixture text in the page's own order."""
    rng = random.Random(i)
    if mix == "paragraphs":
        _, paragraphs = _pool()
        return _take(rng.sample(paragraphs, len(paragraphs)))
    words = _content_words()
    sentences = [
        _CONTENT_WORD.sub(lambda m: rng.choice(words) if rng.random() < SWAP else m[0], sentence)
        for sentence in _take(rng.sample(_sentences(), len(_sentences())))
    ]
    grouped = []
    while sentences:
        size = rng.randint(2, 3)
        grouped.append(" ".join(sentences[:size]))
        sentences = sentences[size:]
    return grouped


def _take(pieces: list[str]) -> list[str]:
    """The first of `pieces` that hold `TEXT_CHARS` characters together."""
    chosen: list[str] = []
    for piece in pieces:
        chosen.append(piece)
        if sum(map(len, chosen)) >= TEXT_CHARS:
            break
    return chosen


def bulk_article(i: int, n: int, now: datetime, base: str, mix: str = "distinct") -> Entry:
    if mix not in MIXES:
        raise ValueError(f"bulk mix {mix!r} is not one of {', '.join(MIXES)}")
    articles, _ = _pool()
    chosen = _body(i, mix)
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


def _summary(i: int) -> str:
    """The first lines of the fixture article bulk page `i` takes its title from."""
    articles, _ = _pool()
    return articles[i % len(articles)].paragraphs[0]


def _title(i: int) -> str:
    articles, _ = _pool()
    return f"{articles[i % len(articles)].title} (dépêche {i})"


def render_bulk_page(
    i: int,
    n: int,
    now: datetime | None = None,
    base: str = "http://127.0.0.1",
    mix: str = "distinct",
    layout: str = "lean",
) -> bytes:
    """The HTML of bulk page `i` of `n`, as the server sends it (UTF-8 bytes)."""
    if layout not in LAYOUTS:
        raise ValueError(f"bulk layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    now = now or datetime.now(UTC)
    entry = bulk_article(i, n, now, base, mix)
    if layout == "news":
        return news_layout.render(
            entry,
            entry.article.paragraphs,
            _title,
            lambda j: absolute_url(base, bulk_path(j)),
            _summary,
            i,
            n,
            now,
            base,
        ).encode("utf-8")
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

    def __init__(
        self,
        base_url: str,
        manifest: Manifest,
        options: SiteOptions,
        count: int,
        mix: str = "distinct",
        layout: str = "lean",
    ) -> None:
        self.count = count
        self.mix = mix
        self.layout = layout
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
        latest = [bulk_article(i, n, now, self.base, self.mix) for i in range(min(n, 10))]
        self.routes["/"] = replies.page(self.render_listing("Dernières dépêches", latest, []))
        # Rendered once, here, before the server announces itself: a request then costs the
        # server no CPU beyond HTTP, as a remote site's costs the crawling machine none (rendering
        # per request took about 0.45 ms of the benchmark's cores per page).
        self.pages = [
            render_bulk_page(i, n, now, self.base, self.mix, self.layout) for i in range(n)
        ]
        self.patterns.append((BULK_PATH, self._article))

    def _article(self, request: Request, match: re.Match[str]) -> Reply:
        i = int(match[1])
        if i >= self.count or request.path != bulk_path(i):
            return replies.not_found(self.style.site)
        # Not gzipped: the benchmark should measure the crawler, not the server's zlib.
        return Reply(body=self.pages[i], compressible=False)
