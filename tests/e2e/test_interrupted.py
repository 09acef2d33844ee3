"""A crawl killed half-way (SIGKILL) keeps what it committed, leaves no worker process behind,
and the next crawl completes the rest."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.cli_fixtures import NEWSWATCH, newswatch_env
from tests.e2e.test_crawl_e2e import CrawlSetup
from tests.site.plugin import run_news_site

PAGES = 300


def processes_with(marker: str) -> list[int]:
    """PIDs whose environment carries `marker` (the crawl and everything it started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def count(db: Path, query: str) -> int:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query)).scalar_one())
    except OperationalError:
        return 0  # the crawl has created the file but not yet its tables
    finally:
        engine.dispose()


def runs(db: Path) -> list[tuple[int, str]]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, status FROM crawl_runs ORDER BY id"))
            return [(int(row[0]), str(row[1])) for row in rows]
    finally:
        engine.dispose()


def test_killed_crawl_is_completed_by_the_next(tmp_path):
    with run_news_site(tmp_path / "site", bulk=PAGES) as site:
        db = tmp_path / "killed.db"
        config = tmp_path / "killed.toml"
        config.write_text(
            f"""
[database]
url = "sqlite:///{db}"

[crawl]
autothrottle = false
download_delay = 0
concurrency_per_domain = 8
max_pages_per_source = 5000
workers = 2

[[sources]]
name = "bulk"
sitemaps = ["{site.outlets["bulk"]}/sitemap.xml"]
discover = ["sitemaps"]
""",
            encoding="utf-8",
        )
        marker = f"NEWSWATCH_TEST_MARKER={uuid.uuid4()}"
        env = newswatch_env()
        env[marker.split("=")[0]] = marker.split("=")[1]
        crawl = subprocess.Popen(
            [NEWSWATCH, "crawl", "--config", str(config)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Wait until some articles are committed, then kill without warning.
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if db.exists() and count(db, "SELECT count(*) FROM articles") >= 20:
                    break
                assert crawl.poll() is None, "the crawl ended before it could be killed"
                time.sleep(0.1)
        finally:
            crawl.send_signal(signal.SIGKILL)
            crawl.wait(timeout=10)
        kept = count(db, "SELECT count(*) FROM articles")
        assert kept >= 20

        # No extraction worker or forkserver outlives the killed crawl for long.
        deadline = time.monotonic() + 10
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_with(marker) == [], "worker processes outlived the killed crawl"

        # The next crawl marks the killed run and stores the rest, each article once.
        result = CrawlSetup(tmp_path, config, f"sqlite:///{db}").crawl()
        assert "Crawl #2 ok" in result.stdout
        assert count(db, "SELECT count(*) FROM articles") == PAGES
        assert runs(db) == [(1, "interrupted"), (2, "ok")]
