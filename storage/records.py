"""Plain values that cross into and out of the storage layer (no SQLAlchemy objects leak out)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

# Longest URL stored: URLs are unique-indexed, and PostgreSQL refuses B-tree entries above ~2.7 kB.
URL_LENGTH = 2000


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


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A fetched page that holds no article, remembered so that it is not fetched again."""

    url: str
    source: str
    reason: str
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
    story_id: int | None = None  # the article's story (None only for articles older than stories)


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
    story: int | None = None  # the story's id (None only for articles older than stories)
    also_in: list[str] = field(default_factory=list)  # URLs of the story's other copies
    tier: str | None = None  # the rules' tier ("core", "related"), None without tiers
    regions: list[str] = field(default_factory=list)  # Moroccan regions recognised
    partners: list[str] = field(default_factory=list)  # foreign partners recognised


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story as listed by `newswatch matches --by story`: its first article and its copies."""

    story_id: int
    article_id: int  # the first article (by publication, else first-seen, time)
    url: str
    title: str
    source: str
    published: datetime | None
    first_seen: datetime
    score: float
    matched: dict[str, list[str]]  # matched terms per group, of the first article
    language: str | None
    copies: list[tuple[str, str]]  # (url, source) of the other copies, newest first
    tier: str | None = None  # of the first article's decision, as for `MatchView`
    regions: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)

    @property
    def also_in(self) -> list[str]:
        return [url for url, _ in self.copies]

    @property
    def outlets(self) -> list[str]:
        """The sources that carried the story: the first article's, then the copies'."""
        return list(dict.fromkeys([self.source, *(source for _, source in self.copies)]))


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    stats: RunStats
    sources: tuple[str, ...] = ()  # names of the sources the run crawled


@dataclass(frozen=True, slots=True)
class DigestArticle:
    """A matched article as the digest shows it (its text is for the snippet)."""

    article_id: int
    url: str
    title: str
    source: str
    published: datetime | None
    first_seen: datetime
    score: float
    language: str | None
    explanation: dict[str, Any]
    text: str


@dataclass(frozen=True, slots=True)
class PendingStory:
    """One digest entry: a story not sent yet, shown through its most relevant article."""

    lead: DigestArticle
    also_in: tuple[tuple[str, str], ...] = ()  # (source, url) of the story's other copies
    article_ids: tuple[int, ...] = ()  # every unsent match the entry covers, lead included
    story_id: int | None = None


@dataclass(frozen=True, slots=True)
class DigestView:
    """One recorded digest: an attempt to send, what it held and how it ended."""

    id: int
    created_at: datetime
    finished_at: datetime | None
    kind: str  # scheduled | manual
    status: str  # sending | sent | failed | refused | empty | interrupted
    message_id: str | None
    subject: str
    recipients: tuple[str, ...]
    stories: int
    articles: int
    attempts: int
    error: str | None


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A source that looks broken: silent over its last crawls, or failing feeds/sitemaps."""

    source: str
    problem: str  # "silent" | "failing"
    crawls: int  # how many recent crawls the verdict looked at
    failed_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """A stored article's text, as `newswatch refilter` gives it to the filter again."""

    article_id: int
    title: str
    text: str
    language: str | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """A filter decision as an article stores it (the explanation holds tier, regions...)."""

    score: float
    matched: bool
    explanation: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RefilterChange:
    """An article whose matched flag a re-filtering changed (or would change, on a dry run)."""

    article_id: int
    url: str
    title: str
    kind: str  # "newly matched" | "no longer matched"
    old_score: float
    new_score: float
    tier: str | None  # the new decision's tier
    sent: bool  # no longer matched, but a digest already sent it: its match is kept as history


@dataclass(frozen=True, slots=True)
class RefilterBatch:
    """What one batch (one transaction) of a re-filtering examined and changed."""

    last_id: int | None  # the highest article id examined; None when no article was left
    examined: int = 0
    score_changed: int = 0  # still on the same side of the rules, with another score
    unchanged: int = 0
    changes: tuple[RefilterChange, ...] = ()
