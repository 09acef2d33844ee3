"""Near-duplicate grouping: one story per text, whichever outlets republished it.

An article whose text is a near-duplicate of an article stored within `window_days` joins that
article's story; otherwise it starts one. Near-duplicate is the rule of
`storage.minhash.is_near_duplicate`, whose module computes the texts' signatures and band keys.
The candidates come from MinHash locality-sensitive hashing, so a lookup is a few indexed
queries bounded by the window, whatever the size of the database:

- each article's signature is computed in the extraction workers (`storage.prepare.prepare_article`)
  and stored in `articles.minhash`;
- its band keys are stored in `story_bands` with the article's day, under a (key, day) index;
- a new article's candidates are the articles sharing a band key within the window. The
  signatures weed out chance collisions, and the survivors are compared exactly, on their texts.

Exact duplicates (same URL, same normalised text) are settled earlier by `storage.dedupe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, bindparam, delete, func, insert, select, text, union_all

from storage.driver_sql import DriverStatements, connection_of
from storage.minhash import PREFILTER, THRESHOLD, agreement, shingles, similarity, unpack_signature
from storage.models import (
    ARTICLE_SUMMARY_COLUMNS,
    ARTICLES,
    STORIES,
    STORY_BANDS,
    Article,
    ArticleUrl,
    Match,
    Source,
    as_utc,
    decision_fields,
    summary_fields,
    utcnow,
)
from storage.records import StoryView
from storage.text import normalize_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection, Row
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import Select
    from sqlalchemy.sql.elements import BindParameter, TextClause

DEFAULT_WINDOW_DAYS = 7
SURE = 0.8  # an estimate this high is a copy without an exact check
MAX_EXACT = 3  # candidates compared exactly on their texts, best estimates first
MAX_CANDIDATES = 200  # most band-sharing articles compared; real copies share the most bands

_DAY_SECONDS = 86_400
# Any fixed int4: the first key of PostgreSQL's two-int advisory locks, a space apart from the
# one-bigint keys of the crawl and migration locks.
_LOCK_NAMESPACE = 0x6E77_7374


def article_day(published: datetime | None, first_seen: datetime) -> int:
    """The UTC day number of an article, by publication time, else first-seen time."""
    return int(as_utc(published or first_seen).timestamp()) // _DAY_SECONDS


def lock_bands(connection: Connection, batch_keys: Iterable[Sequence[int]]) -> None:
    """On PostgreSQL, take transaction-level locks on the band keys of a batch's articles.

    `batch_keys` holds each article's `storage.minhash.band_keys`, computed once by the caller,
    which then passes the same keys to `choose_story`. Two near-duplicates saved at the same
    moment share a band key, so the second waits until the first commits, then finds it: no
    two stories for one text. Take them first in the transaction, before any row lock, and for
    the whole batch at once, so that the wait cannot deadlock. SQLite writers are serialised
    already (BEGIN IMMEDIATE).
    """
    if connection.dialect.name != "postgresql":
        return
    # In ascending order, as every saving transaction does, so that waits never form a cycle.
    keys = sorted({_int4(key) for article_keys in batch_keys for key in article_keys})
    if keys:
        connection.execute(_lock_statement(), {"namespace": _LOCK_NAMESPACE, "keys": keys})


def _int4(key: int) -> int:
    """The low 32 bits of a band key, signed: two keys sharing them only wait for each other."""
    low = key & 0xFFFF_FFFF
    return low - (1 << 32) if low >= 1 << 31 else low


@cache
def _lock_statement() -> TextClause:
    """Built on first use: the PostgreSQL dialect is imported for PostgreSQL databases only."""
    from sqlalchemy.dialects.postgresql import ARRAY

    return text(
        "SELECT count(pg_advisory_xact_lock(:namespace, k)) FROM unnest(:keys) AS t(k)"
    ).bindparams(bindparam("keys", type_=ARRAY(Integer)))


@dataclass(frozen=True, slots=True)
class StoryChoice:
    """The story a new article joins, chosen before the article is inserted (see `choose_story`)."""

    story_id: int
    created: bool  # a new story, inserted for this article
    day: int
    keys: list[int]


def choose_story(
    connection: Connection, values: dict[str, Any], keys: list[int], window_days: int
) -> StoryChoice:
    """The story of a new article: a stored near-duplicate's, else a new one, inserted now.

    Chosen before the article's row is written, so that the row is inserted with its story
    (one statement less per article than setting it afterwards). `values` are the article's
    row values from `storage.prepare.article_values`, `keys` the band keys of its signature (the
    ones given to `lock_bands`). If the article then turns out to be a duplicate after all,
    `discard_story` removes a story created for it.
    """
    packed: bytes = values["minhash"]
    day = article_day(values["published_at"], values["first_seen_at"])
    story_id = find_story(connection, keys, packed, values["text"], day, window_days)
    created = story_id is None
    if story_id is None:
        insert_story = _STATEMENTS.get(connection.dialect, "insert story", lambda: _INSERT_STORY)
        story_id = insert_story.execute(connection, {"created_at": utcnow()}).scalar_one()
    return StoryChoice(story_id, created, day, keys)


def record_bands(connection: Connection, article_id: int, choice: StoryChoice) -> None:
    """Index the article's band keys, so that its later near-duplicates find it."""
    insert_bands = _STATEMENTS.get(
        connection.dialect, "insert bands", lambda: _INSERT_BANDS, many=True
    )
    insert_bands.execute_many(
        connection,
        [
            {"band_key": key, "day": choice.day, "article_id": article_id}
            for key in dict.fromkeys(choice.keys)
        ],
    )


def discard_story(connection: Connection, choice: StoryChoice) -> None:
    """Remove the story `choose_story` created for an article that was not stored after all."""
    if choice.created:
        connection.execute(_DELETE_STORY, {"story": choice.story_id})


# Core statements on the tables, not ORM ones: this runs for every stored article, and the
# ORM's statement handling cost more than SQLite's work (measured with benchmarks/crawl_local.py).
# Those run for every new article go to the driver (`storage.driver_sql`): see `_STATEMENTS`.
_INSERT_STORY = insert(STORIES).values(created_at=bindparam("created_at")).returning(STORIES.c.id)
_INSERT_BANDS = insert(STORY_BANDS).values({c.name: bindparam(c.name) for c in STORY_BANDS.c})
_STATEMENTS = DriverStatements()
_DELETE_STORY = delete(STORIES).where(STORIES.c.id == bindparam("story"))


def find_story(
    connection: Connection | Session,
    keys: list[int],
    packed: bytes,
    body: str,
    day: int,
    window_days: int,
) -> int | None:
    """The story of the stored text most similar to `body`, if it is a near-duplicate of it."""
    bind = connection_of(connection)
    candidates = _STATEMENTS.get(
        bind.dialect, ("candidates", len(keys)), partial(_candidates, len(keys))
    )
    parameters = {f"key{index}": key for index, key in enumerate(keys)}
    parameters["first"], parameters["last"] = day - window_days, day + window_days
    found = candidates.execute(bind, parameters).all()
    mine = unpack_signature(packed)
    estimates = {
        article: agreement(mine, minhash) for article, minhash in found if minhash is not None
    }
    # The exact comparison re-reads and re-shingles a stored text: only for the few most
    # similar candidates (a crawl of MAP copies can offer dozens), as measured in
    # benchmarks/crawl_local.py, where it had become the main process's largest cost.
    plausible = sorted(
        (article for article, value in estimates.items() if value >= PREFILTER),
        key=lambda article: (-estimates[article], article),
    )[:MAX_EXACT]
    if not plausible:
        return None
    if estimates[plausible[0]] >= SURE:
        # Far above the threshold (the estimate's standard error is about 0.045 with 120
        # slots): a copy, no need to re-read texts. Ties go to the older story, as below.
        sure = [a for a in plausible if estimates[a] == estimates[plausible[0]]]
        return int(min(row.story_id for row in connection.execute(_TEXTS, {"ids": sure})))
    mine_shingles = shingles(normalize_text(body))
    best: tuple[float, int] | None = None
    for row in connection.execute(_TEXTS, {"ids": plausible}):
        score = similarity(mine_shingles, shingles(normalize_text(row.text)))
        # The most similar wins; on a tie, the older story.
        if score >= THRESHOLD and (best is None or (score, -row.story_id) > (best[0], -best[1])):
            best = (score, row.story_id)
    return None if best is None else best[1]


def _candidates(key_count: int) -> Select[Any]:
    """The stored articles sharing most bands with `key_count` band keys, in a day window. One
    statement per count of keys (always `BANDS` from `choose_story`): as driver SQL, an expanding
    IN would have to be rendered again at each execution."""
    keys: list[BindParameter[int]] = [bindparam(f"key{index}") for index in range(key_count)]
    shared = (
        select(STORY_BANDS.c.article_id, func.count().label("shared"))
        .where(
            STORY_BANDS.c.band_key.in_(keys),
            STORY_BANDS.c.day.between(bindparam("first"), bindparam("last")),
        )
        .group_by(STORY_BANDS.c.article_id)
        .order_by(func.count().desc(), STORY_BANDS.c.article_id)
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    return (
        select(ARTICLES.c.id, ARTICLES.c.minhash)
        .join(shared, shared.c.article_id == ARTICLES.c.id)
        .where(ARTICLES.c.story_id.is_not(None))
    )


_TEXTS = select(ARTICLES.c.id, ARTICLES.c.story_id, ARTICLES.c.text).where(
    ARTICLES.c.id.in_(bindparam("ids", expanding=True))
)


# Listing


@dataclass(frozen=True, slots=True)
class _Copy:
    story_id: int
    article_id: int  # the article the URL leads to (its own URL, or an alias of it)
    url: str
    source: str
    when: datetime


_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit


def story_copies(session: Session, story_ids: Iterable[int]) -> dict[int, list[_Copy]]:
    """Every published copy of the stories, newest first: their articles' canonical URLs, and
    the aliases found on other outlets (an alias on the article's own outlet is the same page).
    """
    wanted = list(dict.fromkeys(story_ids))
    copies: dict[int, list[_Copy]] = {story_id: [] for story_id in wanted}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in session.execute(_COPIES, {"stories": chunk}):
            copies[row.story_id].append(
                _Copy(row.story_id, row.article_id, row.url, row.name, row.at)
            )
    for found in copies.values():
        found.sort(key=lambda copy: (copy.when, copy.article_id), reverse=True)
    return copies


_WHEN = func.coalesce(Article.published_at, Article.first_seen_at)
_COPIES = union_all(
    select(
        Article.story_id,
        Article.id.label("article_id"),
        Article.url,
        Source.name,
        _WHEN.label("at"),
    )
    .join(Source, Source.id == Article.source_id)
    .where(Article.story_id.in_(bindparam("stories", expanding=True))),
    select(
        Article.story_id,
        Article.id.label("article_id"),
        ArticleUrl.url,
        Source.name,
        ArticleUrl.created_at.label("at"),
    )
    .join(ArticleUrl, ArticleUrl.article_id == Article.id)
    .join(Source, Source.id == ArticleUrl.source_id)
    .where(
        Article.story_id.in_(bindparam("stories", expanding=True)),
        ArticleUrl.source_id != Article.source_id,
    ),
)


def also_in(copies: Sequence[_Copy], own_url: str) -> list[str]:
    """URLs of the copies other than `own_url` (an article's own cross-outlet aliases count)."""
    return list(dict.fromkeys(copy.url for copy in copies if copy.url != own_url))


def list_stories(
    session: Session, since: datetime | None, limit: int | None, matched_only: bool
) -> list[StoryView]:
    """Stories newest first, by their first article's publication (else first-seen) time.

    With `matched_only`, a story counts only its matched articles when choosing whether it is
    listed (one of them at or after `since`) and which is its first article; its copies are
    all its articles, matched or not.
    """
    first = func.min(_WHEN)
    query = select(Article.story_id, first.label("first")).where(Article.story_id.is_not(None))
    if matched_only:
        # A match row of an article no longer matched (after a refilter) is sent history.
        query = query.join(Match, Match.article_id == Article.id).where(Article.matched.is_(True))
    query = query.group_by(Article.story_id)
    if since is not None:
        query = query.having(func.max(_WHEN) >= as_utc(since))
    query = query.order_by(first.desc(), Article.story_id.desc()).limit(limit)
    story_ids = [row.story_id for row in session.execute(query)]
    if not story_ids:
        return []
    firsts: dict[int, Row[Any]] = {}
    for start in range(0, len(story_ids), _CHUNK):
        chunk = story_ids[start : start + _CHUNK]
        for row in session.execute(_FIRST_ARTICLES[matched_only], {"stories": chunk}):
            firsts.setdefault(row.story_id, row)
    copies = story_copies(session, story_ids)
    return [_story_view(firsts[story_id], copies[story_id]) for story_id in story_ids]


def _first_articles(matched_only: bool) -> Select[Any]:
    query = (
        select(*ARTICLE_SUMMARY_COLUMNS, Source.name)
        .join(Source, Source.id == Article.source_id)
        .where(Article.story_id.in_(bindparam("stories", expanding=True)))
        .order_by(Article.story_id, _WHEN, Article.id)
    )
    if matched_only:
        query = query.join(Match, Match.article_id == Article.id).where(Article.matched.is_(True))
    return query


# The articles of the stories, first (earliest) first: all of them, or the matched ones.
_FIRST_ARTICLES = {flag: _first_articles(flag) for flag in (False, True)}


def _story_view(row: Row[Any], copies: list[_Copy]) -> StoryView:
    explanation = dict(row.explanation)
    others = [(copy.url, copy.source) for copy in copies if copy.url != row.url]
    return StoryView(
        **summary_fields(row),
        **decision_fields(explanation),
        story_id=row.story_id,
        matched=explanation.get("groups", {}),
        copies=list(dict.fromkeys(others)),
    )
