"""Tests of storage.dedupe: text normalisation, content hashes, and duplicate-proof inserts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from storage.db import open_database
from storage.dedupe import find_duplicate, insert_ignoring_duplicates
from storage.models import Base, Source
from storage.records import ArticleRecord, SaveStatus
from storage.repository import Repository
from storage.text import content_hash, normalize_text
from tests.dbfixtures import article_record

RABAT_TEXT = (
    "La Ville de Rabat et l’État du Maryland ont signé, mardi, un protocole d’entente "
    "pour développer des échanges universitaires et des projets d’efficacité énergétique."
)


def make_record(url: str, text: str = RABAT_TEXT) -> ArticleRecord:
    return article_record(
        url,
        text,
        source="mapexpress",
        title="Rabat et le Maryland signent un protocole d’entente",
        published_at=datetime(2025, 5, 20, 14, 0, tzinfo=UTC),
        score=3.0,
        explanation={"groups": {"foreign_partner": ["Maryland"]}},
        html="<p>Rabat</p>",
    )


# Normalisation


@pytest.mark.parametrize(
    ("original", "edited"),
    [
        ("l’État du Maryland", "l'État du Maryland"),
        ("« Rabat »", '"Rabat"'),
        ("Casablanca-Settat", "Casablanca - Settat"),
        ("un  protocole\n\td’entente", "un protocole d’entente"),
        ("signé, mardi.", "signé mardi"),
        ("RÉGION DE L’ORIENTAL", "région de l’oriental"),
        ("coopé\u00adration", "coopération"),  # soft hyphen
        ("ﬁnancement", "financement"),  # ligature, folded by NFKC
        ("Rabat\u00a0: accord", "Rabat : accord"),  # no-break space
        ("جهة طنجة تطوان", "جهة طنـــجة تطوان"),  # Arabic tatweel
        ("مذكرة تفاهم، مع ولاية", "مذكرة تفاهم مع ولاية"),  # Arabic comma
    ],
)
def test_trivial_edits_do_not_change_the_normalised_text(original, edited):
    assert normalize_text(original) == normalize_text(edited)
    assert content_hash(original) == content_hash(edited)


def test_normalised_text_keeps_words_and_digits():
    assert normalize_text("  Feuille de route 2025–2027 : l’Oriental ! ") == (
        "feuille de route 2025 2027 l oriental"
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Région de Fès-Meknès", "Région de Souss-Massa"),
        ("accord signé en 2024", "accord signé en 2025"),
        ("protocole d’entente", "protocole d’entente renouvelé"),
    ],
)
def test_different_words_give_different_hashes(one, other):
    assert content_hash(one) != content_hash(other)


def test_content_hash_is_sha256_hex():
    digest = content_hash(RABAT_TEXT)
    assert len(digest) == 64
    assert int(digest, 16) >= 0


# Inserts settled by unique constraints


def test_insert_ignoring_duplicates_keeps_one_row(db_url):
    engine = open_database(db_url)
    try:
        statement = insert_ignoring_duplicates(engine.dialect.name, Base.metadata.tables["sources"])
        row = {"name": "lematin", "created_at": datetime.now(UTC)}
        with engine.begin() as connection:
            connection.execute(statement, row)
            connection.execute(statement, [row, row])
            count = connection.scalar(select(func.count()).select_from(Source))
        assert count == 1
    finally:
        engine.dispose()


def test_insert_ignoring_duplicates_rejects_other_databases():
    with pytest.raises(NotImplementedError, match="SQLite and PostgreSQL"):
        insert_ignoring_duplicates("mysql", Base.metadata.tables["sources"])


def test_lost_race_joins_the_winning_row(db_url, monkeypatch):
    """When another transaction commits the same article between our look-up and our insert."""
    url = "https://www.mapexpress.ma/actualite/rabat-maryland-protocole/"
    with Repository(db_url) as repo:
        winner = repo.save_article(make_record(url))
        real_find = find_duplicate
        calls = []

        def find_nothing_first(*args):
            calls.append(args)
            return None if len(calls) == 1 else real_find(*args)

        monkeypatch.setattr("storage.saving.find_duplicate", find_nothing_first)
        same_url = repo.save_article(make_record(url))
        other_url = "https://lematin.ma/rabat-maryland-protocole"
        same_text = repo.save_article(make_record(other_url))

        assert same_url.status is SaveStatus.DUPLICATE_URL
        assert same_text.status is SaveStatus.DUPLICATE_CONTENT
        assert same_url.article_id == same_text.article_id == winner.article_id
        assert repo.article_urls(winner.article_id) == [url, other_url]
        assert repo.count_articles() == 1


def _save_concurrently(db_url: str, records: list[ArticleRecord]) -> list[SaveStatus]:
    """Save each record from its own thread and connection pool, all released at once."""
    repos = [Repository(db_url) for _ in records]
    for repo in repos:
        # With the source row in place (and its id cached), the article inserts really race
        # instead of queueing behind the first transaction's new source row.
        repo.ensure_sources(record.source for record in records)
    start = threading.Barrier(len(records))

    def save(index: int) -> SaveStatus:
        start.wait(timeout=60)
        return repos[index].save_article(records[index]).status

    try:
        with ThreadPoolExecutor(max_workers=len(records)) as pool:
            return list(pool.map(save, range(len(records))))
    finally:
        for repo in repos:
            repo.close()


@pytest.mark.parametrize("round_number", range(5))
def test_concurrent_saves_of_one_record_store_one_article(db_url, round_number):
    url = f"https://www.mapexpress.ma/actualite/rabat-maryland-{round_number}/"
    statuses = _save_concurrently(db_url, [make_record(url)] * 4)
    assert sorted(status.value for status in statuses) == ["duplicate_url"] * 3 + ["new"]
    with Repository(db_url) as repo:
        assert repo.count_articles() == 1
        [match] = repo.list_matches()
        assert repo.article_urls(match.article_id) == [url]


def test_concurrent_saves_of_one_text_at_two_urls_store_one_article(db_url):
    urls = [
        "https://www.mapexpress.ma/actualite/rabat-maryland/",
        "https://lematin.ma/rabat-maryland-protocole",
        "https://www.medias24.com/rabat-maryland.html",
    ]
    statuses = _save_concurrently(db_url, [make_record(url) for url in urls])
    assert sorted(status.value for status in statuses) == ["duplicate_content"] * 2 + ["new"]
    with Repository(db_url) as repo:
        assert repo.count_articles() == 1
        [match] = repo.list_matches()
        assert sorted(repo.article_urls(match.article_id)) == sorted(urls)
