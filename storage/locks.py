"""The crawl lock: at most one crawl (or daemon) works on a database at a time.

SQLite: an exclusive `flock` on `<database>.lock` beside the file, holding the owner's PID.
PostgreSQL: a session-level advisory lock held on a dedicated connection. Both are released by
the operating system or the server when the holding process dies, so a crash never leaves a
stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine_for, describe_url
from storage.errors import CrawlLockedError

if TYPE_CHECKING:
    from collections.abc import Iterator

# An arbitrary constant: "newswatch crawl" as a 63-bit key for pg_try_advisory_lock.
ADVISORY_KEY = 0x6E77_6372_6177_6C


@contextlib.contextmanager
def crawl_lock(url: str, *, what: str = "crawl") -> Iterator[None]:
    """Hold the crawl lock of the database at `url`, or raise CrawlLockedError at once."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with _file_lock(parsed.database, url, what):
            yield
    else:
        with _advisory_lock(url, what):
            yield


def lock_holder(url: str) -> int | None:
    """PID of the process holding a SQLite database's lock, if any (None for PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(f"{parsed.database}.lock")
    try:
        with path.open("r+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read_pid(handle)
            fcntl.flock(handle, fcntl.LOCK_UN)
    except FileNotFoundError:
        return None
    return None


@contextlib.contextmanager
def _file_lock(database: str | None, url: str, what: str) -> Iterator[None]:
    if not database or database == ":memory:":
        yield  # a private in-memory database cannot be shared
        return
    path = Path(f"{database}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(handle)
            holder = f" (process {pid})" if pid else ""
            raise CrawlLockedError(
                f"another newswatch crawl or daemon{holder} is working on "
                f"{describe_url(make_url(url))}; wait for it to finish, or stop it, "
                f"before starting this {what}"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_pid(handle: object) -> int | None:
    try:
        handle.seek(0)  # type: ignore[attr-defined]
        content = handle.read().strip()  # type: ignore[attr-defined]
    except OSError:
        return None
    return int(content) if content.isdigit() else None


@contextlib.contextmanager
def _advisory_lock(url: str, what: str) -> Iterator[None]:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            ).scalar()
            connection.commit()
            if not got:
                raise CrawlLockedError(
                    f"another newswatch crawl or daemon is working on "
                    f"{describe_url(make_url(url))}; wait for it to finish, or stop it, "
                    f"before starting this {what}"
                )
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                connection.commit()
    finally:
        engine.dispose()
