"""Values that cross the spider/pipeline boundary. No behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(frozen=True, slots=True)
class ArticlePage:
    """A fetched candidate article page, not yet decoded or extracted."""

    source: str
    url: str  # canonical URL that was requested
    response_url: str  # canonical URL after redirects
    status: int
    body: bytes
    content_type: str | None
    discovered_via: str  # "feed" | "sitemap" | "section"
    hint_published: datetime | None = None  # from the feed or news sitemap, if any
    hint_title: str | None = None
    language: str | None = None  # the source's language hint


@dataclass(frozen=True, slots=True)
class PageFailure:
    """An article URL that failed for good (too large, gone): recorded so it is not fetched again."""

    source: str
    url: str
    reason: str
