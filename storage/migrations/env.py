"""Alembic's environment for newswatch, shaped like Alembic's generic template.

`storage.db.migrate` passes an open connection in `config.attributes["connection"]`, inside a
transaction it already holds (with the PostgreSQL advisory lock). Without one, as when a
developer drives Alembic by hand, the URL comes from the `sqlalchemy.url` option. Logging is
left to the application, so no `fileConfig` here.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import create_engine_for, writer
from storage.errors import StorageError
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configured_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise StorageError(
            "Alembic has neither a connection nor a URL: pass config.attributes['connection'] "
            "or set the sqlalchemy.url option"
        )
    return url


def run_migrations_offline() -> None:
    """Emit the SQL as a script instead of running it ("alembic upgrade --sql")."""
    url = _configured_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the passed-in connection, or on a fresh engine for the URL."""
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run_on(connection)
        return
    engine = create_engine_for(_configured_url())
    try:
        with writer(engine).begin() as own_connection:
            _run_on(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
