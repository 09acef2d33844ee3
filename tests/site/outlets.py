"""The `Outlet` base class: one outlet of the local news site as a table of routes.

An outlet builds its static replies (articles, feeds, sitemaps, robots.txt) once, from the
manifest, and answers the endless or per-request pages (pagination, calendar archives, session
ids) with handlers. The imitated CMSs are in `tests.site.cms`, the failure modes in
`tests.site.hostile`, the benchmark outlet in `tests.site.bulk`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tests.site import documents, pages, replies
from tests.site.documents import FeedItem, SitemapEntry
from tests.site.manifest import Manifest, absolute_url
from tests.site.pages import Entry, Style
from tests.site.replies import Reply, Request, Route

if TYPE_CHECKING:
    from datetime import datetime

Handler = Callable[[Request, re.Match[str]], Reply]


@dataclass(frozen=True, slots=True)
class SiteOptions:
    slow_seconds: float = 3.0


class Outlet:
    name: ClassVar[str]
    style: ClassVar[Style]

    def __init__(self, base_url: str, manifest: Manifest, options: SiteOptions) -> None:
        self.base = base_url.rstrip("/")
        self.manifest = manifest
        self.options = options
        self.now = manifest.now
        self.entries = self._entries()
        self.routes: dict[str, Route] = {"/robots.txt": replies.plain(self.robots())}
        self.patterns: list[tuple[re.Pattern[str], Handler]] = []
        for entry in self.entries:
            self.routes[entry.path] = self.article_reply(entry)
        self.add_routes()

    # -- to override -----------------------------------------------------------------------

    def add_routes(self) -> None:
        """Home, feeds, sitemaps and section pages of this CMS."""

    def robots(self) -> str:
        return "User-agent: *\nDisallow:\n"

    def page_extra(self) -> dict[str, str]:
        """Template values only this outlet's page shell uses."""
        return {}

    def article_extra(self, entry: Entry) -> dict[str, str]:
        return {}

    def article_head(self, entry: Entry) -> str:
        return pages.open_graph(entry, self.style.site)

    # -- answering -------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        route = self.routes.get(request.path)
        if route is not None:
            return route(request) if callable(route) else route
        for pattern, handler in self.patterns:
            match = pattern.fullmatch(request.path)
            if match:
                return handler(request, match)
        return replies.not_found(self.style.site)

    # -- building blocks -------------------------------------------------------------------

    def url(self, path: str) -> str:
        return absolute_url(self.base, path)

    def listed(self, via: str, section: str | None = None) -> list[Entry]:
        """Entries a listing of this kind shows, newest first."""
        chosen = [
            e
            for e in self.entries
            if via in e.reachable_via and (section is None or e.section == section)
        ]
        return sorted(chosen, key=lambda e: e.published, reverse=True)

    def last_modified(self, entries: Iterable[Entry]) -> datetime:
        return max((e.published for e in entries), default=self.now)

    def article_reply(self, entry: Entry) -> Reply:
        a = entry.article
        text = self.render_article(entry)
        return replies.page(text, encoding=a.encoding, charset=a.charset_header)

    def render_article(self, entry: Entry, paragraphs: Iterable[str] | None = None) -> str:
        a = entry.article
        body = pages.body_html(self.style, list(paragraphs or a.paragraphs))
        main = pages.article_main(self.style, entry, body, self.now, **self.article_extra(entry))
        return pages.page(
            self.style,
            base=self.base,
            title=f"{a.title} - {self.style.site}",
            main=main,
            sidebar=pages.most_read(self.style, self.entries, exclude=a.id),
            year=self.now.year,
            charset=a.charset_meta,
            head=self.article_head(entry),
            body_class="single single-post",
            today=pages.human_date(self.now, self.style.lang),
            **self.page_extra(),
        )

    def render_listing(
        self,
        heading: str,
        entries: Iterable[Entry],
        sidebar_pool: Iterable[Entry],
        *,
        pagination: str = "",
        head: str = "",
    ) -> str:
        main = pages.listing_main(self.style, heading, entries, pagination)
        return pages.page(
            self.style,
            base=self.base,
            title=f"{heading} - {self.style.site}",
            main=main,
            sidebar=pages.most_read(self.style, sidebar_pool),
            year=self.now.year,
            head=head,
            body_class="archive category",
            today=pages.human_date(self.now, self.style.lang),
            **self.page_extra(),
        )

    def listing_reply(self, heading: str, via: str, section: str | None = None) -> Reply:
        entries = self.listed(via, section)
        return replies.page(self.render_listing(heading, entries, entries))

    def feed_items(self, entries: Iterable[Entry], *, full_text: bool = False) -> list[FeedItem]:
        return [
            FeedItem(
                url=e.url,
                title=e.article.title,
                published=e.published,
                author=e.article.author,
                summary=pages.summary(e.article),
                category=pages.section_label(e.section, e.article.lang),
                content_html=pages.body_html(self.style, e.article.paragraphs) if full_text else "",
            )
            for e in entries
        ]

    def rss_reply(self, entries: list[Entry], path: str, title: str, **kwargs: bool) -> Reply:
        body = documents.rss(
            title=title,
            link=self.base + "/",
            description=f"{self.style.site} : {title}",
            language=self.style.lang,
            items=self.feed_items(entries, **kwargs),
            self_url=self.url(path),
        )
        return replies.document(body, replies.RSS, self.last_modified(entries))

    def urlset_reply(self, entries: list[Entry]) -> Reply:
        body = documents.urlset(SitemapEntry(e.url, e.published) for e in entries)
        return replies.document(body, replies.XML, self.last_modified(entries))

    def _entries(self) -> list[Entry]:
        entries = []
        for a in self.manifest.articles:
            published = a.published(self.now)
            if a.outlet == self.name:
                entries.append(
                    Entry(a, a.path, a.url, a.section, a.reachable_via, a.url, published)
                )
            for copy in a.republished_as:
                if copy.outlet == self.name:
                    # A copy on the same outlet points its canonical link to the original;
                    # another outlet republishing a story claims it as its own.
                    canonical = a.url if a.outlet == self.name else copy.url
                    entries.append(
                        Entry(a, copy.path, copy.url, copy.section, copy.reachable_via,
                              canonical, published, is_copy=True)
                    )  # fmt: skip
        return entries
