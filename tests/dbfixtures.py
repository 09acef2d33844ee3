"""Database fixtures: `db_url` runs a test on SQLite and on PostgreSQL, `postgres_url` on PostgreSQL.
`article_record` builds the articles that tests save.

PostgreSQL tests need NEWSWATCH_TEST_POSTGRES_URL, for example
postgresql+psycopg://postgres@127.0.0.1:5432/test; each test gets a schema of its own, dropped after.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text

from storage.db import create_engine_for, parse_database_url
from storage.records import ArticleRecord

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

POSTGRES_URL_VARIABLE = "NEWSWATCH_TEST_POSTGRES_URL"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in a directory that does not exist yet, as a user's first run would see."""
    return f"sqlite:///{tmp_path / 'data' / 'newswatch.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections use a fresh PostgreSQL schema, dropped with all it holds after the test."""
    base = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} not set")
    schema = f"nw_test_{secrets.token_hex(6)}"
    admin = create_engine_for(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    parsed = parse_database_url(base)
    given = parsed.query.get("options", "")
    options = " ".join([*([given] if isinstance(given, str) else given), f"-csearch_path={schema}"])
    url = parsed.update_query_dict({"options": options})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database, once per supported backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


def article_record(url: str, text: str, **fields: Any) -> ArticleRecord:
    """A matched French lematin article fetched at its canonical URL, undated, with no author;
    `fields` replace any field, so a test names only those it is about."""
    defaults: dict[str, Any] = {
        "source": "lematin",
        "fetched_url": url,
        "title": "Titre",
        "published_at": None,
        "author": None,
        "language": "fr",
        "score": 0.0,
        "matched": True,
        "explanation": {},
    }
    return ArticleRecord(url=url, text=text, **(defaults | fields))
