"""The one storage API of newswatch: each method is a unit of work that returns plain records.

Sessions and ORM objects never leave this module (the session lifecycle is "separate and
external"). Exact-duplicate rules live in `storage.dedupe`; opening and migrating in `storage.db`.
"""

from __future__ import annotations

import logging
from itertools import islice
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import Table, bindparam, func, insert, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage import digests, health, matches, rows, stories
from storage.db import describe_url, open_database, writer
from storage.dedupe import find_duplicate, insert_ignoring_duplicates
from storage.errors import StorageError
from storage.models import (
    ARTICLE_SUMMARY_COLUMNS,
    Article,
    ArticleUrl,
    Base,
    CrawlRun,
    FetchState,
    Match,
    SkippedPage,
    Source,
    as_utc,
    utcnow,
)
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
    SaveStatus,
    SkippedRecord,
    SourceHealth,
    StoredArticle,
    StoryView,
    Verdict,
)
from storage.rows import PreparedArticle, prepare_article

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime
    from types import TracebackType

    from sqlalchemy.engine import Connection
    from sqlalchemy.sql import ColumnElement, CompoundSelect

logger = logging.getLogger(__name__)

T = TypeVar("T")

_ATTEMPTS = 3  # PostgreSQL deadlocks between two crawls are retried this often
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_NEW_SOURCES = "newswatch_new_sources"  # session.info key: source ids found in this transaction
_URL_CHUNK = 500  # URLs per IN (...) list, well under SQLite's bound-parameter limit


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
        self._story_window = story_window_days
        self._engine = open_database(url)
        self._url = describe_url(self._engine.url)
        self._dialect = self._engine.dialect.name
        self._reads = sessionmaker(self._engine, expire_on_commit=False)
        self._writes = sessionmaker(writer(self._engine), expire_on_commit=False)
        self._source_ids: dict[str, int] = {}
        # Built once: constructing statements costs more than running them on SQLite.
        self._insert_source = insert_ignoring_duplicates(self._dialect, _table(Source))
        self._insert_article = insert_ignoring_duplicates(self._dialect, _table(Article)).returning(
            Article.id
        )
        self._insert_alias = insert_ignoring_duplicates(self._dialect, _table(ArticleUrl))
        self._insert_skipped = insert_ignoring_duplicates(self._dialect, _table(SkippedPage))
        self._insert_match = insert(_table(Match))

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
                self._source_id(session, name)

        self._transact(work)

    def start_run(self, sources: list[str]) -> int:
        run = CrawlRun(started_at=utcnow(), status="running", sources=list(sources))

        def work(session: Session) -> int:
            session.add(run)
            session.flush()
            return run.id

        return self._transact(work)

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
            result = session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(values))
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise self._no_run(run_id)

        self._transact(work)

    def close_abandoned_runs(self, status: str = "interrupted") -> int:
        """Mark runs still "running" as interrupted (their crawl was killed); returns how many.

        Call only while holding the crawl lock, or a crawl running right now would be marked too.
        `status` may say why instead: "timeout" when the daemon killed a crawl over its limit.
        """
        if status not in ("interrupted", "timeout", "failed"):
            raise ValueError(
                f"An abandoned run ends interrupted, timeout or failed, not {status!r}"
            )
        # A killed crawl never reported its figures: count what it stored instead.
        stored = select(func.count()).where(Article.run_id == CrawlRun.id).scalar_subquery()
        matched = (
            select(func.count())
            .select_from(Match)
            .join(Article, Article.id == Match.article_id)
            .where(Article.run_id == CrawlRun.id)
            .scalar_subquery()
        )
        query = (
            update(CrawlRun)
            .where(CrawlRun.status == "running")
            .values(
                status=status,
                finished_at=utcnow(),
                articles_extracted=stored,
                matches=matched,
                new_matches=matched,
            )
        )
        return self._transact(lambda s: int(s.execute(query).rowcount))  # type: ignore[attr-defined]

    def list_runs(self, limit: int = 10) -> list[RunView]:
        query = select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        return self._transact(
            lambda s: [rows.run_view(run) for run in s.scalars(query.limit(limit))], write=False
        )

    def get_run(self, run_id: int) -> RunView:
        def work(session: Session) -> RunView:
            run = session.get(CrawlRun, run_id)
            if run is None:
                raise self._no_run(run_id)
            return rows.run_view(run)

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
        wanted = [url for url in dict.fromkeys(urls) if rows.storable_url(url)]

        def work(session: Session) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(wanted), _URL_CHUNK):
                chunk = wanted[start : start + _URL_CHUNK]
                found.update(session.scalars(_known_url_query(chunk)))
            return found

        return self._transact(work, write=False) if wanted else set()

    def is_known_url(self, url: str) -> bool:
        return bool(self.known_urls([url]))

    def load_known_urls(self) -> set[str]:
        """Every stored article URL, alias and skipped page, read in one query."""
        return self._transact(lambda s: set(s.scalars(_known_url_query(None))), write=False)

    def get_fetch_validators(self, url: str) -> FetchValidators | None:
        """The validators of the last fetch of `url`, or None when there are none to send."""
        query = select(FetchState.etag, FetchState.last_modified).where(FetchState.url == url)
        row = self._transact(lambda s: s.execute(query).first(), write=False)
        if row is None or (row.etag is None and row.last_modified is None):
            return None
        return FetchValidators(etag=row.etag, last_modified=row.last_modified)

    def save_fetch_state(
        self, url: str, *, etag: str | None, last_modified: str | None, status: int, entries: int
    ) -> None:
        """Record a fetch of a feed or sitemap.

        A 304 answer often omits the validators and has no entries to count, so on 304 the
        stored validators are kept unless new ones are given, and the stored count is kept.
        """
        values = {
            "url": rows.checked_url(url),
            "etag": rows.clean_optional(etag),
            "last_modified": rows.clean_optional(last_modified),
            "last_status": status,
            "last_fetched_at": utcnow(),
            "entries": entries,
        }
        pg_insert = postgresql.insert(FetchState).values(values)
        lite_insert = sqlite.insert(FetchState).values(values)
        excluded = pg_insert.excluded if self._dialect == "postgresql" else lite_insert.excluded
        changes: dict[str, ColumnElement[Any]] = {
            "last_status": excluded.last_status,
            "last_fetched_at": excluded.last_fetched_at,
        }
        if status == 304:
            changes["etag"] = func.coalesce(excluded.etag, FetchState.etag)
            changes["last_modified"] = func.coalesce(
                excluded.last_modified, FetchState.last_modified
            )
        else:
            changes.update(
                etag=excluded.etag, last_modified=excluded.last_modified, entries=excluded.entries
            )
        statement = (
            pg_insert.on_conflict_do_update(index_elements=["url"], set_=changes)
            if self._dialect == "postgresql"
            else lite_insert.on_conflict_do_update(index_elements=["url"], set_=changes)
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
            return list(self._transact(lambda s: self._save_writes(s, writes)))
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
        [outcome] = self._transact(lambda s: self._save_writes(s, [write]))
        return outcome

    def _save_writes(
        self, session: Session, writes: Sequence[PreparedArticle | SkippedRecord]
    ) -> list[SaveOutcome | None]:
        connection = session.connection()
        articles = [write for write in writes if isinstance(write, PreparedArticle)]
        # First, before any row lock: a near-duplicate saved concurrently waits for this one.
        stories.lock_bands(connection, [article.values["minhash"] for article in articles])
        outcomes: list[SaveOutcome | None] = []
        new_matches: list[dict[str, Any]] = []
        for write in writes:
            if isinstance(write, PreparedArticle):
                outcomes.append(self._save_article(session, connection, write, new_matches))
            else:
                self._record_skipped(session, connection, write)
                outcomes.append(None)
        if new_matches:  # one statement for the batch; nothing in it reads them before
            connection.execute(self._insert_match, new_matches)
        return outcomes

    def _save_article(
        self,
        session: Session,
        connection: Connection,
        prepared: PreparedArticle,
        new_matches: list[dict[str, Any]],
    ) -> SaveOutcome:
        """Store one article, or join the stored one it duplicates. The match row of a new
        matched article is appended to `new_matches`, for the caller to insert."""
        record, urls, values = prepared.record, prepared.urls, prepared.values
        source_id = self._source_id(session, record.source)
        found = find_duplicate(connection, urls, values["content_hash"])
        if found is None:
            story = stories.choose_story(connection, values, self._story_window)
            row = {**values, "source_id": source_id, "story_id": story.story_id}
            article_id = connection.execute(self._insert_article, row).scalar()
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

    def record_skipped(self, url: str, source: str, reason: str, run_id: int | None) -> None:
        """Remember a page that holds no article; a second call for the same URL changes nothing."""
        skipped = SkippedRecord(url=url, source=source, reason=reason, run_id=run_id)
        self._transact(lambda s: self._save_writes(s, [skipped]))

    def _record_skipped(
        self, session: Session, connection: Connection, skipped: SkippedRecord
    ) -> None:
        row = {
            "url": rows.checked_url(skipped.url),
            "reason": rows.clean(skipped.reason)[: rows.MAX_SHORT_TEXT],
            "run_id": skipped.run_id,
            "seen_at": utcnow(),
            "source_id": self._source_id(session, skipped.source),
        }
        connection.execute(self._insert_skipped, row)

    def list_matches(
        self, since: datetime | None = None, limit: int | None = None, region: str | None = None
    ) -> list[MatchView]:
        """Matched articles, newest first by publication (or first-seen) time.

        Args:
            since: keep articles published (or first seen) at or after this time; naive is UTC.
            region: keep matches that recognised this Moroccan region (any case).
        """
        when = func.coalesce(Article.published_at, Article.first_seen_at)
        query = (
            select(*ARTICLE_SUMMARY_COLUMNS, Source.name, *matches.LISTED_COLUMNS)
            .join(Match, Match.article_id == Article.id)
            .join(Source, Source.id == Article.source_id)
            # A match row whose article no longer matches (after a refilter) is sent history.
            .where(Article.matched.is_(True))
            .order_by(when.desc(), Article.id.desc())
            # Regions are a JSON list: filtered here, below, so the limit applies after it.
            .limit(limit if region is None else None)
        )
        if since is not None:
            query = query.where(when >= as_utc(since))

        def work(session: Session) -> list[MatchView]:
            if region is None:
                found = session.execute(query).all()
            else:
                found = list(islice(matches.in_region(session.execute(query), region), limit))
            copies = stories.story_copies(session, (r.story_id for r in found if r.story_id))
            return [
                rows.match_view(row, stories.also_in(copies.get(row.story_id, []), row.url))
                for row in found
            ]

        return self._transact(work, write=False)

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
                    self._source_ids.update(session.info.get(_NEW_SOURCES, {}))
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

    def _source_id(self, session: Session, name: str) -> int:
        """The id of source `name`, created if missing."""
        if not name or len(name) > 200 or "\x00" in name:
            raise ValueError(f"Source name {name!r} must have 1 to 200 characters")
        new_sources: dict[str, int] = session.info.setdefault(_NEW_SOURCES, {})
        source_id = self._source_ids.get(name) or new_sources.get(name)
        if source_id is None:
            row = {"name": name, "created_at": utcnow()}
            session.execute(self._insert_source, row)
            source_id = session.scalars(_SOURCE_ID, {"name": name}).one()
            new_sources[name] = source_id
        return source_id

    def _no_run(self, run_id: int) -> StorageError:
        return StorageError(f"No crawl run {run_id} in {self._url}; list the runs to see their ids")


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _known_url_query(urls: list[str] | None) -> CompoundSelect[tuple[str]]:
    selects = [select(Article.url), select(ArticleUrl.url), select(SkippedPage.url)]
    if urls is not None:
        selects = [query.where(query.selected_columns[0].in_(urls)) for query in selects]
    return union_all(*selects)


_SOURCE_ID = select(Source.id).where(Source.name == bindparam("name"))
_STORY_OF = select(_table(Article).c.story_id).where(_table(Article).c.id == bindparam("article"))


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)
