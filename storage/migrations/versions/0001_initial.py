"""Initial schema: sources, crawl runs, articles and their URLs, matches, skipped pages, fetch states.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from storage.models: a migration must keep describing the
# schema of its day when the models move on. Aware timestamps are `storage.models.UTCDateTime`,
# whose DDL is DateTime(timezone=True).
_URL = sa.String(length=2000)


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        _timestamp("started_at"),
        _timestamp("finished_at", nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _count("pages_fetched"),
        _count("articles_extracted"),
        _count("matches"),
        _count("new_matches"),
        _count("duplicates"),
        _count("skipped"),
        _count("errors"),
        sa.Column("error_samples", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'failed', 'interrupted', 'timeout')",
            name=op.f("ck_crawl_runs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    op.create_table(
        "fetch_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", _URL, nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=False),
        _timestamp("last_fetched_at"),
        _count("entries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetch_states")),
        sa.UniqueConstraint("url", name=op.f("uq_fetch_states_url")),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("url", _URL, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _timestamp("published_at", nullable=True),
        _timestamp("first_seen_at"),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("html_gz", sa.LargeBinary(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_articles_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_articles_run_id_crawl_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("url", name=op.f("uq_articles_url")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_articles_content_hash")),
    )
    for column in ("source_id", "published_at", "first_seen_at", "run_id"):
        op.create_index(op.f(f"ix_articles_{column}"), "articles", [column])
    op.create_table(
        "article_urls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", _URL, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_urls_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_article_urls_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_urls")),
        sa.UniqueConstraint("url", name=op.f("uq_article_urls_url")),
    )
    for column in ("article_id", "source_id"):
        op.create_index(op.f(f"ix_article_urls_{column}"), "article_urls", [column])
    op.create_table(
        "matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        _timestamp("matched_at"),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_matches_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
        sa.UniqueConstraint("article_id", name=op.f("uq_matches_article_id")),
    )
    for column in ("matched_at", "digest_id"):
        op.create_index(op.f(f"ix_matches_{column}"), "matches", [column])
    op.create_table(
        "skipped_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", _URL, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        _timestamp("seen_at"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_skipped_pages_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_skipped_pages_run_id_crawl_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skipped_pages")),
        sa.UniqueConstraint("url", name=op.f("uq_skipped_pages_url")),
    )
    for column in ("source_id", "run_id"):
        op.create_index(op.f(f"ix_skipped_pages_{column}"), "skipped_pages", [column])


def downgrade() -> None:
    for table in (
        "skipped_pages",
        "matches",
        "article_urls",
        "articles",
        "fetch_states",
        "crawl_runs",
        "sources",
    ):
        op.drop_table(table)
