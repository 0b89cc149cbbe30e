"""Articles carry their next revisit time (indexed) and a claim lease for revisit crawls.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("next_visit_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("articles", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_articles_next_visit_at"), "articles", ["next_visit_at"])
    # Articles archived before revisits existed are due at once; the first revisit of
    # each sets its own schedule. Gone ones stay unscheduled.
    op.execute("UPDATE articles SET next_visit_at = last_fetched_at WHERE gone_at IS NULL")


def downgrade() -> None:
    op.drop_index(op.f("ix_articles_next_visit_at"), table_name="articles")
    op.drop_column("articles", "claimed_until")
    op.drop_column("articles", "next_visit_at")
