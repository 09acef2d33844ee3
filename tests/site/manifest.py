"""The fixture manifest of the local news site: articles and traps loaded from `fixtures/*.toml`.

The server renders every page from these records and the tests assert against them, so the TOML
files stay the single source of truth. This module also renders the `[[sources]]` config of the
outlets and reads the server's request log. Standard library only: the server imports it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

FIXTURES = Path(__file__).parent / "fixtures"

Expect = Literal["match", "no_match", "skip"]
EXPECTS = ("match", "no_match", "skip")
# Where a crawler can find an article: a feed, a sitemap, a section page, or the home page.
VIAS = ("feed", "sitemap", "section", "homepage")
# How the server serves an article entry; only the first three hold a storable article.
STORABLE_KINDS = ("article", "control_chars", "slow")
KINDS = (
    *STORABLE_KINDS,
    "gzip_bomb_page",
    "huge_page",
    "redirect_loop",
    "server_error",
    "pdf",
    "gallery",
)

# The outlets of the site, their language and what the sources config lists for each (paths
# relative to the outlet's base URL). wpeco's sitemaps are left out on purpose: a crawler must
# find them through robots.txt. odj gets its homepage only (feed and sitemap are discovered).
OUTLETS: dict[str, dict[str, Any]] = {
    "lematin": {
        "language": "fr",
        "feeds": ["/rssFeed/2", "/rssFeed/4"],
        "sections": ["/regions/", "/economie/"],
    },
    "wpeco": {"language": "fr", "feeds": ["/feed/"], "sections": ["/category/economie/"]},
    "arcnews": {
        "language": "fr",
        "feeds": ["/arc/outboundfeeds/rss/?outputType=xml"],
        "sitemaps": ["/arc/outboundfeeds/sitemap-news/"],
    },
    "arabic": {"language": "ar", "feeds": ["/feed"], "sections": ["/regions"]},
    "odj": {"language": "fr"},
    "mwn": {"language": "en", "feeds": ["/feed/"], "sections": ["/news/morocco/"]},
    "hostile": {
        "language": "fr",
        "feeds": ["/feed.xml", "/feeds/laughs.xml", "/feeds/xxe.xml", "/feeds/broken.xml"],
        "sitemaps": ["/sitemap_index.xml"],
    },
}
BULK_SOURCE: dict[str, Any] = {"language": "fr", "sitemaps": ["/sitemap.xml"]}


@dataclass(frozen=True, slots=True)
class Copy:
    """The same article, with identical text, published at another URL."""

    outlet: str
    path: str
    section: str
    reachable_via: tuple[str, ...]
    url: str = ""


@dataclass(frozen=True, slots=True)
class FixtureArticle:
    id: str
    outlet: str
    path: str  # unquoted; may contain Arabic letters
    section: str
    lang: str
    title: str
    author: str
    days_ago: float  # publication date = server start - days_ago
    expect: Expect  # match / no_match: a stored article; skip: never stored
    reachable_via: tuple[str, ...]
    paragraphs: tuple[str, ...] = ()  # the clean article text
    kind: str = "article"
    republished_as: tuple[Copy, ...] = ()
    near_duplicate_of: str | None = None
    disallowed: bool = False  # under a robots.txt Disallow: must never be requested
    encoding: str = "utf-8"  # the bytes on the wire
    charset_header: str = "utf-8"  # "" = no charset parameter in Content-Type
    charset_meta: str = "utf-8"  # "" = no <meta charset>
    notes: str = ""
    url: str = ""  # absolute, once bound to the server's outlets

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def word_count(self) -> int:
        return len(self.text.split())

    @property
    def storable(self) -> bool:
        return self.expect != "skip" and not self.disallowed

    @property
    def urls(self) -> tuple[str, ...]:
        """Every URL serving this text: the article's own and its republished copies."""
        return (self.url, *(copy.url for copy in self.republished_as))

    def published(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days_ago)

    def is_recent(self, max_age_days: float = 14) -> bool:
        return self.days_ago <= max_age_days


@dataclass(frozen=True, slots=True)
class Trap:
    """A discovery trap that is not an article: a hostile feed or sitemap, a link family."""

    id: str
    outlet: str
    path: str
    kind: str
    notes: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class Manifest:
    articles: tuple[FixtureArticle, ...]
    traps: tuple[Trap, ...]
    now: datetime
    outlets: Mapping[str, str] = field(default_factory=dict)  # name -> base URL, once bound

    def article(self, article_id: str) -> FixtureArticle:
        for article in self.articles:
            if article.id == article_id:
                return article
        raise KeyError(f"no fixture article {article_id!r}")

    def trap(self, trap_id: str) -> Trap:
        for trap in self.traps:
            if trap.id == trap_id:
                return trap
        raise KeyError(f"no trap {trap_id!r}")

    def for_outlet(self, outlet: str) -> tuple[FixtureArticle, ...]:
        return tuple(a for a in self.articles if a.outlet == outlet)

    def expected_matches(self, max_age_days: float = 14) -> tuple[FixtureArticle, ...]:
        """Articles a correct crawl stores and matches (each once, whatever its copies)."""
        return tuple(
            a
            for a in self.articles
            if a.expect == "match" and a.storable and a.is_recent(max_age_days)
        )

    def expected_non_matches(self, max_age_days: float = 14) -> tuple[FixtureArticle, ...]:
        return tuple(
            a
            for a in self.articles
            if a.expect == "no_match" and a.storable and a.is_recent(max_age_days)
        )

    def too_old(self, max_age_days: float = 14) -> tuple[FixtureArticle, ...]:
        """Real articles a crawl with this max_age_days must skip (dated in feeds/sitemaps)."""
        return tuple(a for a in self.articles if a.storable and not a.is_recent(max_age_days))

    def never_stored(self, max_age_days: float = 14) -> tuple[FixtureArticle, ...]:
        return tuple(a for a in self.articles if not (a.storable and a.is_recent(max_age_days)))

    def never_requested(self) -> tuple[FixtureArticle, ...]:
        """Entries robots.txt forbids: their path must not appear in the request log."""
        return tuple(a for a in self.articles if a.disallowed)

    def url(self, outlet: str, path: str) -> str:
        return absolute_url(self.outlets[outlet], path)

    def sources_toml(self, names: Iterable[str] | None = None) -> str:
        return sources_toml(self.outlets, names)


def load_manifest(
    outlets: Mapping[str, str] | None = None,
    now: datetime | None = None,
    directory: Path = FIXTURES,
) -> Manifest:
    """Load every fixture file; with `outlets` (name -> base URL) the URLs become absolute.

    `now` is the server's start time: paths with {yyyy}/{mm}/{dd} take the publication date.
    """
    now = now or datetime.now(UTC)
    articles: list[FixtureArticle] = []
    traps: list[Trap] = []
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        articles.extend(_article(raw, path, now) for raw in data.get("articles", []))
        traps.extend(_trap(raw, path, now) for raw in data.get("traps", []))
    _check(articles, traps)
    manifest = Manifest(tuple(articles), tuple(traps), now)
    return bind(manifest, outlets) if outlets else manifest


def bind(manifest: Manifest, outlets: Mapping[str, str]) -> Manifest:
    """The same manifest with absolute URLs on the given outlet base URLs."""

    def url(outlet: str, path: str) -> str:
        return absolute_url(outlets[outlet], path) if outlet in outlets else ""

    articles = tuple(
        replace(
            a,
            url=url(a.outlet, a.path),
            republished_as=tuple(replace(c, url=url(c.outlet, c.path)) for c in a.republished_as),
        )
        for a in manifest.articles
    )
    traps = tuple(replace(t, url=url(t.outlet, t.path)) for t in manifest.traps)
    return replace(manifest, articles=articles, traps=traps, outlets=dict(outlets))


def absolute_url(base: str, path: str) -> str:
    """Base URL plus a path, percent-encoding non-ASCII letters as browsers do."""
    return base.rstrip("/") + quote(path, safe="/?=&%:;,+@!$'()*~-._")


def sources_toml(outlets: Mapping[str, str], names: Iterable[str] | None = None) -> str:
    """`[[sources]]` blocks of a newswatch config for the given outlets (all by default)."""
    blocks = []
    for name in names if names is not None else outlets:
        spec = BULK_SOURCE if name == "bulk" else OUTLETS[name]
        base = outlets[name].rstrip("/")
        lines = [
            "[[sources]]",
            f'name = "{name}"',
            f'homepage = "{base}/"',
            f'language = "{spec["language"]}"',
        ]
        for key in ("feeds", "sitemaps", "sections"):
            if spec.get(key):
                urls = ", ".join(f'"{absolute_url(base, p)}"' for p in spec[key])
                lines.append(f"{key} = [{urls}]")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# -- request log ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    outlet: str
    method: str
    path: str  # as requested: percent-encoded, with the query string
    status: int
    if_none_match: str | None
    if_modified_since: str | None

    @property
    def bare_path(self) -> str:
        """The unquoted path without its query string."""
        return unquote(urlsplit(self.path).path)

    @property
    def query(self) -> str:
        return urlsplit(self.path).query


def read_request_log(path: Path | str) -> list[LoggedRequest]:
    """Parse the server's log: one tab-separated line per request, "-" for an absent header."""
    requests = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line:
            continue
        outlet, method, target, status, inm, ims = line.split("\t")
        requests.append(
            LoggedRequest(
                outlet,
                method,
                target,
                int(status),
                None if inm == "-" else inm,
                None if ims == "-" else ims,
            )
        )
    return requests


# -- loading and checks ---------------------------------------------------------------------

_ARTICLE_KEYS = {f for f in FixtureArticle.__dataclass_fields__ if f != "url"}
_COPY_KEYS = {"outlet", "path", "section", "reachable_via"}
_TRAP_KEYS = {f for f in Trap.__dataclass_fields__ if f != "url"}


def expand_path(template: str, when: datetime) -> str:
    """Fill {yyyy}/{mm}/{dd}, as CMSs put the publication date in article URLs."""
    return template.format(yyyy=f"{when.year:04d}", mm=f"{when.month:02d}", dd=f"{when.day:02d}")


def _article(raw: dict[str, Any], source: Path, now: datetime) -> FixtureArticle:
    where = f"{source.name}: article {raw.get('id', '?')!r}"
    unknown = set(raw) - _ARTICLE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    published = now - timedelta(days=float(raw["days_ago"]))
    copies = []
    for copy in raw.get("republished_as", []):
        if set(copy) - _COPY_KEYS:
            raise ValueError(f"{where}: unknown keys in republished_as: {sorted(set(copy))}")
        copies.append(
            Copy(
                outlet=copy["outlet"],
                path=expand_path(copy["path"], published),
                section=copy.get("section", raw["section"]),
                reachable_via=tuple(copy["reachable_via"]),
            )
        )
    values = {
        **raw,
        "path": expand_path(raw["path"], published),
        "days_ago": float(raw["days_ago"]),
        "reachable_via": tuple(raw["reachable_via"]),
        "paragraphs": tuple(raw.get("paragraphs", ())),
        "republished_as": tuple(copies),
        "near_duplicate_of": raw.get("near_duplicate_of") or None,
    }
    try:
        return FixtureArticle(**values)
    except TypeError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def _trap(raw: dict[str, Any], source: Path, now: datetime) -> Trap:
    unknown = set(raw) - _TRAP_KEYS
    if unknown:
        raise ValueError(f"{source.name}: trap {raw.get('id')!r}: unknown keys {sorted(unknown)}")
    return Trap(**{**raw, "path": expand_path(raw["path"], now)})


def _check(articles: list[FixtureArticle], traps: list[Trap]) -> None:
    """Fail loudly on fixture mistakes rather than serve a silently wrong site."""
    ids = [a.id for a in articles] + [t.id for t in traps]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"fixture ids used twice: {sorted(duplicates)}")
    places = [(a.outlet, a.path) for a in articles]
    places += [(c.outlet, c.path) for a in articles for c in a.republished_as]
    if len(set(places)) != len(places):
        raise ValueError("two fixture entries share one outlet and path")
    known = set(ids)
    for a in articles:
        if a.outlet not in OUTLETS:
            raise ValueError(f"{a.id}: unknown outlet {a.outlet!r}")
        if a.expect not in EXPECTS or a.kind not in KINDS:
            raise ValueError(f"{a.id}: bad expect {a.expect!r} or kind {a.kind!r}")
        vias = set(a.reachable_via) | {v for c in a.republished_as for v in c.reachable_via}
        if not vias <= set(VIAS):
            raise ValueError(f"{a.id}: reachable_via must be among {VIAS}")
        if a.near_duplicate_of and a.near_duplicate_of not in known:
            raise ValueError(f"{a.id}: near_duplicate_of {a.near_duplicate_of!r} is unknown")
        if a.kind not in STORABLE_KINDS and a.expect != "skip":
            raise ValueError(f"{a.id}: a {a.kind} page holds no article: expect must be skip")
        if a.kind in STORABLE_KINDS and not a.paragraphs:
            raise ValueError(f"{a.id}: an article needs paragraphs")
