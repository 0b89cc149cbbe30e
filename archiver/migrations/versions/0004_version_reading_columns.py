"""Versions say when their reading was made and whether their change is unverified.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (no table rebuild on SQLite): existing archives
    # upgrade in place, every existing reading being the one made at capture.
    op.add_column("versions", sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "versions",
        sa.Column("unverified_change", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("versions", "unverified_change")
    op.drop_column("versions", "read_at")
