"""Engines from a database URL: driver choice, SQLite pragmas, and migration to the newest schema.

Sessions belong to `storage.repository`; this module only opens the database.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from storage import sqlite_schema
from storage.errors import StorageError

if TYPE_CHECKING:
    import sqlite3

    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.pool import ConnectionPoolEntry

logger = logging.getLogger(__name__)

SCRIPT_LOCATION = "storage:migrations"
# The newest revision under storage/migrations/versions (tests/test_storage.py checks it against
# Alembic's head). A database already there is opened without loading Alembic at all.
HEAD_REVISION = "0004"

# Execution option read by the SQLite "begin" hook: writers start with BEGIN IMMEDIATE, so they
# queue on the busy timeout instead of failing when a read transaction tries to become a write.
_WRITE_OPTION = "newswatch_write"

_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout = 30000",  # first, so that switching to WAL waits for other openers
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",  # safe with WAL: a power cut may lose the last commits only
)

# Any fixed 64-bit key: every newswatch process migrating a PostgreSQL database takes this lock.
_PG_MIGRATION_LOCK = 0x6E77_6D69_6772_0001

# `alembic.context` is process-global, so two threads must not migrate at the same time.
_MIGRATION_THREAD_LOCK = threading.Lock()

_USAGE = "use sqlite:///path/to/newswatch.db or postgresql+psycopg://user:password@host/dbname"


def parse_database_url(url: str) -> URL:
    """Parse `url`, sending `postgres://` and `postgresql://` to the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"{_redact(url)!r} is not a database URL; {_USAGE}") from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def describe_url(url: URL) -> str:
    """The URL as it may appear in logs and messages: with the password hidden."""
    return url.render_as_string(hide_password=True)


def create_engine_for(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, without touching the schema."""
    parsed = parse_database_url(url)
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _create_sqlite_engine(parsed)
        if backend == "postgresql":
            connect_args: dict[str, Any] = {}
            if "connect_timeout" not in parsed.query:
                connect_args["connect_timeout"] = 10  # an unreachable host must not hang a crawl
            return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StorageError(f"Cannot use database {describe_url(parsed)}: {exc}; {_USAGE}") from exc
    raise StorageError(
        f"Unsupported database {describe_url(parsed)}: newswatch stores into SQLite or "
        f"PostgreSQL; {_USAGE}"
    )


def open_database(url: str) -> Engine:
    """An engine for `url` whose schema has been migrated to the newest revision."""
    engine = create_engine_for(url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def migrate(engine: Engine) -> None:
    """Upgrade the schema to Alembic's head, safely when several processes open a fresh DB.

    A database already at `HEAD_REVISION` (every open but the first) is recognised with one
    plain query: importing and running Alembic would cost a crawl 0.1 s for nothing. A new SQLite
    database gets its schema from `storage.sqlite_schema`'s snapshot, also without Alembic.
    """
    try:
        if _at_head(engine):
            logger.debug("Database %s is at the newest schema", describe_url(engine.url))
            return
    except DBAPIError as exc:
        raise StorageError(cannot_open_message(engine.url, exc)) from exc
    try:
        with _MIGRATION_THREAD_LOCK, writer(engine).begin() as connection:
            if connection.dialect.name == "postgresql":
                # Held until commit: a second process waits, then finds the schema at head.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            # SQLite's BEGIN IMMEDIATE serialises openers the same way; a second one then finds
            # the schema at head, and need not load Alembic to learn it.
            elif sqlite_schema.is_at_revision(connection, HEAD_REVISION):
                return
            elif sqlite_schema.create_from_snapshot(connection, HEAD_REVISION):
                logger.debug("Database %s created at the newest schema", describe_url(engine.url))
                return
            _alembic_upgrade(connection)
    except DBAPIError as exc:
        raise StorageError(cannot_open_message(engine.url, exc)) from exc
    logger.debug("Database %s is at the newest schema", describe_url(engine.url))


def _alembic_upgrade(connection: Connection) -> None:
    """Upgrade with Alembic, imported only here: it costs 0.2 s to import."""
    from alembic import command
    from alembic.util.exc import CommandError

    try:
        command.upgrade(alembic_config(connection), "head")
    except CommandError as exc:
        url = connection.engine.url
        raise StorageError(
            f"Cannot migrate database {describe_url(url)}: {exc}. If a newer newswatch "
            "created it, upgrade newswatch."
        ) from exc


def _at_head(engine: Engine) -> bool:
    """Whether the schema is at `HEAD_REVISION`; False when there is no version table yet.

    A database that cannot be opened at all raises `DBAPIError` here, as it would in Alembic.
    """
    with engine.connect() as connection:
        try:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except DBAPIError:
            return False  # no alembic_version table: a new (or foreign) database
    return [row[0] for row in versions] == [HEAD_REVISION]


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an alembic.ini: the scripts ship inside `storage`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that SQLite transactions start with BEGIN IMMEDIATE."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def cannot_open_message(url: URL, exc: DBAPIError) -> str:
    """A one-paragraph message: which database, what the driver said, what to check."""
    reason = (
        str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    )
    if url.password:
        reason = reason.replace(str(url.password), "***")
    if url.get_backend_name() == "sqlite":
        hint = (
            "Check that the file's directory exists and is writable, and that it is a SQLite file"
        )
    else:
        hint = (
            "Check that the server is running and reachable at that host and port, that the "
            "user, password and database name are right, and that the user may create tables"
        )
    return f"Cannot open database {describe_url(url)}: {reason}. {hint}."


def _create_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:"):
        # One shared connection, or every pooled connection would see its own empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"Cannot create the directory of database {describe_url(url)}: {exc}. "
                    "Check the path and its permissions."
                ) from exc
        engine = create_engine(url)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    # The sqlite3 module's own BEGIN handling skips SELECTs and DDL; SQLAlchemy emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _redact(url: str) -> str:
    """Hide a password in a string that could not even be parsed as a URL."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
