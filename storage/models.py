"""The SQLAlchemy models: the tables newswatch stores and their constraints.

Only `storage` imports this module; the rest of the code sees the plain records of
`storage.records`. Schema changes go through a migration in `storage/migrations/versions/`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.records import URL_LENGTH

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.engine import Row

# Names of constraints and indexes are stable, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_STATUSES = ("running", "ok", "failed", "interrupted", "timeout")
DIGEST_STATUSES = ("sending", "sent", "failed", "refused", "empty", "interrupted")
DIGEST_KINDS = ("scheduled", "manual")

TIER_LENGTH = 100  # a tier's name in the rules; longer names are cut


def as_utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the value is stored as naive UTC
    text and the zone is put back on read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Source(Base):
    """A news outlet, by the name used in `sources.toml`."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    """One crawl: when, how it ended, and its figures."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{status}'" for status in RUN_STATUSES)),
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    pages_fetched: Mapped[int] = mapped_column(default=0)
    articles_extracted: Mapped[int] = mapped_column(default=0)
    matches: Mapped[int] = mapped_column(default=0)
    new_matches: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    error_samples: Mapped[list[str]] = mapped_column(default=list)
    sources: Mapped[list[str]] = mapped_column(default=list)
    # Per-source figures ({source: {"articles": n, "candidates": n, "failed_urls": [...]}}),
    # read by the source-health check; None for runs older than schema 0003.
    source_stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Article(Base):
    """An article, stored once per canonical URL and once per normalised text."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH), unique=True)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    first_seen_at: Mapped[datetime] = mapped_column(index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    matched: Mapped[bool]
    explanation: Mapped[dict[str, Any]]
    # zlib-compressed fetched HTML, kept only for matched articles (re-extraction, evidence).
    html_gz: Mapped[bytes | None] = mapped_column(LargeBinary)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True
    )
    # The story this text belongs to (see storage.stories); every article saved since schema
    # 0002 has one, and older ones were given one each by that migration.
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    # The MinHash signature of the text (storage.minhash.signature); None for articles stored
    # before schema 0002, which therefore never match a later copy.
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)


class Story(Base):
    """One story: a text and its near-duplicates republished by other outlets."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoryBand(Base):
    """One band key of an article's MinHash signature: the near-duplicate index.

    The primary key, band key first, is the index a lookup uses: a few band keys, a range of
    days (the time window), then the article ids.
    """

    __tablename__ = "story_bands"

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # UTC days since 1970
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class ArticleUrl(Base):
    """Another URL that led to an existing article: a redirect, or the same text elsewhere."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH), unique=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Match(Base):
    """A matched article, one row each; the digest marks the rows it has sent."""

    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), unique=True
    )
    matched_at: Mapped[datetime] = mapped_column(index=True)
    # The digest that delivered this match; None while it waits for the next one.
    digest_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("digest_deliveries.id"), index=True
    )
    # From the decision (`articles.explanation`), kept as columns for listing and grouping: the
    # tier the rules gave ("core", "related"), and the Moroccan regions and foreign partners
    # recognised, each under its gazetteer name. Since schema 0004.
    tier: Mapped[str | None] = mapped_column(String(TIER_LENGTH))
    regions: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    partners: Mapped[list[str]] = mapped_column(default=list, server_default="[]")


class DigestDelivery(Base):
    """One digest: an attempt to send the pending stories, and how it ended.

    Written as "sending" before the SMTP exchange, so that a crash in the middle leaves a trace
    (closed as "interrupted" later); its matches are marked only once the server accepted it.
    """

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{status}'" for status in DIGEST_STATUSES)),
            name="status",
        ),
        CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{kind}'" for kind in DIGEST_KINDS)), name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[str]] = mapped_column(default=list)
    stories: Mapped[int] = mapped_column(default=0)
    article_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SkippedPage(Base):
    """A fetched page that holds no article, remembered so that it is not fetched again."""

    __tablename__ = "skipped_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True
    )
    seen_at: Mapped[datetime]


class FetchState(Base):
    """HTTP validators and the last outcome of a feed or sitemap, for conditional requests."""

    __tablename__ = "fetch_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH), unique=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int]
    last_fetched_at: Mapped[datetime]
    entries: Mapped[int] = mapped_column(default=0)


def _core_table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# The Core tables, typed, for the statements that run for every saved article: there the ORM's
# statement handling cost more than the database's work (measured with benchmarks/crawl_local.py).
SOURCES = _core_table(Source)
ARTICLES = _core_table(Article)
ARTICLE_URLS = _core_table(ArticleUrl)
SKIPPED_PAGES = _core_table(SkippedPage)
MATCHES = _core_table(Match)
STORIES = _core_table(Story)
STORY_BANDS = _core_table(StoryBand)
FETCH_STATES = _core_table(FetchState)

# The columns every listing of articles reads (matches, stories, digest): one place to extend.
ARTICLE_SUMMARY_COLUMNS = (
    Article.id,
    Article.story_id,
    Article.url,
    Article.title,
    Article.published_at,
    Article.first_seen_at,
    Article.score,
    Article.language,
    Article.explanation,
)


def summary_fields(row: Row[Any]) -> dict[str, Any]:
    """The fields every listing view shares, from a row of these columns plus `Source.name`."""
    return {
        "article_id": row.id,
        "url": row.url,
        "title": row.title,
        "source": row.name,
        "published": row.published_at,
        "first_seen": row.first_seen_at,
        "score": row.score,
        "language": row.language,
    }


def decision_fields(explanation: Mapping[str, Any]) -> dict[str, Any]:
    """The tier, regions and partners of a stored decision (None and [] when it has none, as
    in decisions stored before the rules had tiers)."""
    tier = explanation.get("tier")
    return {
        "tier": tier[:TIER_LENGTH] if isinstance(tier, str) and tier else None,
        "regions": _names(explanation.get("regions")),
        "partners": _names(explanation.get("partners")),
    }


def _names(value: Any) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []
