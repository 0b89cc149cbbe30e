"""Fetches record what a page was fetched as (a possible article or a listing).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fetches", sa.Column("kind", sa.String(16), nullable=True))
    # What can be told of older fetches: one that reached an article was fetched as one.
    op.execute("UPDATE fetches SET kind = 'article' WHERE article_id IS NOT NULL")


def downgrade() -> None:
    op.drop_column("fetches", "kind")
