"""The crawl lock: at most one crawl (or daemon, or refilter) works on a database at a time.

SQLite: an exclusive `flock` on `<database>.lock` beside the file, holding the owner's PID.
PostgreSQL: a session-level advisory lock held on a dedicated connection. Both are released by
the operating system or the server when the holding process dies, so a crash never leaves a
stale lock behind.

The daemon lock works the same way (`<database>.daemon.lock`, another advisory key): one
`newswatch run` per database, held for the daemon's whole life, while its crawls take the crawl
lock each time. The digest lock (`<database>.digest.lock`) is held while a digest is composed
and sent, so the daemon's digest and a manual one never carry the same stories. On PostgreSQL the holder's PID and host travel in the lock connection's
`application_name`, so a refusal can name the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine_for, describe_url
from storage.errors import CrawlLockedError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection

# An arbitrary constant: "newswatch crawl" as a 63-bit key for pg_try_advisory_lock.
ADVISORY_KEY = 0x6E77_6372_6177_6C
# Another one for the daemon ("newswatch daemon"); both fit in PostgreSQL's two 32-bit oids.
DAEMON_ADVISORY_KEY = 0x6E77_6461_656D_6E
_APPLICATION_PREFIX = "newswatch "


@contextlib.contextmanager
def daemon_lock(url: str) -> Iterator[None]:
    """Hold the daemon lock of the database at `url`, or raise CrawlLockedError naming its holder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with _file_lock(parsed.database, url, "daemon", suffix=".daemon.lock"):
            yield
    else:
        with _advisory_lock(url, "daemon", DAEMON_ADVISORY_KEY):
            yield


# And one for sending a digest ("newswatch digest").
DIGEST_ADVISORY_KEY = 0x6E77_6469_6765_73


@contextlib.contextmanager
def digest_lock(url: str) -> Iterator[None]:
    """Hold the digest lock: one digest composed and sent at a time, so none is sent twice."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with _file_lock(parsed.database, url, "digest", suffix=".digest.lock"):
            yield
    else:
        with _advisory_lock(url, "digest", DIGEST_ADVISORY_KEY):
            yield


def daemon_holder(url: str) -> str | None:
    """Who runs a daemon on this database ("process 123", "process 123 on host"), or None."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return None
        held, pid = _probe_file(Path(f"{parsed.database}.daemon.lock"))
        if not held:
            return None
        return f"process {pid}" if pid else "a process"
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            key = _scoped(connection, DAEMON_ADVISORY_KEY)
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
            ).scalar()
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
                return None
            holder = _advisory_holder(connection, key)
            connection.commit()
            return holder or "a process"
    finally:
        engine.dispose()


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
    return _probe_file(Path(f"{parsed.database}.lock"))[1]


def _probe_file(path: Path) -> tuple[bool, int | None]:
    """Whether the lock file is held by a process, and that process's PID if it wrote one."""
    try:
        with path.open("r+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True, _read_pid(handle)
            fcntl.flock(handle, fcntl.LOCK_UN)
    except FileNotFoundError:
        pass
    return False, None


@contextlib.contextmanager
def _file_lock(
    database: str | None, url: str, what: str, *, suffix: str = ".lock"
) -> Iterator[None]:
    if not database or database == ":memory:":
        yield  # a private in-memory database cannot be shared
        return
    path = Path(f"{database}{suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(handle)
            raise CrawlLockedError(
                _locked_message(url, what, f"process {pid}" if pid else None)
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
def _advisory_lock(url: str, what: str, key: int = ADVISORY_KEY) -> Iterator[None]:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            key = _scoped(connection, key)
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
            ).scalar()
            if not got:
                holder = _advisory_holder(connection, key)
                connection.commit()
                raise CrawlLockedError(_locked_message(url, what, holder))
            # Name this connection after our process, for a refused newcomer to quote.
            label = f"{_APPLICATION_PREFIX}{what} pid={os.getpid()} host={socket.gethostname()}"
            connection.execute(
                text("SELECT set_config('application_name', :label, false)"),
                {"label": label[:63]},  # PostgreSQL keeps 63 bytes of it
            )
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
    finally:
        engine.dispose()


def _scoped(connection: Connection, key: int) -> int:
    """The lock key for this connection's schema: advisory locks are per database, and two
    newswatch databases may live in two schemas of one PostgreSQL database."""
    schema = connection.execute(text("SELECT current_schema()")).scalar() or "public"
    return key ^ zlib.crc32(str(schema).encode("utf-8"))


def _advisory_holder(connection: Connection, key: int) -> str | None:
    """The holder, "process 123 on host", from its connection's application_name if visible."""
    row = connection.execute(
        text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :high "
            "AND l.objid = :low AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"high": key >> 32, "low": key & 0xFFFF_FFFF},
    ).first()
    name = str(row[0]) if row is not None and row[0] else ""
    if not name.startswith(_APPLICATION_PREFIX):
        return None
    fields = dict(part.split("=", 1) for part in name.split() if "=" in part)
    if "pid" not in fields:
        return None
    host = fields.get("host")
    return f"process {fields['pid']}" + (f" on {host}" if host else "")


def _locked_message(url: str, what: str, holder: str | None) -> str:
    by = f" ({holder})" if holder else ""
    where = describe_url(make_url(url))
    if what == "digest":
        return (
            f"another digest{by} is being sent from {where}; wait for it to finish "
            "(its stories will not be sent twice)"
        )
    if what == "daemon":
        return (
            f"a newswatch daemon{by} is already running on {where}; stop it "
            "(e.g. `systemctl stop newswatch` or kill -TERM its PID) before starting another"
        )
    return (
        f"another newswatch crawl, refilter or daemon{by} is working on {where}; wait for it to "
        f"finish, or stop it, before starting this {what}"
    )
