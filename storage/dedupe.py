"""Exact duplicates: their look-up (by URL or normalised-text hash, see `storage.text`), and
inserts that let unique constraints decide.

Near duplicates (a story retold by another outlet) are not settled here; this module only makes
sure that one URL or one text is stored once, even when two crawls insert at the same moment.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, literal_column, select, union_all

from storage.driver_sql import DriverStatements, connection_of
from storage.models import ARTICLE_URLS, ARTICLES
from storage.records import SaveStatus

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import CompoundSelect
    from sqlalchemy.sql.dml import Insert
    from sqlalchemy.sql.elements import BindParameter


def dialect_insert(dialect_name: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The INSERT of `dialect_name`, which knows ON CONFLICT.

    Each dialect's module is imported on first use: an SQLite crawl need not spend 0.05 s
    importing the PostgreSQL one.
    """
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    if dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise NotImplementedError(f"newswatch supports SQLite and PostgreSQL, not {dialect_name}")


def insert_ignoring_duplicates(dialect_name: str, table: Table) -> Insert:
    """An INSERT into `table` that does nothing for a row whose unique keys are already taken.

    The unique constraints, not a prior SELECT, decide: two transactions inserting the same row
    at once end with one row, and the loser gets no RETURNING row and re-reads the winner's.
    The statement carries no values: execute it with parameters, so that it is compiled once.
    """
    return dialect_insert(dialect_name, table).on_conflict_do_nothing()


# One statement, so that it reads one snapshot: as two, a row committed by a concurrent crawl
# between them could be missed by URL yet found by text. Core tables, not ORM entities, run as
# driver SQL (`storage.driver_sql`): this runs for every saved article. One statement per count
# of URLs (one or two), since the driver SQL of an expanding IN would change with the list.
def _duplicates(url_count: int) -> CompoundSelect[Any]:
    urls: list[BindParameter[str]] = [bindparam(f"url{index}") for index in range(url_count)]
    return union_all(
        select(ARTICLES.c.url, ARTICLES.c.id, literal_column("'url'")).where(
            ARTICLES.c.url.in_(urls)
        ),
        select(ARTICLE_URLS.c.url, ARTICLE_URLS.c.article_id, literal_column("'url'")).where(
            ARTICLE_URLS.c.url.in_(urls)
        ),
        select(ARTICLES.c.url, ARTICLES.c.id, literal_column("'text'")).where(
            ARTICLES.c.content_hash == bindparam("digest")
        ),
    )


_STATEMENTS = DriverStatements()


def find_duplicate(
    session: Connection | Session, urls: list[str], digest: str
) -> tuple[SaveStatus, int, set[str]] | None:
    """The stored article that `urls` (canonical first) or the text hash `digest` lead to.

    Returns the kind of duplicate, the article's id, and which of `urls` are stored already
    (as a canonical URL or an alias), so that only the others become aliases.
    """
    connection = connection_of(session)
    statement = _STATEMENTS.get(connection.dialect, len(urls), partial(_duplicates, len(urls)))
    parameters = {f"url{index}": url for index, url in enumerate(urls)}
    parameters["digest"] = digest
    by_url: dict[str, int] = {}
    by_text: int | None = None
    for url, article_id, kind in statement.execute(connection, parameters):
        if kind == "url":
            by_url[url] = article_id
        else:
            by_text = article_id
    for url in urls:
        if url in by_url:
            return SaveStatus.DUPLICATE_URL, by_url[url], set(by_url)
    return None if by_text is None else (SaveStatus.DUPLICATE_CONTENT, by_text, set())
