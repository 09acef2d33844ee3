"""Driver SQL for the save path (storage.driver_sql): each statement sends the driver the same SQL
and the same parameters as SQLAlchemy's own execution of it, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import bindparam, create_engine, event, func, insert, select
from sqlalchemy.exc import StatementError

from storage import dedupe, stories
from storage.db import create_engine_for
from storage.driver_sql import DriverStatements, compile_statement
from storage.matches import match_values
from storage.minhash import band_keys
from storage.models import ARTICLES, MATCHES, SOURCES, STORIES
from storage.prepare import prepare_article
from storage.repository import Repository
from storage.saving import ArticleSaver
from tests.dbfixtures import article_record

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.sql import ClauseElement

TEXT = (
    "Le conseil de la région de l'Oriental et le département de l'Hérault ont signé à Oujda une "
    "convention de coopération décentralisée pour l'eau potable et la formation."
)
EXPLANATION = {
    "score": 12.5,
    "matched": {"twinning": ["jumelage"], "agreement": ["convention"]},
    "tier": "strong",
    "regions": ["Oriental"],
    "partners": ["Hérault"],
    "note": "l'accord « signé » — تعاون",
}


@pytest.fixture
def connection(db_url: str) -> Iterator[Connection]:
    """A connection to a migrated database with one source and one story, in a transaction
    rolled back after the test."""
    Repository(db_url).close()
    engine = create_engine_for(db_url)
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            connection.execute(insert(SOURCES).values(name="lematin", created_at=_now()))
            connection.execute(insert(STORIES).values(created_at=_now()))
            yield connection
            transaction.rollback()
    finally:
        engine.dispose()


def _now() -> datetime:
    return datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)


def _sent_by_sqlalchemy(
    connection: Connection, statement: ClauseElement, values: Any
) -> tuple[str, Any]:
    """The SQL and parameters that executing `statement` through SQLAlchemy hands the driver."""
    sent: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        sent.append((args[2], args[3]))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        connection.execute(statement, values)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    return sent[-1]


def _article_row(connection: Connection, url: str) -> dict[str, Any]:
    prepared = prepare_article(
        article_record(
            url,
            TEXT,
            html=f"<html><body><p>{TEXT}</p></body></html>",
            published_at=datetime(2026, 11, 19, 23, 5, tzinfo=UTC),
            author="Rédaction",
            score=12.5,
            explanation=EXPLANATION,
        )
    )
    source_id = connection.execute(select(func.min(SOURCES.c.id))).scalar_one()
    story_id = connection.execute(select(func.min(STORIES.c.id))).scalar_one()
    return {**prepared.values, "source_id": source_id, "story_id": story_id}


def _assert_same(
    connection: Connection,
    statement: ClauseElement,
    values: Any,
    column_keys: Sequence[str] | None = None,
) -> None:
    many = isinstance(values, list)
    driver = compile_statement(statement, connection.dialect, column_keys, many=many)
    sql, parameters = _sent_by_sqlalchemy(connection, statement, values)
    assert driver.sql == sql
    if isinstance(values, list):  # several rows: one executemany
        assert len(values) > 1
        assert [_comparable(driver.parameters(row)) for row in values] == [
            _comparable(row) for row in parameters
        ]
    else:
        assert _comparable(driver.parameters(values)) == _comparable(parameters)


def _comparable(parameters: Any) -> Any:
    """Parameters as values that compare: psycopg's `Json` and `Binary` wrappers compare by
    identity, so each becomes its type's name and the object it wraps."""
    if isinstance(parameters, dict):
        return {name: _comparable(value) for name, value in parameters.items()}
    if isinstance(parameters, tuple | list):
        return [_comparable(value) for value in parameters]
    wrapped = getattr(parameters, "obj", None)
    return parameters if wrapped is None else (type(parameters).__name__, _comparable(wrapped))


def test_the_article_and_match_inserts(connection: Connection) -> None:
    saver = ArticleSaver(connection.dialect.name, sources=None, story_window_days=7)  # type: ignore[arg-type]
    row = _article_row(connection, "https://lematin.ma/oujda-herault")
    _assert_same(connection, saver._insert_article, row, list(row))
    connection.execute(
        insert(ARTICLES), _article_row(connection, "https://lematin.ma/b") | {"content_hash": "b"}
    )
    article_ids = list(connection.execute(select(ARTICLES.c.id)).scalars())
    matches = [match_values(article_id, _now(), EXPLANATION) for article_id in article_ids]
    _assert_same(connection, insert(MATCHES), matches, list(matches[0]))


def test_the_story_and_band_statements(connection: Connection) -> None:
    _assert_same(connection, stories._INSERT_STORY, {"created_at": _now()})
    article = _article_row(connection, "https://lematin.ma/a")
    keys = band_keys(article["minhash"])
    connection.execute(insert(ARTICLES), article)
    [article_id] = connection.execute(select(ARTICLES.c.id)).scalars()
    bands = [{"band_key": key, "day": 20_412, "article_id": article_id} for key in keys[:3]]
    _assert_same(connection, stories._INSERT_BANDS, bands)
    parameters = {f"key{index}": key for index, key in enumerate(keys)} | {"first": 1, "last": 9}
    _assert_same(connection, stories._candidates(len(keys)), parameters)


def test_the_duplicate_lookup(connection: Connection) -> None:
    for urls in (["https://lematin.ma/a"], ["https://lematin.ma/a", "https://lematin.ma/a?x=1"]):
        parameters = {f"url{index}": url for index, url in enumerate(urls)} | {"digest": "ab" * 32}
        _assert_same(connection, dedupe._duplicates(len(urls)), parameters)


def test_a_statement_whose_sql_changes_per_execution_is_refused(connection: Connection) -> None:
    expanding = select(ARTICLES.c.id).where(ARTICLES.c.url.in_(bindparam("urls", expanding=True)))
    with pytest.raises(ValueError, match="expanding IN"):
        compile_statement(expanding, connection.dialect)


def test_python_side_defaults_must_be_supplied(connection: Connection) -> None:
    with pytest.raises(ValueError, match="regions, partners"):
        compile_statement(insert(MATCHES), connection.dialect, ["article_id", "matched_at"])


def test_a_value_that_cannot_be_converted_fails_as_in_sqlalchemy(connection: Connection) -> None:
    insert_story = compile_statement(stories._INSERT_STORY, connection.dialect)
    with pytest.raises(StatementError, match="created_at"):
        insert_story.execute(connection, {})
    with pytest.raises(StatementError, match="AttributeError"):
        insert_story.execute(connection, {"created_at": "yesterday"})


def test_compiled_once_per_kind_of_dialect_and_key() -> None:
    statements = DriverStatements()
    built: list[str] = []

    def build() -> ClauseElement:
        built.append("story insert")
        return stories._INSERT_STORY

    # Dialects of engines never connected: compiling needs no server.
    sqlite, other_sqlite = (create_engine("sqlite://").dialect for _ in range(2))
    postgresql = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none").dialect
    first = statements.get(sqlite, "story", build)
    assert statements.get(other_sqlite, "story", build) is first
    assert statements.get(sqlite, "other", build) is not first
    on_postgresql = statements.get(postgresql, "story", build)
    assert "%(created_at)s" in on_postgresql.sql
    assert "?" in first.sql
    assert built == ["story insert"] * 3
