"""Readings: every earlier extractor reading of a version is kept, one per extractor version.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column shapes, so this revision never changes with the models.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Nothing to copy: until now a version had exactly one reading, kept in its own row,
    # which stays the newest reading.
    op.create_table(
        "readings",
        sa.Column("id", ID, nullable=False),
        sa.Column("version_id", ID, nullable=False),
        sa.Column("extractor_version", sa.String(255), nullable=False),
        sa.Column("read_at", TS, nullable=False),
        sa.Column("superseded_at", TS, nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("authors", sa.Text(), nullable=True),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("modified_at", TS, nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("paywalled", sa.Boolean(), nullable=False),
        sa.Column("paywall_evidence", JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_readings_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readings")),
        sa.UniqueConstraint(
            "version_id", "extractor_version", name="uq_readings_version_id_extractor_version"
        ),
    )


def downgrade() -> None:
    op.drop_table("readings")
