"""Fetches of possible articles name their site, so extraction health can count per site.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMN, no foreign key: SQLite could only add one by rebuilding the table,
    # which the views on it forbid. The column is written by archive() from sites.id.
    op.add_column("fetches", sa.Column("site_id", ID, nullable=True))
    op.create_index(op.f("ix_fetches_site_id"), "fetches", ["site_id"])
    # Older fetches that reached an article belong to its site.
    op.execute(
        "UPDATE fetches SET site_id = "
        "(SELECT a.site_id FROM articles a WHERE a.id = fetches.article_id) "
        "WHERE article_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_fetches_site_id"), table_name="fetches")
    op.drop_column("fetches", "site_id")
