"""Each site's working hours, as the revisit policy learned them from its fetch log.

One row per site (``site_hours``): ``weights``, 24 relative edit rates by hour of day
(UTC, mean 1), or NULL while the site has shown too few changes to tell; ``changes``, how
many changes the fit saw; ``learned_at``, when (the crawl learns them again when that is
older than a few hours). Kept in the database so that every crawl process shares one
fit instead of each learning it again, and so that an analyst can see why a site's
articles are checked when they are.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "site_hours",
        sa.Column("site_id", ID, nullable=False),
        sa.Column("weights", JSON, nullable=True),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_site_hours_site_id_sites"),
        sa.PrimaryKeyConstraint("site_id", name="pk_site_hours"),
    )


def downgrade() -> None:
    op.drop_table("site_hours")
