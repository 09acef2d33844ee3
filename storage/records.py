"""Plain values that cross into and out of the storage layer (no SQLAlchemy objects leak out)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """One extracted and filtered article, ready to be saved."""

    source: str
    url: str  # canonical URL (rel=canonical honoured, tracking parameters removed)
    fetched_url: str  # the URL that was requested, canonicalised; may differ from `url`
    title: str
    text: str
    published_at: datetime | None  # timezone-aware
    author: str | None
    language: str | None
    score: float
    matched: bool
    explanation: dict[str, Any]  # JSON-able: {"score":..., "groups": {group: [terms]}, ...}
    html: str | None = None  # kept (compressed) only for matched articles
    run_id: int | None = None


class SaveStatus(enum.Enum):
    NEW = "new"
    DUPLICATE_URL = "duplicate_url"  # the canonical URL is already stored
    DUPLICATE_CONTENT = (
        "duplicate_content"  # same normalised text at another URL: stored as an alias
    )


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    status: SaveStatus
    article_id: int
    new_match: bool  # a new matched article was stored


@dataclass(frozen=True, slots=True)
class FetchValidators:
    """HTTP validators of a feed or sitemap, for conditional requests."""

    etag: str | None
    last_modified: str | None


@dataclass(slots=True)
class RunStats:
    """Figures of one crawl run."""

    pages_fetched: int = 0
    articles_extracted: int = 0
    matches: int = 0
    new_matches: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: int = 0
    error_samples: list[str] = field(
        default_factory=list
    )  # a bounded list of "url: what went wrong"


@dataclass(frozen=True, slots=True)
class MatchView:
    """A stored match as listed by `newswatch matches`."""

    article_id: int
    url: str
    title: str
    source: str
    published: datetime | None
    first_seen: datetime
    score: float
    matched: dict[str, list[str]]  # matched terms per group
    language: str | None
    explanation: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    stats: RunStats
    sources: tuple[str, ...] = ()  # names of the sources the run crawled
