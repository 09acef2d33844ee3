"""Tests for storage.sqlite_schema: a new SQLite database created from the snapshot is the same
database as one Alembic migrated, and Alembic still does the work where the snapshot cannot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from storage import sqlite_schema
from storage.db import HEAD_REVISION, alembic_config, create_engine_for, open_database, writer
from storage.migrations import sqlite_head

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Everything SQLite records of a schema, its own objects included.
MASTER = text("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
# Between the items of a CREATE TABLE as SQLAlchemy writes them ("(\n\tid INTEGER, \n\t...").
ITEM_BREAK = re.compile(r",\s*\n\t")


def comparable(sql: str | None) -> tuple[str, ...] | None:
    """A CREATE statement with its constraints sorted: Alembic's batch mode rebuilds a table
    with them in an order that changes from run to run (a set), which means nothing. Columns
    keep their order."""
    if sql is None:
        return None
    head, _, body = sql.partition("(")
    body = body.strip().removesuffix(")")  # the statement's closing parenthesis
    items = [item.strip() for item in ITEM_BREAK.split(body)]
    constraints = sorted(item for item in items if item.startswith("CONSTRAINT "))
    return (head, *(item for item in items if not item.startswith("CONSTRAINT ")), *constraints)


def master_rows(url: str) -> list[tuple[object, ...]]:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            return [
                (kind, name, table, comparable(sql))
                for kind, name, table, sql in connection.execute(MASTER)
            ]
    finally:
        engine.dispose()


def migrate_with_alembic(url: str, revision: str = "head") -> None:
    engine = create_engine_for(url)
    try:
        with writer(engine).begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


def test_the_snapshot_is_of_the_newest_migration() -> None:
    # If this fails after a change to the migrations: python -m storage.sqlite_schema
    statements, revision = sqlite_schema.migrated_schema()
    assert sqlite_head.REVISION == revision == HEAD_REVISION
    assert sorted(map(comparable, sqlite_head.STATEMENTS)) == sorted(map(comparable, statements))


def test_a_database_from_the_snapshot_is_the_migrated_database(tmp_path: Path) -> None:
    from_snapshot, migrated = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    engine = create_engine_for(from_snapshot)
    try:
        with writer(engine).begin() as connection:
            assert sqlite_schema.create_from_snapshot(connection, HEAD_REVISION)
            assert sqlite_schema.is_at_revision(connection, HEAD_REVISION)
            assert not sqlite_schema.create_from_snapshot(connection, HEAD_REVISION)  # not twice
    finally:
        engine.dispose()
    migrate_with_alembic(migrated)
    assert master_rows(from_snapshot) == master_rows(migrated)
    engine = create_engine_for(from_snapshot)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            assert [row[0] for row in versions] == [HEAD_REVISION]
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        engine.dispose()


def test_a_database_from_the_snapshot_downgrades_and_upgrades_with_alembic(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_database(url)
    try:
        with writer(engine).begin() as connection:
            command.downgrade(alembic_config(connection), "base")
            command.upgrade(alembic_config(connection), "head")
    finally:
        engine.dispose()
    reference = f"sqlite:///{tmp_path / 'b.db'}"
    migrate_with_alembic(reference)
    assert master_rows(url) == master_rows(reference)


def test_a_new_sqlite_database_loads_neither_alembic_nor_the_postgresql_dialect(
    tmp_path: Path,
) -> None:
    script = (
        "import sys\n"
        "from storage.repository import Repository\n"
        "from tests.dbfixtures import article_record\n"
        "with Repository(sys.argv[1]) as repo:\n"
        "    repo.save_article(article_record('https://lematin.ma/a.html', 'Jumelage ' * 50))\n"
        "    repo.save_fetch_state('https://lematin.ma/sitemap.xml', etag='x', last_modified=None,"
        " status=200, entries=1)\n"
        "    assert repo.count_articles() == 1\n"
        "loaded = {'alembic', 'sqlalchemy.dialects.postgresql'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{tmp_path / 'new.db'}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_snapshot_of_another_revision_is_left_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_head, "STATEMENTS", ("CREATE TABLE wrong (id INTEGER)",))
    monkeypatch.setattr(sqlite_head, "REVISION", "0003")
    url, reference = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    open_database(url).dispose()
    migrate_with_alembic(reference)
    assert master_rows(url) == master_rows(reference)


def test_an_older_database_is_upgraded_by_alembic_not_the_snapshot(tmp_path: Path) -> None:
    url, reference = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    migrate_with_alembic(url, "0002")
    engine = create_engine_for(url)
    try:
        with writer(engine).begin() as connection:
            assert not sqlite_schema.create_from_snapshot(connection, HEAD_REVISION)
    finally:
        engine.dispose()
    open_database(url).dispose()
    migrate_with_alembic(reference)
    assert master_rows(url) == master_rows(reference)


def test_a_foreign_database_is_not_given_the_snapshot(tmp_path: Path) -> None:
    # "sqliteusers" is not one of SQLite's own tables, though "sqlite_%" matches it in LIKE.
    engine = create_engine_for(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with writer(engine).begin() as connection:
            connection.exec_driver_sql("CREATE TABLE sqliteusers (id INTEGER)")
            assert not sqlite_schema.is_at_revision(connection, HEAD_REVISION)
            assert not sqlite_schema.create_from_snapshot(connection, HEAD_REVISION)
            assert sqlite_schema.schema_statements(connection) == [
                "CREATE TABLE sqliteusers (id INTEGER)"
            ]
    finally:
        engine.dispose()
