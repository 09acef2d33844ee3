"""crawler.refilter and storage.matches.refilter_batch: new rules applied to stored articles.

SQLite and (when configured) PostgreSQL. The rules and articles are in tests/refilter_setup.py.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, text, update

from crawler.config import load_config
from crawler.refilter import refilter
from storage.db import create_engine_for
from storage.errors import CrawlLockedError
from storage.locks import crawl_lock
from storage.models import Article, Match
from storage.repository import Repository
from tests.refilter_setup import start_digest, store_articles_and_send_one, url, write_config


@pytest.fixture
def setup(db_url, tmp_path, monkeypatch):
    """Articles stored under the "before" rules, `sent` sent by a digest; the "after" config."""
    for name in ("NEWSWATCH_CONFIG", "NEWSWATCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    ids, digest_id = store_articles_and_send_one(tmp_path, db_url)
    config = load_config(write_config(tmp_path, db_url, "after"))
    return db_url, ids, digest_id, config


def match_rows(db_url: str) -> dict[int, tuple[object, ...]]:
    engine = create_engine_for(db_url)
    try:
        with engine.connect() as connection:
            query = select(Match.article_id, Match.digest_id, Match.tier, Match.regions)
            return {row[0]: tuple(row[1:]) for row in connection.execute(query)}
    finally:
        engine.dispose()


def test_new_rules_change_matches_and_pending(setup):
    db_url, ids, digest_id, config = setup
    with Repository(db_url) as repo:
        assert repo.count_pending() == (2, 2)  # pending and kept; sent was sent
    summary = refilter(config, batch_size=2)  # three batches: keyset pagination across them
    assert summary.examined == 5
    assert [(c.article_id, c.tier) for c in summary.newly_matched] == [(ids["new"], "related")]
    assert {(c.article_id, c.sent) for c in summary.no_longer_matched} == {
        (ids["sent"], True),
        (ids["pending"], False),
    }
    assert (summary.score_changed, summary.unchanged) == (1, 1)  # kept 16 → 18; other
    rows = match_rows(db_url)
    # The newly matched article waits for the next digest, with its tier and region.
    assert rows[ids["new"]] == (None, "related", ["Drâa-Tafilalet"])
    # The unsent match is gone; the sent one stays, as history.
    assert ids["pending"] not in rows
    assert rows[ids["sent"]][0] == digest_id
    with Repository(db_url) as repo:
        assert {m.url for m in repo.list_matches()} == {url("new"), url("kept")}
        assert {s.url for s in repo.list_stories()} == {url("new"), url("kept")}
        assert repo.count_pending() == (2, 2)
        assert {p.lead.url for p in repo.pending_stories()} == {url("new"), url("kept")}
        kept = {m.url: m for m in repo.list_matches()}[url("kept")]
        assert kept.score == 18.0
        assert kept.explanation["rules"] == summary.rules_digest


def test_a_second_run_changes_nothing(setup):
    _, _, _, config = setup
    refilter(config)
    again = refilter(config)
    assert (again.examined, again.unchanged, again.changes) == (5, 5, ())


def test_dry_run_lists_the_changes_and_writes_nothing(setup):
    db_url, ids, _, config = setup
    before = match_rows(db_url)
    summary = refilter(config, dry_run=True)
    assert summary.dry_run
    assert {c.article_id for c in summary.changes} == {ids["new"], ids["sent"], ids["pending"]}
    assert match_rows(db_url) == before
    with Repository(db_url) as repo:
        assert {m.url for m in repo.list_matches()} == {url("sent"), url("pending"), url("kept")}


def test_old_rules_again_restore_matches_without_resending(setup, tmp_path):
    db_url, ids, digest_id, config = setup
    refilter(config)
    summary = refilter(load_config(write_config(tmp_path, db_url, "before")))
    assert {c.article_id for c in summary.newly_matched} == {ids["sent"], ids["pending"]}
    rows = match_rows(db_url)
    assert rows[ids["sent"]][0] == digest_id  # the same row, still sent: not news again
    assert rows[ids["pending"]][0] is None
    assert ids["new"] not in rows
    with Repository(db_url) as repo:
        assert {p.lead.url for p in repo.pending_stories()} == {url("pending"), url("kept")}


def test_since_skips_older_articles(setup):
    db_url, ids, _, config = setup
    engine = create_engine_for(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE articles SET first_seen_at = :old WHERE id = :id"),
                {"old": "2020-01-01 00:00:00", "id": ids["new"]},
            )
    finally:
        engine.dispose()
    summary = refilter(config, since=datetime(2021, 1, 1, tzinfo=UTC))
    assert summary.examined == 4
    assert ids["new"] not in {c.article_id for c in summary.changes}


def test_refuses_while_a_crawl_holds_the_lock(setup):
    db_url, _, _, config = setup
    with crawl_lock(db_url), pytest.raises(CrawlLockedError, match="before starting this refilter"):
        refilter(config)
    with crawl_lock(db_url):
        assert refilter(config, dry_run=True).examined == 5  # writes nothing: needs no lock


def test_an_article_sent_while_refilter_removed_its_match_is_not_sent_again(setup, tmp_path):
    """The digest took `pending` into its email; during the SMTP exchange a refilter found it no
    longer matched and removed its unsent match. Once the server accepts the email, `pending`
    is recorded as sent all the same: rules matching it again do not make it news again."""
    db_url, ids, _, config = setup
    with Repository(db_url) as repo:
        delivery = start_digest(repo, [ids["pending"], ids["kept"]], "<race@example.org>")
    refilter(config)  # removes the unsent match of `pending`, mid-delivery
    assert ids["pending"] not in match_rows(db_url)
    with Repository(db_url) as repo:
        repo.finish_digest(delivery, status="sent", attempts=1)
    rows = match_rows(db_url)
    assert rows[ids["pending"]][0] == delivery
    assert rows[ids["kept"]][0] == delivery
    summary = refilter(load_config(write_config(tmp_path, db_url, "before")))
    assert ids["pending"] in {c.article_id for c in summary.newly_matched}
    assert match_rows(db_url)[ids["pending"]][0] == delivery  # still the sent record
    with Repository(db_url) as repo:
        assert url("pending") not in {p.lead.url for p in repo.pending_stories()}


def test_a_digest_being_recorded_waits_for_a_refilter_changing_its_articles(setup):
    """PostgreSQL: the refilter's transaction has changed `pending`'s decision but not yet
    removed its match when the email is accepted. Recording the delivery waits for it, then
    records `pending` as sent. (SQLite runs one writing transaction at a time.)"""
    db_url, ids, _, _ = setup
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writing transactions by itself")
    with Repository(db_url) as repo:
        delivery = start_digest(repo, [ids["pending"]], "<wait@example.org>")
    recorded = threading.Event()

    def record_delivery() -> None:
        with Repository(db_url) as repo:
            repo.finish_digest(delivery, status="sent", attempts=1)
        recorded.set()

    engine = create_engine_for(db_url)
    try:
        with engine.connect() as refiltering:
            transaction = refiltering.begin()
            # What a refilter batch does, in its order: the article's decision, then its match.
            refiltering.execute(
                update(Article).where(Article.id == ids["pending"]).values(matched=False)
            )
            recording = threading.Thread(target=record_delivery)
            recording.start()
            assert not recorded.wait(1.0)  # waiting for the refilter's transaction
            refiltering.execute(
                delete(Match).where(Match.article_id == ids["pending"], Match.digest_id.is_(None))
            )
            transaction.commit()
        recording.join(timeout=30)
    finally:
        engine.dispose()
    assert recorded.is_set()
    assert match_rows(db_url)[ids["pending"]][0] == delivery
