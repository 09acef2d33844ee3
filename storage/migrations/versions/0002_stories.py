"""Stories: near-duplicate articles grouped, their MinHash signatures and band-key index.

Existing articles are put each into a story of its own (the story takes the article's id) and
get no signature: texts stored before this revision are never matched by a later copy. Their
number is bounded by the crawl window, and recomputing signatures here would tie this revision
to the code of `storage.minhash` as it is today.

SQLite: the columns are added with ALTER TABLE (3.35 or newer for the downgrade's DROP COLUMN),
never by rebuilding `articles`: with foreign keys on, a rebuild would empty the tables that
reference it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_articles_story_id_stories"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
    )
    if _is_sqlite():
        # SQLite takes a foreign key only inline, in ADD COLUMN.
        op.execute(
            f"ALTER TABLE articles ADD COLUMN story_id INTEGER CONSTRAINT {_FK} "
            "REFERENCES stories (id)"
        )
    else:
        op.add_column("articles", sa.Column("story_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(_FK), "articles", "stories", ["story_id"], ["id"])
    op.add_column("articles", sa.Column("minhash", sa.LargeBinary(), nullable=True))
    op.create_index(op.f("ix_articles_story_id"), "articles", ["story_id"])
    op.create_table(
        "story_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_story_bands_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("band_key", "day", "article_id", name=op.f("pk_story_bands")),
    )
    op.execute("INSERT INTO stories (id, created_at) SELECT id, first_seen_at FROM articles")
    op.execute("UPDATE articles SET story_id = id")
    if not _is_sqlite():
        # The ids were given explicitly: move the sequence past them.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('stories', 'id'), "
            "COALESCE((SELECT MAX(id) FROM stories), 0) + 1, false)"
        )


def downgrade() -> None:
    op.drop_table("story_bands")
    op.drop_index(op.f("ix_articles_story_id"), table_name="articles")
    if _is_sqlite():
        op.execute("ALTER TABLE articles DROP COLUMN story_id")
        op.execute("ALTER TABLE articles DROP COLUMN minhash")
    else:
        op.drop_constraint(op.f(_FK), "articles", type_="foreignkey")
        op.drop_column("articles", "story_id")
        op.drop_column("articles", "minhash")
    op.drop_table("stories")
