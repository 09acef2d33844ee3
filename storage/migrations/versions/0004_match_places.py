"""Matches keep their tier and the regions and partners recognised, as columns.

- `matches.tier` (the rules' tier, "core" or "related"; NULL when the rules have no tiers),
  `matches.regions` and `matches.partners` (JSON lists of gazetteer names, `[]` by default).
- Existing matches are back-filled from their article's stored decision (`articles.explanation`),
  read and written in Python in chunks: the JSON functions of SQLite and PostgreSQL differ, and
  an explanation written by an older newswatch may lack these keys (then NULL and `[]`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 1000  # matches read and updated per statement
_TIER_LENGTH = 100

# Only the columns this revision reads or writes, as they are at this revision.
_matches = sa.table(
    "matches",
    sa.column("id", sa.Integer()),
    sa.column("article_id", sa.Integer()),
    sa.column("tier", sa.String()),
    sa.column("regions", sa.JSON()),
    sa.column("partners", sa.JSON()),
)
_articles = sa.table("articles", sa.column("id", sa.Integer()), sa.column("explanation", sa.JSON()))


def upgrade() -> None:
    op.add_column("matches", sa.Column("tier", sa.String(length=_TIER_LENGTH), nullable=True))
    for name in ("regions", "partners"):
        op.add_column("matches", sa.Column(name, sa.JSON(), nullable=False, server_default="[]"))
    _back_fill(op.get_bind())


def downgrade() -> None:
    # SQLite rebuilds the table; nothing references `matches`, so the rebuild loses nothing.
    with op.batch_alter_table("matches") as batch:
        for name in ("partners", "regions", "tier"):
            batch.drop_column(name)


def _back_fill(connection: sa.Connection) -> None:
    update = (
        sa.update(_matches)
        .where(_matches.c.id == sa.bindparam("match_id"))
        .values(
            tier=sa.bindparam("new_tier", type_=sa.String()),
            regions=sa.bindparam("new_regions", type_=sa.JSON()),
            partners=sa.bindparam("new_partners", type_=sa.JSON()),
        )
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_matches.c.id, _articles.c.explanation)
            .join(_articles, _articles.c.id == _matches.c.article_id)
            .where(_matches.c.id > last)
            .order_by(_matches.c.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        values = [_values(row.id, row.explanation) for row in rows]
        connection.execute(update, values)
        last = rows[-1].id


def _values(match_id: int, explanation: Any) -> dict[str, Any]:
    decision = explanation if isinstance(explanation, dict) else {}
    tier = decision.get("tier")
    return {
        "match_id": match_id,
        "new_tier": tier[:_TIER_LENGTH] if isinstance(tier, str) and tier else None,
        "new_regions": _names(decision.get("regions")),
        "new_partners": _names(decision.get("partners")),
    }


def _names(value: Any) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []
