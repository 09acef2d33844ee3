"""The one storage API of newswatch: each method is a unit of work that returns plain records.

Sessions and ORM objects never leave the storage package (the session lifecycle is "separate
and external"): each method runs one transaction here and hands the session to the module that
owns the subject, `storage.runs`, `storage.fetching`, `storage.saving` (the save path),
`storage.matches`, `storage.stories`, `storage.digests` or `storage.health`. Opening and
migrating live in `storage.db`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage import digests, fetching, health, matches, prepare, rows, runs, stories
from storage.db import describe_url, open_database, writer
from storage.errors import StorageError
from storage.models import Article, ArticleUrl, utcnow
from storage.prepare import PreparedArticle, prepare_article
from storage.records import (
    ArticleRecord,
    DigestView,
    FetchValidators,
    MatchView,
    PendingStory,
    RefilterBatch,
    RunStats,
    RunView,
    SaveOutcome,
    SkippedRecord,
    SourceHealth,
    StoredArticle,
    StoryView,
    Verdict,
)
from storage.saving import ArticleSaver
from storage.sources import SourceIds

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime
    from types import TracebackType

logger = logging.getLogger(__name__)

T = TypeVar("T")

_ATTEMPTS = 3  # PostgreSQL deadlocks between two crawls are retried this often
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


class Repository:
    """Everything newswatch stores, behind methods that each commit or roll back on their own.

    Errors of the database surface as `StorageError`; invalid arguments as `ValueError`.
    """

    def __init__(self, url: str, *, story_window_days: int = stories.DEFAULT_WINDOW_DAYS) -> None:
        """Open (and migrate) the database at `url`.

        Args:
            story_window_days: a new article joins the story of a near-duplicate published
                at most this many days before or after it.
        """
        if story_window_days < 0:
            raise ValueError(f"story_window_days must be 0 or more, not {story_window_days}")
        self._engine = open_database(url)
        self._url = describe_url(self._engine.url)
        self._dialect = self._engine.dialect.name
        self._reads = sessionmaker(self._engine, expire_on_commit=False)
        self._writes = sessionmaker(writer(self._engine), expire_on_commit=False)
        self._sources = SourceIds(self._dialect)
        self._saver = ArticleSaver(self._dialect, self._sources, story_window_days)

    def __repr__(self) -> str:
        return f"Repository({self._url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    # Sources and runs

    def ensure_sources(self, names: Iterable[str]) -> None:
        def work(session: Session) -> None:
            for name in dict.fromkeys(names):
                self._sources.id_of(session, name)

        self._transact(work)

    def start_run(self, sources: list[str]) -> int:
        started = utcnow()
        return self._transact(lambda s: runs.start(s, sources, started))

    def finish_run(
        self,
        run_id: int,
        stats: RunStats,
        status: str,
        source_stats: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Record a run's end and figures; `source_stats` are its per-source figures."""
        values = {
            **rows.finished_run_values(stats, status),
            **health.source_stats_values(source_stats),
        }

        def work(session: Session) -> None:
            if not runs.finish(session, run_id, values):
                raise self._no_run(run_id)

        self._transact(work)

    def close_abandoned_runs(self, status: str = "interrupted") -> int:
        """Mark runs still "running" as interrupted (their crawl was killed); returns how many.

        Call only while holding the crawl lock, or a crawl running right now would be marked too.
        `status` may say why instead: "timeout" when the daemon killed a crawl over its limit.
        """
        query = runs.close_abandoned(status)
        return self._transact(lambda s: int(s.execute(query).rowcount))  # type: ignore[attr-defined]

    def list_runs(self, limit: int = 10) -> list[RunView]:
        return self._transact(lambda s: runs.list_runs(s, limit), write=False)

    def get_run(self, run_id: int) -> RunView:
        def work(session: Session) -> RunView:
            run = runs.get(session, run_id)
            if run is None:
                raise self._no_run(run_id)
            return run

        return self._transact(work, write=False)

    def source_health(
        self, sources: Sequence[str] | None = None, window: int = health.WINDOW
    ) -> list[SourceHealth]:
        """Sources silent over their last `window` crawls, or with failing feeds or sitemaps."""
        return self._transact(lambda s: health.source_health(s, sources, window), write=False)

    # Digests

    def pending_stories(self) -> list[PendingStory]:
        """The stories the next digest should carry (unsent matches of unsent stories)."""
        return self._transact(digests.pending_stories, write=False)

    def count_pending(self) -> tuple[int, int]:
        """(stories, matched articles) waiting for the next digest."""
        return self._transact(digests.count_pending, write=False)

    def start_digest(
        self,
        *,
        kind: str,
        message_id: str | None,
        subject: str,
        recipients: Sequence[str],
        stories: int,
        article_ids: Sequence[int],
        status: str = "sending",
    ) -> int:
        """Record a digest before it is sent ("sending"), or one with nothing to send ("empty")."""
        return self._transact(
            lambda s: digests.start_delivery(
                s,
                kind=kind,
                message_id=message_id,
                subject=subject,
                recipients=recipients,
                stories=stories,
                article_ids=article_ids,
                status=status,
            )
        )

    def finish_digest(
        self, digest_id: int, *, status: str, attempts: int, error: str | None = None
    ) -> int:
        """Record a digest's outcome; "sent" also marks its matches sent, in the same commit."""
        return self._transact(
            lambda s: digests.finish_delivery(
                s, digest_id, status=status, attempts=attempts, error=error
            )
        )

    def close_abandoned_digests(self) -> int:
        """Mark digests left "sending" by a dead process as interrupted; hold the digest lock."""
        return self._transact(digests.close_abandoned)

    def list_digests(self, limit: int = 10) -> list[DigestView]:
        return self._transact(lambda s: digests.list_deliveries(s, limit), write=False)

    def last_digest_at(self) -> datetime | None:
        return self._transact(digests.last_delivery_at, write=False)

    def first_run_at(self) -> datetime | None:
        return self._transact(digests.first_run_at, write=False)

    # Known URLs and fetch states

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        """Those of `urls` stored as an article URL, an alias or a skipped page."""
        wanted = [url for url in dict.fromkeys(urls) if prepare.storable_url(url)]
        if not wanted:
            return set()
        return self._transact(lambda s: fetching.known_urls(s, wanted), write=False)

    def is_known_url(self, url: str) -> bool:
        return bool(self.known_urls([url]))

    def load_known_urls(self) -> set[str]:
        """Every stored article URL, alias and skipped page, read in one query."""
        return self._transact(fetching.all_known_urls, write=False)

    def get_fetch_validators(self, url: str) -> FetchValidators | None:
        """The validators of the last fetch of `url`, or None when there are none to send."""
        return self._transact(lambda s: fetching.fetch_validators(s, url), write=False)

    def save_fetch_state(
        self, url: str, *, etag: str | None, last_modified: str | None, status: int, entries: int
    ) -> None:
        """Record a fetch of a feed or sitemap; on 304, keep what the answer omits (see
        `storage.fetching.fetch_state_upsert`)."""
        statement = fetching.fetch_state_upsert(
            self._dialect,
            url,
            etag=etag,
            last_modified=last_modified,
            status=status,
            entries=entries,
        )
        self._transact(lambda s: s.execute(statement))

    # Articles

    def save_article(self, record: ArticleRecord) -> SaveOutcome:
        """Store an article once: by URL, then by normalised text, else as a new row.

        Text fields are cleaned first: NUL characters are removed (PostgreSQL refuses them) and
        unpaired surrogates replaced. HTML is kept, compressed, for matched articles only.
        """
        return self.save_prepared(prepare_article(record))

    def save_prepared(self, prepared: PreparedArticle) -> SaveOutcome:
        """`save_article` for an article already prepared by `prepare_article` (in a worker)."""
        outcome = self._save_one(prepared)
        assert outcome is not None
        return outcome

    def save_batch(
        self, writes: Sequence[PreparedArticle | SkippedRecord]
    ) -> list[SaveOutcome | Exception | None]:
        """Store prepared articles and skipped pages in one transaction: one outcome each (None
        for a skipped page), in order.

        One commit serves the whole batch: on SQLite a commit costs more than an article's rows,
        and on PostgreSQL it is a round trip. If the batch fails, it is rolled back and each
        write is made again in its own transaction, so that a bad article costs only itself:
        its outcome is then the `StorageError` or `ValueError` it raised.
        """
        if not writes:
            return []
        try:
            return list(self._transact(lambda s: self._saver.save(s, writes)))
        except (StorageError, ValueError) as exc:
            if len(writes) == 1:
                return [exc]
            logger.debug("A batch of %d writes failed (%s); writing one by one", len(writes), exc)
        results: list[SaveOutcome | Exception | None] = []
        for write in writes:
            try:
                results.append(self._save_one(write))
            except (StorageError, ValueError) as exc:
                results.append(exc)
        return results

    def _save_one(self, write: PreparedArticle | SkippedRecord) -> SaveOutcome | None:
        [outcome] = self._transact(lambda s: self._saver.save(s, [write]))
        return outcome

    def record_skipped(self, url: str, source: str, reason: str, run_id: int | None) -> None:
        """Remember a page that holds no article; a second call for the same URL changes nothing."""
        skipped = SkippedRecord(url=url, source=source, reason=reason, run_id=run_id)
        self._transact(lambda s: self._saver.save(s, [skipped]))

    def list_matches(
        self, since: datetime | None = None, limit: int | None = None, region: str | None = None
    ) -> list[MatchView]:
        """Matched articles, newest first by publication (or first-seen) time.

        Args:
            since: keep articles published (or first seen) at or after this time; naive is UTC.
            region: keep matches that recognised this Moroccan region (any case).
        """
        return self._transact(lambda s: matches.list_matches(s, since, limit, region), write=False)

    def refilter_batch(
        self,
        decide: Callable[[StoredArticle], Verdict],
        *,
        after: int = 0,
        since: datetime | None = None,
        limit: int = 500,
        dry_run: bool = False,
    ) -> RefilterBatch:
        """Decide again on the `limit` articles that follow id `after` (first seen at or after
        `since`) and store the new decisions, in one transaction; a dry run writes nothing."""
        return self._transact(
            lambda s: matches.refilter_batch(
                s, decide, after=after, since=since, limit=limit, write=not dry_run
            ),
            write=not dry_run,
        )

    def list_stories(
        self, since: datetime | None = None, limit: int | None = None, matched_only: bool = True
    ) -> list[StoryView]:
        """Stories (near-duplicate articles grouped), newest first, each with its copies.

        Args:
            since: keep stories with an article published (or first seen) at or after this
                time; naive is UTC.
            matched_only: list only stories with a matched article, and count only those
                articles for `since`, the order and the story's first article.
        """
        return self._transact(
            lambda s: stories.list_stories(s, since, limit, matched_only), write=False
        )

    def get_article_html(self, article_id: int) -> str | None:
        query = select(Article.html_gz).where(Article.id == article_id)
        compressed = self._transact(lambda s: s.scalar(query), write=False)
        return None if compressed is None else rows.decompress_html(compressed)

    def count_articles(self) -> int:
        query = select(func.count()).select_from(Article)
        return self._transact(lambda s: s.scalar(query) or 0, write=False)

    def article_urls(self, article_id: int) -> list[str]:
        """The article's canonical URL, then its aliases in the order they were found."""

        def work(session: Session) -> list[str]:
            canonical = session.scalar(select(Article.url).where(Article.id == article_id))
            if canonical is None:
                return []
            aliases = select(ArticleUrl.url).where(ArticleUrl.article_id == article_id)
            return [canonical, *session.scalars(aliases.order_by(ArticleUrl.id))]

        return self._transact(work, write=False)

    # Plumbing

    def _transact(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """Run `work` in one transaction, committed on return and rolled back on error."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with (self._writes if write else self._reads)() as session:
                    with session.begin():
                        result = work(session)
                    # Only ids of committed source rows may be reused by later transactions.
                    self._sources.keep_committed(session)
                    return result
            except DBAPIError as exc:
                if _sqlstate(exc) in _TRANSIENT_SQLSTATES and attempt < _ATTEMPTS:
                    logger.debug("Transaction on %s hit %s; retrying", self._url, _sqlstate(exc))
                    continue
                reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
                hint = (
                    "The write broke a rule of the schema; check the ids it refers to"
                    if isinstance(exc, IntegrityError)
                    else "Check that the database is reachable and not locked by another program"
                )
                raise StorageError(
                    f"Database {self._url} failed: {reason or type(exc.orig).__name__}. {hint}."
                ) from exc
        raise AssertionError("unreachable")

    def _no_run(self, run_id: int) -> StorageError:
        return StorageError(f"No crawl run {run_id} in {self._url}; list the runs to see their ids")


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)
