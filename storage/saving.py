"""The save path: a batch of prepared articles and skipped pages, written in one transaction.

This runs for every fetched page, so it is tuned: Core statements built once per database,
executed on the transaction's connection, and the match rows of a batch inserted together.
Exact duplicates are found by `storage.dedupe`, stories chosen by `storage.stories`; the caller
(`storage.repository`) owns the transaction.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select

from storage import matches, prepare, rows, stories
from storage.dedupe import find_duplicate, insert_ignoring_duplicates
from storage.driver_sql import DriverStatement, DriverStatements
from storage.errors import StorageError
from storage.minhash import band_keys
from storage.models import ARTICLE_URLS, ARTICLES, MATCHES, SKIPPED_PAGES, utcnow
from storage.prepare import PreparedArticle
from storage.records import SaveOutcome, SaveStatus, SkippedRecord

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session
    from sqlalchemy.sql.dml import Insert

    from storage.sources import SourceIds

logger = logging.getLogger(__name__)

_STORY_OF = select(ARTICLES.c.story_id).where(ARTICLES.c.id == bindparam("article"))


class ArticleSaver:
    """Stores articles once each (by URL, then by normalised text) and remembers skipped pages."""

    def __init__(self, dialect_name: str, sources: SourceIds, story_window_days: int) -> None:
        self._sources = sources
        self._story_window = story_window_days
        # Built once: constructing statements costs more than running them on SQLite.
        self._insert_article = insert_ignoring_duplicates(dialect_name, ARTICLES).returning(
            ARTICLES.c.id
        )
        self._insert_alias = insert_ignoring_duplicates(dialect_name, ARTICLE_URLS)
        self._insert_skipped = insert_ignoring_duplicates(dialect_name, SKIPPED_PAGES)
        self._insert_match = insert(MATCHES)
        self._statements = DriverStatements()

    def save(
        self, session: Session, writes: Sequence[PreparedArticle | SkippedRecord]
    ) -> list[SaveOutcome | None]:
        """Write `writes` in `session`'s transaction: one outcome each (None for a skipped page)."""
        connection = session.connection()
        # Each article's band keys, computed once: for the locks, then to choose its story.
        batch_keys = [
            band_keys(write.values["minhash"]) if isinstance(write, PreparedArticle) else []
            for write in writes
        ]
        # First, before any row lock: a near-duplicate saved concurrently waits for this one.
        stories.lock_bands(connection, batch_keys)
        outcomes: list[SaveOutcome | None] = []
        new_matches: list[dict[str, Any]] = []
        for write, keys in zip(writes, batch_keys, strict=True):
            if isinstance(write, PreparedArticle):
                source_id = self._sources.id_of(session, write.record.source)
                outcomes.append(self._save_article(connection, write, keys, source_id, new_matches))
            else:
                row = _skipped_row(write)  # before the source, so a bad URL is reported first
                row["source_id"] = self._sources.id_of(session, write.source)
                connection.execute(self._insert_skipped, row)
                outcomes.append(None)
        if new_matches:  # one statement for the batch; nothing in it reads them before
            insert_matches = self._driver(connection, self._insert_match, new_matches[0], many=True)
            insert_matches.execute_many(connection, new_matches)
        return outcomes

    def _save_article(
        self,
        connection: Connection,
        prepared: PreparedArticle,
        keys: list[int],
        source_id: int,
        new_matches: list[dict[str, Any]],
    ) -> SaveOutcome:
        """Store one article (`keys`: its band keys), or join the stored one it duplicates. The
        match row of a new matched article is appended to `new_matches`, for the caller to insert.
        """
        record, urls, values = prepared.record, prepared.urls, prepared.values
        found = find_duplicate(connection, urls, values["content_hash"])
        if found is None:
            story = stories.choose_story(connection, values, keys, self._story_window)
            row = {**values, "source_id": source_id, "story_id": story.story_id}
            insert_article = self._driver(connection, self._insert_article, row)
            article_id = insert_article.execute(connection, row).scalar()
            if article_id is not None:
                self._add_aliases(connection, article_id, source_id, urls[1:])
                stories.record_bands(connection, article_id, story)
                if record.matched:
                    new_matches.append(
                        matches.match_values(
                            article_id, values["first_seen_at"], values["explanation"]
                        )
                    )
                logger.debug(
                    "Stored article %d (story %d) from %s", article_id, story.story_id, record.url
                )
                return SaveOutcome(SaveStatus.NEW, article_id, record.matched, story.story_id)
            # Another transaction stored this URL or this text since we looked: join its row.
            stories.discard_story(connection, story)
            found = find_duplicate(connection, urls, values["content_hash"])
            if found is None:
                raise StorageError(f"Article {record.url} conflicted with a row that is gone")
        status, article_id, stored = found
        self._add_aliases(connection, article_id, source_id, [u for u in urls if u not in stored])
        joined: int | None = connection.execute(_STORY_OF, {"article": article_id}).scalar()
        return SaveOutcome(status, article_id, new_match=False, story_id=joined)

    def _driver(
        self, connection: Connection, statement: Insert, row: dict[str, Any], many: bool = False
    ) -> DriverStatement:
        """`statement` as driver SQL for rows with the columns of `row` (the same for every
        article and every match): the per-article inserts (`storage.driver_sql`)."""
        columns = tuple(row)
        key = (statement.table.name, columns, many)
        return self._statements.get(connection.dialect, key, lambda: statement, columns, many)

    def _add_aliases(
        self, connection: Connection, article_id: int, source_id: int, urls: list[str]
    ) -> None:
        """Record `urls`, known to lead to no article, as aliases of `article_id`."""
        if urls:
            now = utcnow()
            aliases = [
                {"url": url, "article_id": article_id, "source_id": source_id, "created_at": now}
                for url in urls
            ]
            connection.execute(self._insert_alias, aliases)


def _skipped_row(skipped: SkippedRecord) -> dict[str, Any]:
    """The row of a skipped page, all but its source id."""
    return {
        "url": prepare.checked_url(skipped.url),
        "reason": prepare.clean(skipped.reason)[: rows.MAX_SHORT_TEXT],
        "run_id": skipped.run_id,
        "seen_at": utcnow(),
    }
