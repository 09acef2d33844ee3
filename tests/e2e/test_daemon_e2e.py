"""End to end: the real `newswatch run` daemon in a subprocess, on a schedule of seconds, against
the local news site and a local SMTP server. It crawls at least twice, sends a digest, refuses a
second daemon on the same database naming the first, and stops on SIGTERM with exit code 0.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storage.db import create_engine_for
from storage.models import Article, CrawlRun, DigestDelivery, Match
from tests.cli_fixtures import NEWSWATCH, newswatch_env, run_newswatch
from tests.e2e.test_crawl_e2e import write_config
from tests.mailserver import run_mail_server
from tests.site.plugin import run_news_site

DEADLINE = 120.0  # seconds; only a broken daemon gets near it (polls end as soon as they can)


@pytest.fixture
def mail_server():
    with run_mail_server() as server:
        yield server


def _facts(db_url: str) -> dict[str, object]:
    """What the daemon did so far, read straight from the database."""
    engine = create_engine_for(db_url)
    try:
        with Session(engine) as session:
            runs = list(session.execute(select(CrawlRun.id, CrawlRun.status)))
            unsent = session.scalar(
                select(func.count()).select_from(Match).where(Match.digest_id.is_(None))
            )
            matched_urls = set(session.scalars(select(Article.url).where(Article.matched)))
            sent = list(
                session.scalars(select(DigestDelivery).where(DigestDelivery.status == "sent"))
            )
            return {
                "finished": [r.id for r in runs if r.status != "running"],
                "running": [r.id for r in runs if r.status == "running"],
                "statuses": {r.id: r.status for r in runs},
                "unsent": unsent,
                "matched_urls": matched_urls,
                "sent": [(d.message_id, list(d.article_ids)) for d in sent],
            }
    except SQLAlchemyError:  # the schema may not exist yet in the first instants
        return {"finished": [], "running": [], "statuses": {}, "unsent": None,
                "matched_urls": set(), "sent": []}  # fmt: skip
    finally:
        engine.dispose()


def _poll(condition, what: str, daemon: subprocess.Popen[str], log: Path):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if daemon.poll() is not None:
            pytest.fail(
                f"the daemon exited ({daemon.returncode}) before {what}:\n{log.read_text()}"
            )
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text()[-6000:]}")


def _links(message: EmailMessage) -> set[str]:
    html = message.get_body(("html",))
    assert html is not None
    return set(re.findall(r'href="([^"]+)"', html.get_content()))


def test_daemon_crawls_sends_refuses_a_second_and_stops(
    fresh_news_site, mail_server, db_url, tmp_path
):
    config = write_config(tmp_path, db_url, fresh_news_site.sources_toml())
    with config.open("a", encoding="utf-8") as handle:
        handle.write(
            f"""
[schedule]
crawl = "every 3s"
digest = "every 5s"
timezone = "Africa/Casablanca"

[digest]
to = ["veille@example.org", "equipe@example.org"]
from = "newswatch@example.org"
language = "fr"

[smtp]
host = "127.0.0.1"
port = {mail_server.port}
security = "none"
"""
        )
    log_file = tmp_path / "daemon.log"
    stderr = (tmp_path / "daemon.stderr").open("w", encoding="utf-8")
    daemon = subprocess.Popen(
        [NEWSWATCH, "run", "--config", str(config), "--log-file", str(log_file)],
        cwd=tmp_path,
        env=newswatch_env(),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )
    try:
        # At least two crawls, and every match delivered.
        _poll(lambda: len(_facts(db_url)["finished"]) >= 2, "two crawls", daemon, log_file)
        _poll(lambda: _facts(db_url)["unsent"] == 0 and mail_server.messages,
              "the digest", daemon, log_file)  # fmt: skip

        # A second daemon on the same database refuses to start and names the first.
        second = run_newswatch(tmp_path, "run", "--config", str(config), timeout=60)
        assert second.returncode == 1, second.stderr
        assert "already running" in second.stderr
        assert f"process {daemon.pid}" in second.stderr

        status = run_newswatch(tmp_path, "status", "--config", str(config), timeout=60)
        assert status.returncode == 0, status.stderr
        assert f"Daemon: running (process {daemon.pid}" in status.stdout
        assert "Pending for the next digest: 0 stories" in status.stdout

        # SIGTERM while a crawl runs: the crawl is stopped and recorded, the daemon exits 0.
        _poll(lambda: _facts(db_url)["running"], "a running crawl", daemon, log_file)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        stderr.close()

    facts = _facts(db_url)
    assert facts["running"] == [], "the stopped crawl was left 'running'"
    log = log_file.read_text(encoding="utf-8")
    assert re.search(r"Crawl #1 ok in \d+s: \d+ pages fetched, \d+ articles extracted", log)
    assert re.search(
        r"Digest #\d+ sent in [\d.]+s: \d+ stories \(\d+ articles\) to 2 recipients", log
    )
    assert "veille@example.org" not in log  # recipients are never logged
    assert "newswatch daemon stopped" in log

    # The digest: multipart, French, to both recipients, every match once.
    received = mail_server.messages
    assert {tuple(r.recipients) for r in received} == {("veille@example.org", "equipe@example.org")}
    first = received[0].message
    assert first.get_content_type() == "multipart/alternative"
    assert first["Subject"].startswith("Coopération décentralisée")
    assert first["From"].addresses[0].addr_spec == "newswatch@example.org"
    assert first.get_body(("plain",)) is not None
    sent_ids = [article_id for _, ids in facts["sent"] for article_id in ids]
    assert len(sent_ids) == len(set(sent_ids)), "an article was in two sent digests"
    linked = set().union(*(_links(r.message) for r in received))
    missing = facts["matched_urls"] - linked
    assert not missing, f"matched articles missing from the digests: {sorted(missing)}"
    assert len(received) == len(facts["sent"])


def test_sigterm_stops_a_long_crawl_and_keeps_its_articles(db_url, tmp_path):
    """A crawl stuck on slow pages is stopped (killed after its grace), recorded as interrupted,
    and the articles it stored stay; the daemon still exits 0 within 10 seconds."""
    with run_news_site(tmp_path / "site", slow_seconds=40) as site:
        config = write_config(tmp_path, db_url, site.sources_toml())
        with config.open("a", encoding="utf-8") as handle:
            handle.write('\n[schedule]\ncrawl = "every 1h"\n')
        log_file = tmp_path / "daemon.log"
        daemon = subprocess.Popen(
            [NEWSWATCH, "run", "--config", str(config), "--log-file", str(log_file)],
            cwd=tmp_path,
            env=newswatch_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _poll(lambda: _facts(db_url)["running"] and _count_articles(db_url),
                  "a crawl that stored articles", daemon, log_file)  # fmt: skip
            stored = _count_articles(db_url)
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=10) == 0
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
    facts = _facts(db_url)
    assert list(facts["statuses"].values()) == ["interrupted"]
    assert _count_articles(db_url) >= stored > 0
    engine = create_engine_for(db_url)
    try:
        with Session(engine) as session:
            run = session.execute(select(CrawlRun.articles_extracted, CrawlRun.duplicates)).one()
    finally:
        engine.dispose()
    # "articles extracted" counts republished copies too; each stored row is a new article.
    assert run.articles_extracted - run.duplicates == _count_articles(db_url), (
        "a stopped crawl's figures must match what it stored"
    )
    log = log_file.read_text(encoding="utf-8")
    assert "Received SIGTERM" in log
    assert "Crawl #1 interrupted" in log
    assert "No [digest] to in the configuration" in log


def _count_articles(db_url: str) -> int:
    engine = create_engine_for(db_url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(Article)) or 0)
    except SQLAlchemyError:
        return 0
    finally:
        engine.dispose()
