"""A kept ``not_article`` body remembers which extractor last judged it so.

``archiver reextract`` reads the kept bodies of pages judged ``not_article`` again, in
case the running extractor finds an article in them. One that it still judges no article
is marked with that extractor's version in ``fetches.reread_by``, so that the next run
with the same extractor skips it (a repeated or resumed run reads nothing twice); a new
extractor version reads it again. NULL: only the crawl has judged it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite cannot rebuild a table that views read).
    op.add_column("fetches", sa.Column("reread_by", sa.String(length=255), nullable=True))


def downgrade() -> None:
    op.drop_column("fetches", "reread_by")
