"""Digests: the digest deliveries, matches tied to the delivery that sent them, per-source figures.

- `digest_deliveries`: one row per digest attempt (time, Message-ID, recipients, stories, outcome).
- `matches.digest_id` (reserved since 0001) gets its foreign key to `digest_deliveries`. SQLite
  takes a new foreign key only by rebuilding the table (batch mode); `matches` is referenced by
  no other table, so the rebuild loses nothing.
- `crawl_runs.source_stats`: per-source figures of a run, for the source-health check.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_matches_digest_id_digest_deliveries"


def upgrade() -> None:
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("stories", sa.Integer(), nullable=False),
        sa.Column("article_ids", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'sent', 'failed', 'refused', 'empty', 'interrupted')",
            name=op.f("ck_digest_deliveries_status"),
        ),
        sa.CheckConstraint(
            "kind IN ('scheduled', 'manual')", name=op.f("ck_digest_deliveries_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_deliveries")),
    )
    op.create_index(op.f("ix_digest_deliveries_created_at"), "digest_deliveries", ["created_at"])
    with op.batch_alter_table("matches") as batch:
        batch.create_foreign_key(op.f(_FK), "digest_deliveries", ["digest_id"], ["id"])
    op.add_column("crawl_runs", sa.Column("source_stats", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("crawl_runs", "source_stats")
    with op.batch_alter_table("matches") as batch:
        batch.drop_constraint(op.f(_FK), type_="foreignkey")
    op.drop_index(op.f("ix_digest_deliveries_created_at"), table_name="digest_deliveries")
    op.drop_table("digest_deliveries")
