"""The outlets that imitate real CMSs: a custom one (lematin.ma), WordPress (leseco.ma and
moroccoworldnews.com), Arc XP (le360.ma), an Arabic site (hespress.com) and WMaker (lodj.ma).

Each class only says what differs: its template style, its feeds, sitemaps, section pages and
traps. The shared machinery is `tests.site.outlets.Outlet`.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from typing import TYPE_CHECKING, ClassVar

from tests.site import documents, pages, replies
from tests.site.documents import FeedItem, SitemapEntry
from tests.site.outlets import Outlet
from tests.site.pages import Entry, Style

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.site.replies import Reply, Request


def json_ld(entry: Entry, publisher: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": entry.article.title,
        "datePublished": entry.published.isoformat(timespec="seconds"),
        "author": {"@type": "Person", "name": entry.article.author},
        "publisher": {"@type": "Organization", "name": publisher},
        "mainEntityOfPage": entry.canonical,
        "inLanguage": entry.article.lang,
    }
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def canonical_link(entry: Entry) -> str:
    return f'<link rel="canonical" href="{pages.esc(entry.canonical)}">'


class LeMatin(Outlet):
    """Custom CMS (lematin.ma): RSS per section with tracking parameters, endless pagination."""

    name = "lematin"
    style = Style(
        "lematin",
        "Le Matinal",
        "fr",
        item=(
            '<div class="card-article"><h2 class="title"><a href="{url}">{title}</a></h2>'
            '<span class="date">{date}</span><p class="chapeau">{summary}</p></div>'
        ),
    )
    PAGE_SIZE = 4
    FEEDS: ClassVar[dict[str, str]] = {"/rssFeed/2": "regions", "/rssFeed/4": "economie"}

    def add_routes(self) -> None:
        self.routes["/"] = self.listing_reply("À la une", "section")
        for path, section in self.FEEDS.items():
            entries = self.listed("feed", section)
            label = pages.section_label(section, "fr")
            body = documents.rss(
                title=f"Le Matinal - {label}",
                link=self.url(f"/{section}/"),
                description=f"Les dernières actualités : {label}",
                language="fr",
                items=[self._tracked(i, item) for i, item in enumerate(self.feed_items(entries))],
            )
            self.routes[path] = replies.document(body, replies.RSS, self.last_modified(entries))
        for section in ("regions", "economie"):
            self.routes[f"/{section}/"] = self._section_handler(section)

    def _tracked(self, index: int, item: FeedItem) -> FeedItem:
        """Item links carry tracking parameters, as the real feeds do."""
        url = f"{item.url}?utm_source=rss&utm_medium=feed"
        if index % 2:
            url += "&fbclid=IwAR" + hashlib.sha1(item.url.encode()).hexdigest()[:24]
        return FeedItem(url, item.title, item.published, item.author, item.summary, item.category)

    def _section_handler(self, section: str) -> Callable[[Request], Reply]:
        entries = self.listed("section", section)
        label = pages.section_label(section, "fr")

        def handle(request: Request) -> Reply:
            raw = request.query.get("page", "1")
            number = max(int(raw), 1) if raw.isdigit() else 1
            # Past the last page the CMS clamps the offset but still links a next page:
            # the pagination never ends.
            last = max(1, -(-len(entries) // self.PAGE_SIZE))
            start = (min(number, last) - 1) * self.PAGE_SIZE
            shown = entries[start : start + self.PAGE_SIZE]
            next_url = self.url(f"/{section}/?page={number + 1}")
            pagination = (
                f'<ul class="pagination"><li class="active"><span>{number}</span></li>'
                f'<li><a class="next" rel="next" href="{next_url}">Suivant ›</a></li></ul>'
            )
            head = f'<link rel="next" href="{next_url}">'
            # "Most read" shows this page's and earlier pages' articles only, so an article of
            # page 2 stays out of reach of a crawler that reads one page.
            pool = entries[: start + self.PAGE_SIZE]
            text = self.render_listing(label, shown, pool, pagination=pagination, head=head)
            return replies.page(text)

        return handle

    def article_head(self, entry: Entry) -> str:
        return "\n".join(
            (
                canonical_link(entry),
                pages.open_graph(entry, self.style.site),
                json_ld(entry, self.style.site),
            )
        )


class WpEco(Outlet):
    """WordPress (leseco.ma, lnt.ma): robots.txt sitemaps, a gzipped sitemap, calendar archives,
    PHPSESSID links and a robots-disallowed /private/ article."""

    name = "wpeco"
    style = Style(
        "wpeco",
        "EcoPlus",
        "fr",
        item=(
            '<article class="post type-post"><header class="entry-header"><h2 class="entry-title">'
            '<a href="{url}" rel="bookmark">{title}</a></h2><div class="entry-meta">'
            '<time class="entry-date" datetime="{iso}">{date}</time></div></header>'
            '<div class="entry-summary"><p>{summary}</p></div></article>'
        ),
    )
    PAGE_SIZE = 3
    FRESH_DAYS = 3.0  # newer entries go to post-sitemap.xml, older ones to the .gz

    def robots(self) -> str:
        return (
            "User-agent: *\nDisallow: /private/\nDisallow: /wp-admin/\n"
            "Allow: /wp-admin/admin-ajax.php\n\n"
            f"Sitemap: {self.base}/sitemap_index.xml\n"
        )

    def add_routes(self) -> None:
        self.routes["/"] = lambda request: replies.page(
            self.render_listing("Dernières actualités", self._first_page(), self._first_page())
        )
        self.routes["/feed/"] = self.rss_reply(
            self.listed("feed"), "/feed/", "EcoPlus", full_text=True
        )
        in_sitemaps = self.listed("sitemap")
        fresh = [e for e in in_sitemaps if e.article.days_ago < self.FRESH_DAYS]
        older = [e for e in in_sitemaps if e.article.days_ago >= self.FRESH_DAYS]
        self.routes["/post-sitemap.xml"] = self.urlset_reply(fresh)
        packed = documents.urlset(SitemapEntry(e.url, e.published) for e in older)
        self.routes["/post-sitemap2.xml.gz"] = replies.gzip_file(packed, self.last_modified(older))
        index = documents.sitemap_index(
            [
                (self.url("/post-sitemap.xml"), self.last_modified(fresh)),
                (self.url("/post-sitemap2.xml.gz"), self.last_modified(older)),
            ]
        )
        self.routes["/sitemap_index.xml"] = replies.document(
            index, replies.XML, self.last_modified(in_sitemaps)
        )
        self.routes["/category/economie/"] = lambda request: self._category(1)
        self.patterns.append(
            (re.compile(r"/category/economie/page/(\d+)/"), lambda r, m: self._category(int(m[1])))
        )
        self.patterns.append((re.compile(r"/(\d{4})/(?:(\d{2})/)?"), self._archive))

    def _category(self, number: int) -> Reply:
        entries = self.listed("section", "economie")
        shown = entries[(number - 1) * self.PAGE_SIZE : number * self.PAGE_SIZE]
        if number < 1 or not shown:
            return replies.not_found(self.style.site)
        links = []
        if number > 1:
            links.append(
                f'<a class="prev page-numbers" href="{self.url(self._page_path(number - 1))}">Précédent</a>'
            )
        if number * self.PAGE_SIZE < len(entries):
            links.append(
                f'<a class="next page-numbers" href="{self.url(self._page_path(number + 1))}">Suivant</a>'
            )
        pagination = f'<nav class="navigation pagination"><div class="nav-links">{" ".join(links)}</div></nav>'
        pool = entries[: number * self.PAGE_SIZE]
        return replies.page(self.render_listing("Économie", shown, pool, pagination=pagination))

    @staticmethod
    def _page_path(number: int) -> str:
        return "/category/economie/" if number == 1 else f"/category/economie/page/{number}/"

    def _archive(self, request: Request, match: re.Match[str]) -> Reply:
        """Calendar trap: any year or month exists and links to its neighbours, forever."""
        year, month = int(match[1]), int(match[2]) if match[2] else None
        if month is not None and not 1 <= month <= 12:
            return replies.not_found(self.style.site)
        if month is None:
            links = [f"/{year - 1}/", f"/{year + 1}/", *(f"/{year}/{m:02d}/" for m in range(1, 13))]
            heading = f"Année : {year}"
        else:
            prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
            next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
            links = [f"/{prev_y}/{prev_m:02d}/", f"/{next_y}/{next_m:02d}/", f"/{year}/"]
            heading = f"Mois : {pages.FR_MONTHS[month - 1]} {year}"
        nav = " ".join(f'<a href="{self.url(link)}">{link.strip("/")}</a>' for link in links)
        pagination = (
            f'<nav class="navigation archive-navigation"><div class="nav-links">{nav}</div></nav>'
        )
        return replies.page(
            self.render_listing(heading, [], self._first_page(), pagination=pagination)
        )

    def _first_page(self) -> list[Entry]:
        return self.listed("section", "economie")[: self.PAGE_SIZE]

    def page_extra(self) -> dict[str, str]:
        # Session ids differ on every rendered page, as with PHP sessions and cookies off.
        popular = "\n".join(
            f'<li><a href="{e.url}?PHPSESSID={secrets.token_hex(16)}">{pages.esc(e.article.title)}</a></li>'
            for e in self._first_page()
            if e.fit_for_sidebar
        )
        months = []
        year, month = self.now.year, self.now.month
        for _ in range(6):
            label = f"{pages.FR_MONTHS[month - 1]} {year}"
            months.append(f'<li><a href="{self.url(f"/{year}/{month:02d}/")}">{label}</a></li>')
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return {
            "widgets": (
                '<section id="popular-sessions" class="widget widget_top_posts">'
                f'<h2 class="widget-title">Populaires</h2><ul>{popular}</ul></section>'
            ),
            "archives": "\n".join(months),
        }

    def article_extra(self, entry: Entry) -> dict[str, str]:
        others = [e for e in self.entries if e.fit_for_sidebar and e.article.id != entry.article.id]
        links = " ".join(
            f'<div class="nav-{side}"><a href="{e.url}" rel="{side}">{pages.esc(e.article.title)}</a></div>'
            for side, e in zip(("previous", "next"), others[:2], strict=False)
        )
        return {"post_nav": links}

    def article_head(self, entry: Entry) -> str:
        post_id = int(pages.slug_id(entry.article.id)[:6], 16)
        return "\n".join(
            (
                canonical_link(entry),
                f'<link rel="shortlink" href="{self.base}/?p={post_id}">',
                pages.open_graph(entry, self.style.site),
            )
        )


class ArcNews(Outlet):
    """Arc XP (le360.ma): a Google News sitemap and an Atom feed under /arc/outboundfeeds/."""

    name = "arcnews"
    style = Style(
        "arcnews",
        "Actu360",
        "fr",
        paragraph='<p class="c-paragraph">{}</p>',
        item=(
            '<div class="b-top-table-list-medium"><h2 class="c-heading"><a href="{url}">{title}</a>'
            '</h2><time class="c-date" datetime="{iso}">{date}</time>'
            '<p class="c-paragraph">{summary}</p></div>'
        ),
        sidebar_item='<li class="b-top-table-list-small"><a class="c-link" href="{url}">{title}</a></li>',
    )
    NEWS_SITEMAP = "/arc/outboundfeeds/sitemap-news/"
    ATOM_FEED = "/arc/outboundfeeds/rss/"

    def robots(self) -> str:
        return f"User-agent: *\nDisallow: /pf/api/\n\nSitemap: {self.base}{self.NEWS_SITEMAP}\n"

    def add_routes(self) -> None:
        self.routes["/"] = self.listing_reply("À la une", "homepage")
        in_sitemap = self.listed("sitemap")
        body = documents.news_urlset(
            (SitemapEntry(e.url, e.published, e.article.title, e.published) for e in in_sitemap),
            publication=self.style.site,
            language="fr",
        )
        self.routes[self.NEWS_SITEMAP] = replies.document(
            body, replies.XML, self.last_modified(in_sitemap)
        )
        in_feed = self.listed("feed")
        atom = documents.atom(
            title=self.style.site,
            link=self.base + "/",
            self_url=self.url(self.ATOM_FEED + "?outputType=xml"),
            items=self.feed_items(in_feed),
            feed_id=self.url("/"),
        )
        self.routes[self.ATOM_FEED] = replies.document(
            atom, replies.ATOM, self.last_modified(in_feed)
        )

    def page_extra(self) -> dict[str, str]:
        return {"page_id": "home"}

    def article_head(self, entry: Entry) -> str:
        return "\n".join(
            (
                canonical_link(entry),
                pages.open_graph(entry, self.style.site),
                json_ld(entry, self.style.site),
            )
        )


class Arabic(Outlet):
    """An Arabic outlet (hespress.com): RTL pages, Arabic slugs, two windows-1256 pages."""

    name = "arabic"
    style = Style(
        "arabic",
        "أخبار الجهات",
        "ar",
        item=(
            '<div class="card"><h3 class="card-title"><a href="{url}">{title}</a></h3>'
            '<small class="text-muted">{date}</small><p class="card-text">{summary}</p></div>'
        ),
    )

    def add_routes(self) -> None:
        self.routes["/"] = self.listing_reply("آخر الأخبار", "section")
        self.routes["/feed"] = self.rss_reply(self.listed("feed"), "/feed", "أخبار الجهات")
        self.routes["/regions"] = self.listing_reply("جهات", "section")

    def article_head(self, entry: Entry) -> str:
        return canonical_link(entry) + "\n" + pages.open_graph(entry, self.style.site)


class Odj(Outlet):
    """WMaker (lodj.ma): homepage only; the feed is announced by <link rel="alternate"> and the
    sitemap by robots.txt. Paragraphs are <br /> separated, as that CMS writes them."""

    name = "odj"
    style = Style(
        "odj",
        "L'Observateur du Jour",
        "fr",
        charset_meta='<meta http-equiv="Content-Type" content="text/html; charset={charset}" />',
        paragraph="{}",
        joiner="\n<br />\n<br />\n",
        item=(
            '<div class="cel1"><h3 class="titre"><a href="{url}">{title}</a></h3>'
            '<div class="date">{date}</div><div class="texte">{summary}</div></div>'
        ),
        sidebar_item='<li class="titre_liste"><a href="{url}">{title}</a></li>',
    )

    def robots(self) -> str:
        return f"User-agent: *\nDisallow: /admin/\n\nSitemap: {self.base}/sitemap.xml\n"

    def add_routes(self) -> None:
        self.routes["/"] = self.listing_reply("À la une", "homepage")
        self.routes["/xml/syndication.rss"] = self.rss_reply(
            self.listed("feed"), "/xml/syndication.rss", "L'Observateur du Jour"
        )
        self.routes["/sitemap.xml"] = self.urlset_reply(self.listed("sitemap"))


class Mwn(Outlet):
    """WordPress in English (moroccoworldnews.com): /feed/ and /YYYY/MM/<id>/<slug>/ URLs."""

    name = "mwn"
    style = Style(
        "mwn",
        "Morocco World Report",
        "en",
        item=(
            '<div class="td_module_10 td_module_wrap"><h3 class="entry-title td-module-title">'
            '<a href="{url}" rel="bookmark">{title}</a></h3><time class="entry-date" '
            'datetime="{iso}">{date}</time><div class="td-excerpt">{summary}</div></div>'
        ),
    )

    def robots(self) -> str:
        return "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"

    def add_routes(self) -> None:
        self.routes["/"] = self.listing_reply("Latest News", "section")
        self.routes["/feed/"] = self.rss_reply(
            self.listed("feed"), "/feed/", "Morocco World Report"
        )
        self.routes["/news/morocco/"] = self.listing_reply("Morocco", "section")

    def article_head(self, entry: Entry) -> str:
        return "\n".join(
            (
                canonical_link(entry),
                pages.open_graph(entry, self.style.site),
                json_ld(entry, self.style.site),
            )
        )


REGULAR_OUTLETS: tuple[type[Outlet], ...] = (LeMatin, WpEco, ArcNews, Arabic, Odj, Mwn)
