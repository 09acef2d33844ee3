"""Tests of storage.db and storage.repository, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import (
    HEAD_REVISION,
    alembic_config,
    create_engine_for,
    migrate,
    open_database,
    parse_database_url,
    writer,
)
from storage.errors import StorageError
from storage.models import Base
from storage.prepare import prepare_article
from storage.records import FetchValidators, RunStats, SaveOutcome, SaveStatus, SkippedRecord
from storage.repository import Repository
from tests.dbfixtures import article_record

if TYPE_CHECKING:
    from collections.abc import Iterator

PROJECT_ROOT = Path(__file__).resolve().parents[1]

TANGIER_TEXT = (
    "La Région de Tanger-Tétouan-Al Hoceïma et la Région de Provence-Alpes-Côte d’Azur ont "
    "adopté une feuille de route de coopération pour 2025-2027, centrée sur la formation "
    "professionnelle, la gestion de l’eau et les échanges entre jeunes entrepreneurs."
)
FES_TEXT = (
    "Le Conseil de la Région de Fès-Meknès a reçu une délégation du Land de Hesse, venue "
    "préparer un accord de jumelage portant sur l’agriculture irriguée et le tourisme rural."
)


TANGIER_URL = "https://fr.hespress.com/400123-tanger-paca-feuille-de-route.html"
# The Tangier article; keywords replace any field (the fetched URL stays unless given).
make_record = partial(
    article_record,
    url=TANGIER_URL,
    text=TANGIER_TEXT,
    source="hespress-fr",
    fetched_url=TANGIER_URL,
    title="Tanger-Tétouan-Al Hoceïma et la région Sud signent une feuille de route",
    published_at=datetime(2025, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=1))),
    author="Rédaction",
    score=4.5,
    explanation={"score": 4.5, "groups": {"moroccan_territory": ["Tanger-Tétouan-Al Hoceïma"]}},
    html="<html><body><p>La Région de Tanger…</p></body></html>",
)


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    with Repository(db_url) as repository:
        yield repository


# Opening and migrating


def test_migration_from_empty_reaches_head_and_matches_models(db_url):
    engine = open_database(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert context.get_current_revision() == head
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migration_downgrades_to_empty_and_back(db_url):
    engine = open_database(db_url)
    try:
        with writer(engine).begin() as connection:
            command.downgrade(alembic_config(connection), "base")
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
            command.upgrade(alembic_config(connection), "head")
            assert "articles" in inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_head_revision_is_alembics_head():
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_opening_an_older_database_upgrades_it_to_head(db_url):
    engine = open_database(db_url)
    try:
        with writer(engine).begin() as connection:
            command.downgrade(alembic_config(connection), "0003")
        migrate(engine)
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == HEAD_REVISION
            assert "tier" in {c["name"] for c in inspect(connection).get_columns("matches")}
    finally:
        engine.dispose()


def test_reopening_a_migrated_database_keeps_its_rows(db_url):
    with Repository(db_url) as repo:
        repo.save_article(make_record())
    with Repository(db_url) as repo:
        assert repo.count_articles() == 1


def test_sqlite_connections_get_pragmas(sqlite_url):
    engine = create_engine_for(sqlite_url)
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 30000
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()
    assert Path(parse_database_url(sqlite_url).database or "").parent.is_dir()


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_use_psycopg(scheme):
    url = parse_database_url(f"{scheme}://user:pw@db.example/news")
    assert url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://nobody@127.0.0.1:1/x", "postgresql://nobody:s3cret@127.0.0.1:1/x"]
)
def test_unreachable_database_raises_storage_error_without_password(url):
    with pytest.raises(StorageError) as caught:
        Repository(url)
    message = str(caught.value)
    assert "nobody" in message
    assert "127.0.0.1:1/x" in message
    assert "s3cret" not in message
    assert "Check that the server is running" in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a database", "is not a database URL"),
        ("mysql://root:hunter2@127.0.0.1/news", "Unsupported database"),
    ],
)
def test_unusable_urls_raise_storage_error(url, expected):
    with pytest.raises(StorageError, match=expected) as caught:
        Repository(url)
    assert "hunter2" not in str(caught.value)


def test_sqlite_directory_that_cannot_be_created_raises_storage_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="Check the path"):
        Repository(f"sqlite:///{blocker / 'sub' / 'newswatch.db'}")


def test_processes_opening_the_same_fresh_database_together_all_succeed(db_url):
    script = (
        "import sys; from storage.repository import Repository\n"
        "with Repository(sys.argv[1]) as repo: repo.ensure_sources(['le360'])\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, db_url], cwd=PROJECT_ROOT, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    with Repository(db_url) as repo:
        assert repo.count_articles() == 0


# Saving articles


def test_save_new_article(repo):
    outcome = repo.save_article(make_record())
    assert outcome.status is SaveStatus.NEW
    assert outcome.new_match is True
    assert repo.count_articles() == 1
    assert repo.article_urls(outcome.article_id) == [make_record().url]


def test_same_url_twice_is_one_article(repo):
    first = repo.save_article(make_record())
    second = repo.save_article(make_record(title="Titre corrigé", text=FES_TEXT))
    assert second.status is SaveStatus.DUPLICATE_URL
    assert second.article_id == first.article_id
    assert second.new_match is False
    assert repo.count_articles() == 1
    assert len(repo.list_matches()) == 1


def test_same_text_at_another_url_becomes_an_alias(repo):
    first = repo.save_article(make_record())
    mirror = "https://www.le360.ma/societe/tanger-region-sud-feuille-de-route-301122/"
    edited = TANGIER_TEXT.replace("d’Azur", "d'Azur").replace(", centrée", " ,  centrée")
    second = repo.save_article(
        make_record(source="le360", url=mirror, fetched_url=mirror, text=edited.upper())
    )
    assert second.status is SaveStatus.DUPLICATE_CONTENT
    assert second.article_id == first.article_id
    assert repo.count_articles() == 1
    assert repo.article_urls(first.article_id) == [make_record().url, mirror]


def test_fetched_url_differing_from_canonical_is_stored_as_alias(repo):
    fetched = make_record().url + "?utm_source=facebook"
    outcome = repo.save_article(make_record(fetched_url=fetched))
    assert repo.article_urls(outcome.article_id) == [make_record().url, fetched]
    again = repo.save_article(make_record(url=fetched, fetched_url=fetched))
    assert again.status is SaveStatus.DUPLICATE_URL
    assert again.article_id == outcome.article_id


def test_new_redirect_to_a_known_article_is_added_as_alias(repo):
    outcome = repo.save_article(make_record())
    short = "https://fr.hespress.com/?p=400123"
    again = repo.save_article(make_record(fetched_url=short))
    assert again.status is SaveStatus.DUPLICATE_URL
    assert repo.article_urls(outcome.article_id) == [make_record().url, short]


def test_matched_article_keeps_compressed_html_and_a_match_row(repo):
    html = "<html><body>" + "<p>La Région de Tanger coopère.</p>" * 200 + "</body></html>"
    outcome = repo.save_article(make_record(html=html))
    assert repo.get_article_html(outcome.article_id) == html
    [match] = repo.list_matches()
    assert match.article_id == outcome.article_id
    assert match.source == "hespress-fr"
    assert match.matched == {"moroccan_territory": ["Tanger-Tétouan-Al Hoceïma"]}
    assert match.explanation["score"] == 4.5


def test_unmatched_article_keeps_no_html_and_no_match_row(repo):
    outcome = repo.save_article(make_record(matched=False, score=0.5))
    assert outcome.status is SaveStatus.NEW
    assert outcome.new_match is False
    assert repo.get_article_html(outcome.article_id) is None
    assert repo.list_matches() == []
    assert repo.count_articles() == 1


def test_text_with_nul_characters_is_stored_cleaned(repo):
    dirty = make_record(
        title="Tanger\x00 et la région Sud",
        text=TANGIER_TEXT.replace("feuille", "feu\x00ille"),
        author="R\x00édaction",
        html="<p>\x00Tanger</p>",
        explanation={"groups": {"moroccan_territory": ["Tan\x00ger"]}},
    )
    outcome = repo.save_article(dirty)
    [match] = repo.list_matches()
    assert match.title == "Tanger et la région Sud"
    assert match.matched == {"moroccan_territory": ["Tanger"]}
    assert repo.get_article_html(outcome.article_id) == "<p>Tanger</p>"
    # The stored hash is the hash of the cleaned text.
    elsewhere = "https://www.medias24.com/tanger-paca.html"
    again = repo.save_article(make_record(url=elsewhere, fetched_url=elsewhere))
    assert again.status is SaveStatus.DUPLICATE_CONTENT


@pytest.mark.parametrize(
    "value", ["<p>Tanger</p>", "<p>\x00Tanger\x00</p>", "<p>Tan\ud800ger</p>", "جهة\x00 \udfff", ""]
)
def test_html_is_encoded_as_cleaned(value):
    from storage.prepare import clean, utf8

    assert utf8(value) == clean(value).encode("utf-8")


def test_html_with_a_lone_surrogate_is_stored_with_a_replacement(repo):
    outcome = repo.save_article(make_record(html="<p>Tanger\ud800 Med</p>"))
    assert repo.get_article_html(outcome.article_id) == "<p>Tanger? Med</p>"


def test_text_without_words_is_refused(repo):
    with pytest.raises(StorageError, match="no words"):
        repo.save_article(make_record(text=" … \x00 "))
    assert repo.count_articles() == 0


def test_overlong_url_is_refused(repo):
    long_url = "https://fr.hespress.com/" + "a" * 2100
    with pytest.raises(StorageError, match="cannot be stored"):
        repo.save_article(make_record(url=long_url))
    assert repo.known_urls([long_url]) == set()


def test_unknown_run_id_is_a_storage_error(repo):
    with pytest.raises(StorageError, match="failed"):
        repo.save_article(make_record(run_id=987654))
    assert repo.count_articles() == 0
    assert repo.save_article(make_record()).status is SaveStatus.NEW


def test_a_batch_saves_articles_and_skipped_pages_in_order(repo):
    run_id = repo.start_run(["hespress-fr"])
    mirror = "https://www.le360.ma/societe/tanger-region-sud-feuille-de-route-301122/"
    category = "https://fr.hespress.com/regions"
    outcomes = repo.save_batch(
        [
            prepare_article(make_record(run_id=run_id)),
            SkippedRecord(url=category, source="hespress-fr", reason="no article text"),
            prepare_article(make_record(source="le360", url=mirror, fetched_url=mirror)),
        ]
    )
    first, skipped, copy = outcomes
    assert isinstance(first, SaveOutcome)
    assert isinstance(copy, SaveOutcome)
    assert first.status is SaveStatus.NEW
    assert first.new_match
    assert skipped is None
    assert copy.status is SaveStatus.DUPLICATE_CONTENT
    assert copy.article_id == first.article_id
    assert repo.known_urls([make_record().url, mirror, category]) == {
        make_record().url,
        mirror,
        category,
    }
    assert repo.save_batch([]) == []


def test_a_bad_write_in_a_batch_fails_alone(repo):
    elsewhere = "https://www.medias24.com/fes-meknes-hesse.html"
    category = "https://fr.hespress.com/regions"
    good, bad, skipped = repo.save_batch(
        [
            prepare_article(make_record()),
            prepare_article(
                make_record(url=elsewhere, fetched_url=elsewhere, text=FES_TEXT, run_id=987654)
            ),
            SkippedRecord(url=category, source="hespress-fr", reason="no article text"),
        ]
    )
    assert isinstance(good, SaveOutcome)
    assert good.status is SaveStatus.NEW
    assert isinstance(bad, StorageError)
    assert skipped is None
    assert repo.count_articles() == 1
    assert repo.known_urls([elsewhere, category]) == {category}


# Known URLs, skipped pages, fetch states


def test_known_urls_cover_articles_aliases_and_skipped_pages(repo):
    fetched = make_record().url + "?amp=1"
    repo.save_article(make_record(fetched_url=fetched))
    other = "https://www.le360.ma/politique/fes-meknes-hesse-jumelage-301200/"
    repo.save_article(make_record(source="le360", url=other, fetched_url=other, text=FES_TEXT))
    category = "https://www.le360.ma/category/economie/"
    run_id = repo.start_run(["le360"])
    repo.record_skipped(category, "le360", "no article text", run_id)
    repo.record_skipped(category, "le360", "no article text", run_id)  # idempotent
    unknown = "https://www.le360.ma/sport/botola-journee-12/"

    expected = {make_record().url, fetched, other, category}
    assert repo.known_urls([*expected, unknown]) == expected
    assert repo.load_known_urls() == expected
    assert repo.is_known_url(category)
    assert not repo.is_known_url(unknown)
    assert repo.known_urls([]) == set()


def test_known_urls_accepts_more_urls_than_one_query_holds(repo):
    for number in range(3):
        url = f"https://www.medias24.com/skipped-{number}.html"
        repo.record_skipped(url, "medias24", "too short", None)
    asked = [f"https://www.medias24.com/other-{n}.html" for n in range(1200)]
    asked.append("https://www.medias24.com/skipped-2.html")
    assert repo.known_urls(asked) == {"https://www.medias24.com/skipped-2.html"}


def test_fetch_validators_round_trip(repo):
    feed = "https://fr.hespress.com/feed"
    assert repo.get_fetch_validators(feed) is None
    repo.save_fetch_state(
        feed, etag='W/"5f3a"', last_modified="Tue, 04 Mar 2025 08:00:00 GMT", status=200, entries=30
    )
    expected = FetchValidators(etag='W/"5f3a"', last_modified="Tue, 04 Mar 2025 08:00:00 GMT")
    assert repo.get_fetch_validators(feed) == expected
    # A 304 without validators keeps the stored ones.
    repo.save_fetch_state(feed, etag=None, last_modified=None, status=304, entries=0)
    assert repo.get_fetch_validators(feed) == expected
    repo.save_fetch_state(feed, etag='"6b01"', last_modified=None, status=200, entries=28)
    assert repo.get_fetch_validators(feed) == FetchValidators(etag='"6b01"', last_modified=None)
    repo.save_fetch_state(feed, etag=None, last_modified=None, status=200, entries=28)
    assert repo.get_fetch_validators(feed) is None


# Runs, sources, matches


def test_runs_round_trip(repo):
    first = repo.start_run(["hespress-fr", "le360"])
    running = repo.get_run(first)
    assert running.status == "running"
    assert running.finished_at is None
    assert running.sources == ("hespress-fr", "le360")

    stats = RunStats(
        pages_fetched=120,
        articles_extracted=80,
        matches=3,
        new_matches=2,
        duplicates=10,
        skipped=30,
        errors=1,
        error_samples=["https://le360.ma/x: HTTP 500"],
    )
    repo.finish_run(first, stats, "ok")
    second = repo.start_run(["medias24"])
    repo.finish_run(second, RunStats(errors=1, error_samples=["x"] * 500), "interrupted")

    finished = repo.get_run(first)
    assert finished.status == "ok"
    assert finished.stats == stats
    assert finished.finished_at is not None
    assert finished.finished_at >= finished.started_at
    assert [run.id for run in repo.list_runs()] == [second, first]
    assert [run.id for run in repo.list_runs(limit=1)] == [second]
    assert len(repo.get_run(second).stats.error_samples) < 500


def test_run_errors(repo):
    with pytest.raises(StorageError, match="No crawl run 42"):
        repo.get_run(42)
    with pytest.raises(StorageError, match="No crawl run 42"):
        repo.finish_run(42, RunStats(), "ok")
    run_id = repo.start_run([])
    with pytest.raises(ValueError, match="not 'done'"):
        repo.finish_run(run_id, RunStats(), "done")


def test_ensure_sources_is_idempotent(repo):
    repo.ensure_sources(["hespress-fr", "le360", "le360"])
    repo.ensure_sources(["le360", "medias24"])
    assert repo.save_article(make_record(source="medias24")).status is SaveStatus.NEW


def test_datetimes_come_back_timezone_aware_in_utc(repo):
    paris_morning = datetime(2025, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    repo.save_article(make_record(published_at=paris_morning))
    other = "https://www.medias24.com/fes-hesse.html"
    naive = datetime(2025, 3, 5, 12, 0)  # taken as UTC
    repo.save_article(make_record(url=other, fetched_url=other, text=FES_TEXT, published_at=naive))
    run = repo.get_run(repo.start_run(["medias24"]))

    newest, oldest = repo.list_matches()
    assert newest.published == datetime(2025, 3, 5, 12, 0, tzinfo=UTC)
    assert oldest.published == paris_morning
    for value in (newest.published, oldest.published, oldest.first_seen, run.started_at):
        assert value is not None
        assert value.utcoffset() == timedelta(0)


def test_list_matches_newest_first_with_since_and_limit(repo: Repository) -> None:
    def save(slug: str, text: str, published: datetime | None) -> int:
        url = f"https://www.medias24.com/{slug}.html"
        record = make_record(url=url, fetched_url=url, text=text, published_at=published)
        return repo.save_article(record).article_id

    old = save("old", TANGIER_TEXT, datetime(2024, 1, 10, tzinfo=UTC))
    undated = save("undated", FES_TEXT, None)  # first seen now: newest
    recent = save("recent", FES_TEXT + " Suite.", datetime(2025, 6, 1, tzinfo=UTC))

    assert [m.article_id for m in repo.list_matches()] == [undated, recent, old]
    since = datetime(2025, 1, 1, tzinfo=UTC)
    assert [m.article_id for m in repo.list_matches(since=since)] == [undated, recent]
    assert [m.article_id for m in repo.list_matches(limit=1)] == [undated]


def test_missing_article_has_no_html_and_no_urls(repo):
    assert repo.get_article_html(12345) is None
    assert repo.article_urls(12345) == []


def test_file_that_is_not_sqlite_raises_storage_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"Feuille de route Tanger-PACA, notes de travail\n" * 200)
    with pytest.raises(StorageError, match=r"is not a database.*SQLite file"):
        Repository(f"sqlite:///{path}")
