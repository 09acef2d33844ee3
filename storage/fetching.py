"""What a crawl asks before fetching: which URLs are stored already, and a feed's validators.

Known URLs (article URLs, aliases, skipped pages) are not fetched again; the validators of a
feed or sitemap make its next request conditional. Called by `storage.repository`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, union_all

from storage import prepare
from storage.dedupe import dialect_insert
from storage.models import FETCH_STATES, Article, ArticleUrl, FetchState, SkippedPage, utcnow
from storage.records import FetchValidators

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import ColumnElement, CompoundSelect
    from sqlalchemy.sql.dml import Insert

_URL_CHUNK = 500  # URLs per IN (...) list, well under SQLite's bound-parameter limit


def known_urls(session: Session, wanted: list[str]) -> set[str]:
    """Those of `wanted` (storable URLs, each once) stored as an article URL, an alias or a
    skipped page."""
    found: set[str] = set()
    for start in range(0, len(wanted), _URL_CHUNK):
        chunk = wanted[start : start + _URL_CHUNK]
        found.update(session.scalars(_known_url_query(chunk)))
    return found


def all_known_urls(session: Session) -> set[str]:
    """Every stored article URL, alias and skipped page, read in one query."""
    return set(session.scalars(_known_url_query(None)))


def _known_url_query(urls: list[str] | None) -> CompoundSelect[tuple[str]]:
    selects = [select(Article.url), select(ArticleUrl.url), select(SkippedPage.url)]
    if urls is not None:
        selects = [query.where(query.selected_columns[0].in_(urls)) for query in selects]
    return union_all(*selects)


def fetch_validators(session: Session, url: str) -> FetchValidators | None:
    """The validators of the last fetch of `url`, or None when there are none to send."""
    query = select(FetchState.etag, FetchState.last_modified).where(FetchState.url == url)
    row = session.execute(query).first()
    if row is None or (row.etag is None and row.last_modified is None):
        return None
    return FetchValidators(etag=row.etag, last_modified=row.last_modified)


def fetch_state_upsert(
    dialect_name: str,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    status: int,
    entries: int,
) -> Insert:
    """The statement that records a fetch of a feed or sitemap, built before the transaction.

    A 304 answer often omits the validators and has no entries to count, so on 304 the
    stored validators are kept unless new ones are given, and the stored count is kept.
    """
    values = {
        "url": prepare.checked_url(url),
        "etag": prepare.clean_optional(etag),
        "last_modified": prepare.clean_optional(last_modified),
        "last_status": status,
        "last_fetched_at": utcnow(),
        "entries": entries,
    }
    upsert = dialect_insert(dialect_name, FETCH_STATES).values(values)
    excluded = upsert.excluded
    changes: dict[str, ColumnElement[Any]] = {
        "last_status": excluded.last_status,
        "last_fetched_at": excluded.last_fetched_at,
    }
    if status == 304:
        changes["etag"] = func.coalesce(excluded.etag, FetchState.etag)
        changes["last_modified"] = func.coalesce(excluded.last_modified, FetchState.last_modified)
    else:
        changes.update(
            etag=excluded.etag, last_modified=excluded.last_modified, entries=excluded.entries
        )
    return upsert.on_conflict_do_update(index_elements=["url"], set_=changes)
