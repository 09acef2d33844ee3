"""HTML pages of the local news site: per-outlet templates filled with fixture articles.

Every page gets the furniture of a real news site (navigation, a ticker of positive-sounding
headlines, a "most read" sidebar of other articles, comments, footer), so that only a crawler
that extracts the main text keeps negatives negative. Templates live in `templates/<outlet>/`
(`page.html`, `article.html`, `listing.html`) as `string.Template` files.
"""

from __future__ import annotations

import hashlib
import html
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from tests.site.manifest import FIXTURES, FixtureArticle

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

TEMPLATES = Path(__file__).parent / "templates"

FR_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
FR_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
AR_DAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
# Moroccan month names, as Moroccan Arabic-language outlets print them.
AR_MONTHS = (
    "يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو",
    "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر", "دجنبر",
)  # fmt: skip
SECTION_LABELS = {
    "fr": {"regions": "Régions", "economie": "Économie", "politique": "Politique",
           "societe": "Société", "culture": "Culture", "sports": "Sports"},
    "en": {"news": "Morocco", "economy": "Economy"},
    "ar": {"regions": "جهات", "economie": "اقتصاد", "politique": "سياسة", "societe": "مجتمع"},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Entry:
    """One article at one URL: the original, or a republished copy."""

    article: FixtureArticle
    path: str
    url: str
    section: str
    reachable_via: tuple[str, ...]
    canonical: str
    published: datetime
    is_copy: bool = False

    @property
    def fit_for_sidebar(self) -> bool:
        """Recent, real, allowed articles only: sidebars must not open a way to the others."""
        a = self.article
        return a.storable and a.kind == "article" and a.is_recent(14) and not self.is_copy


@dataclass(frozen=True, slots=True)
class Style:
    """What differs between two outlets' CMSs besides their template files."""

    name: str
    site: str
    lang: str
    charset_meta: str = '<meta charset="{charset}">'
    paragraph: str = "<p>{}</p>"
    joiner: str = "\n"
    item: str = (
        '<article class="teaser"><h3><a href="{url}">{title}</a></h3>'
        '<time datetime="{iso}">{date}</time><p>{summary}</p></article>'
    )
    sidebar_item: str = '<li><a href="{url}">{title}</a></li>'


@dataclass(frozen=True, slots=True)
class Furniture:
    """Language-specific page furniture from fixtures/boilerplate.toml."""

    ticker_label: str
    ticker: tuple[str, ...]
    comments_title: str
    comments: tuple[tuple[str, str], ...]


@cache
def furniture(lang: str) -> Furniture:
    with (FIXTURES / "boilerplate.toml").open("rb") as handle:
        data = tomllib.load(handle)[lang]
    return Furniture(
        data["ticker_label"],
        tuple(data["ticker"]),
        data["comments_title"],
        tuple((c["author"], c["text"]) for c in data["comments"]),
    )


@cache
def template(outlet: str, name: str) -> Template:
    return Template((TEMPLATES / outlet / f"{name}.html").read_text(encoding="utf-8"))


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def human_date(when: datetime, lang: str) -> str:
    if lang == "ar":
        return f"{AR_DAYS[when.weekday()]} {when.day} {AR_MONTHS[when.month - 1]} {when.year} - {when:%H:%M}"
    if lang == "en":
        return f"{EN_MONTHS[when.month - 1]} {when.day}, {when.year}"
    return f"{FR_DAYS[when.weekday()]} {when.day} {FR_MONTHS[when.month - 1]} {when.year} à {when:%Hh%M}"


def section_label(section: str, lang: str) -> str:
    return SECTION_LABELS.get(lang, {}).get(section, section.capitalize())


def summary(article: FixtureArticle, words: int = 30) -> str:
    first = article.paragraphs[0] if article.paragraphs else article.title
    cut = first.split()
    return " ".join(cut[:words]) + (" …" if len(cut) > words else "")


def slug_id(text: str) -> str:
    """A stable short id for images and post ids."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def ticker(lang: str) -> str:
    f = furniture(lang)
    items = "".join(f'<li class="ticker__item">{esc(t)}</li>' for t in f.ticker)
    return (
        f'<div class="ticker" role="marquee"><span class="ticker__label">{esc(f.ticker_label)}'
        f'</span><ul class="ticker__list">{items}</ul></div>'
    )


def comments(lang: str, published: datetime) -> str:
    """A comments section with the markup of common comment plugins."""
    f = furniture(lang)
    items = []
    for i, (author, text) in enumerate(f.comments, start=1):
        when = published + timedelta(hours=i, minutes=13 * i)
        items.append(
            f'<li id="comment-{i}" class="comment"><article class="comment-body">'
            f'<footer class="comment-meta"><b class="fn">{esc(author)}</b> '
            f'<time datetime="{when.isoformat(timespec="seconds")}">'
            f"{esc(human_date(when, lang))}</time></footer>"
            f'<div class="comment-content"><p>{esc(text)}</p></div></article></li>'
        )
    return (
        f'<section id="comments" class="comments-area"><h3 class="comments-title">'
        f"{esc(f.comments_title)} ({len(f.comments)})</h3>"
        f'<ol class="comment-list">{"".join(items)}</ol>'
        '<div id="respond" class="comment-respond"><form class="comment-form" method="post" '
        'action="/comment"><textarea name="comment" rows="4"></textarea>'
        '<button type="submit">OK</button></form></div></section>'
    )


def most_read(style: Style, entries: Iterable[Entry], exclude: str = "", count: int = 5) -> str:
    """Headlines of OTHER articles, positive-sounding ones first (they make the trap)."""
    pool = [e for e in entries if e.fit_for_sidebar and e.article.id != exclude]
    pool.sort(key=lambda e: (e.article.expect != "match", -e.published.timestamp()))
    return "\n".join(
        style.sidebar_item.format(url=esc(e.url), title=esc(e.article.title)) for e in pool[:count]
    )


def body_html(style: Style, paragraphs: Sequence[str]) -> str:
    return style.joiner.join(style.paragraph.format(esc_text(p)) for p in paragraphs)


def esc_text(text: str) -> str:
    return html.escape(text, quote=False)


def page(
    style: Style,
    *,
    base: str,
    title: str,
    main: str,
    sidebar: str,
    year: int,
    charset: str = "utf-8",
    head: str = "",
    body_class: str = "",
    today: str = "",
    **extra: str,
) -> str:
    """The outlet's page shell around a main block."""
    values: dict[str, Any] = {
        "lang": style.lang,
        "charset_meta": style.charset_meta.format(charset=charset) if charset else "",
        "title": esc(title),
        "head": head,
        "base": base,
        "ticker": ticker(style.lang),
        "main": main,
        "most_read": sidebar,
        "year": str(year),
        "body_class": body_class,
        "today": today,
        **extra,
    }
    return template(style.name, "page").substitute(values)


def article_main(style: Style, entry: Entry, body: str, now: datetime, **extra: str) -> str:
    a = entry.article
    values: dict[str, Any] = {
        "title": esc(a.title),
        "title_attr": esc(a.title),
        "author": esc(a.author),
        "author_slug": slug_id(a.author),
        "date_iso": entry.published.isoformat(timespec="seconds"),
        "date_human": esc(human_date(entry.published, a.lang)),
        "section": entry.section,
        "section_label": esc(section_label(entry.section, a.lang)),
        "body": body,
        "comments": comments(a.lang, entry.published),
        "url_attr": esc(entry.url),
        "image": slug_id(a.id),
        "post_id": str(int(slug_id(a.id)[:6], 16)),
        "yyyy": f"{entry.published.year:04d}",
        "mm": f"{entry.published.month:02d}",
        **extra,
    }
    return template(style.name, "article").substitute(values)


def listing_main(
    style: Style, heading: str, entries: Iterable[Entry], pagination: str = "", **extra: str
) -> str:
    items = "\n".join(
        style.item.format(
            url=esc(e.url),
            title=esc(e.article.title),
            iso=e.published.isoformat(timespec="seconds"),
            date=esc(human_date(e.published, e.article.lang)),
            summary=esc(summary(e.article)),
        )
        for e in entries
    )
    values = {"heading": esc(heading), "items": items, "pagination": pagination, **extra}
    return template(style.name, "listing").substitute(values)


def open_graph(entry: Entry, site: str) -> str:
    a = entry.article
    return (
        f'<meta property="og:type" content="article">\n'
        f'<meta property="og:site_name" content="{esc(site)}">\n'
        f'<meta property="og:title" content="{esc(a.title)}">\n'
        f'<meta property="og:url" content="{esc(entry.canonical)}">\n'
        f'<meta name="description" content="{esc(summary(a, 25))}">\n'
        f'<meta property="article:published_time" '
        f'content="{entry.published.isoformat(timespec="seconds")}">\n'
        f'<meta name="author" content="{esc(a.author)}">'
    )
