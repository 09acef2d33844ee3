"""storage.matches and the 0004 migration: a match keeps its tier, regions and partners.

SQLite and (when configured) PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import select, text

from storage.db import alembic_config, create_engine_for, writer
from storage.models import Match
from storage.records import ArticleRecord
from storage.repository import Repository
from tests.dbfixtures import article_record

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def record(url: str, body: str, explanation: dict[str, Any]) -> ArticleRecord:
    return article_record(
        url,
        body,
        title=body[:40],
        published_at=NOW,
        score=float(explanation.get("score", 0.0)),
        matched=bool(explanation.get("matched")),
        explanation=explanation,
    )


SOUSS = {
    "matched": True,
    "score": 30.0,
    "tier": "core",
    "regions": ["Souss-Massa"],
    "partners": ["Canary Islands"],
}
DRAA = {"matched": True, "score": 12.0, "tier": "related", "regions": ["Drâa-Tafilalet"]}
OLD = {"matched": True, "score": 8.0, "groups": {"g": ["x"]}}  # stored before tiers existed


def test_a_new_match_stores_its_tier_regions_and_partners(db_url):
    with Repository(db_url) as repo:
        saved = repo.save_article(
            record("https://a.ma/1", "La région Souss-Massa et les Canaries.", SOUSS)
        )
        repo.save_article(record("https://a.ma/2", "Drâa-Tafilalet vend ses dattes.", DRAA))
        repo.save_article(record("https://a.ma/3", "Un texte ancien sans tier.", OLD))
        views = {view.url: view for view in repo.list_matches()}
    assert saved.new_match
    souss = views["https://a.ma/1"]
    assert (souss.tier, souss.regions, souss.partners) == (
        "core",
        ["Souss-Massa"],
        ["Canary Islands"],
    )
    assert (views["https://a.ma/2"].tier, views["https://a.ma/2"].partners) == ("related", [])
    assert (views["https://a.ma/3"].tier, views["https://a.ma/3"].regions) == (None, [])


def test_region_filter_ignores_case_and_applies_before_the_limit(db_url):
    with Repository(db_url) as repo:
        for number in range(3):
            body = f"Souss-Massa, article numéro {number} sur les Canaries et la pêche."
            repo.save_article(record(f"https://a.ma/s{number}", body, SOUSS))
        repo.save_article(record("https://a.ma/d", "Drâa-Tafilalet vend ses dattes.", DRAA))
        assert len(repo.list_matches(region="souss-massa")) == 3
        assert len(repo.list_matches(region="SOUSS-MASSA", limit=2)) == 2
        assert [v.url for v in repo.list_matches(region="drâa-tafilalet")] == ["https://a.ma/d"]
        assert repo.list_matches(region="Oriental") == []
        assert len(repo.list_matches(limit=2)) == 2


def test_migration_0004_back_fills_from_the_explanation(db_url):
    engine = create_engine_for(db_url)
    try:
        with writer(engine).begin() as connection:
            command.upgrade(alembic_config(connection), "0003")
            connection.execute(
                text("INSERT INTO sources (name, created_at) VALUES ('lematin', :now)"),
                {"now": NOW},
            )
            rows = [
                ("https://a.ma/1", SOUSS),
                ("https://a.ma/2", OLD),
                ("https://a.ma/3", {"tier": 5, "regions": "Souss", "partners": ["X", 3]}),
            ]
            for number, (url, explanation) in enumerate(rows, start=1):
                connection.execute(
                    text(
                        "INSERT INTO articles (source_id, url, title, text, content_hash, "
                        "first_seen_at, score, matched, explanation) SELECT id, :url, 't', "
                        "'body', :hash, :now, 1.0, :matched, :explanation FROM sources"
                    ),
                    {
                        "url": url,
                        "hash": str(number),
                        "now": NOW,
                        "matched": True,
                        "explanation": json.dumps(explanation),
                    },
                )
            connection.execute(
                text(
                    "INSERT INTO matches (article_id, matched_at) "
                    "SELECT id, first_seen_at FROM articles"
                )
            )
            command.upgrade(alembic_config(connection), "head")
            found = {
                row.url: (row.tier, row.regions, row.partners)
                for row in connection.execute(
                    text(
                        "SELECT a.url, m.tier, m.regions, m.partners FROM matches m "
                        "JOIN articles a ON a.id = m.article_id"
                    )
                )
            }
    finally:
        engine.dispose()
    # Raw SQL returns the JSON as text on SQLite and decoded on PostgreSQL.
    decoded = {
        url: (tier, *(json.loads(v) if isinstance(v, str) else v for v in lists))
        for url, (tier, *lists) in found.items()
    }
    assert decoded == {
        "https://a.ma/1": ("core", ["Souss-Massa"], ["Canary Islands"]),
        "https://a.ma/2": (None, [], []),
        "https://a.ma/3": (None, [], ["X"]),  # malformed values are dropped, not copied
    }
    with Repository(db_url) as repo:
        assert {v.url: v.regions for v in repo.list_matches()}["https://a.ma/1"] == ["Souss-Massa"]


def test_migration_0004_downgrades_and_upgrades_keeping_matches(db_url):
    with Repository(db_url) as repo:
        repo.save_article(record("https://a.ma/1", "La région Souss-Massa et les Canaries.", SOUSS))
    engine = create_engine_for(db_url)
    try:
        with writer(engine).begin() as connection:
            command.downgrade(alembic_config(connection), "0003")
            assert connection.scalar(text("SELECT count(*) FROM matches")) == 1
            command.upgrade(alembic_config(connection), "head")
            row = connection.execute(select(Match.tier, Match.regions)).one()
    finally:
        engine.dispose()
    assert (row.tier, row.regions) == ("core", ["Souss-Massa"])
