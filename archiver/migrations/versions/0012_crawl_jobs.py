"""Crawl runs name their job and say who runs them: job (indexed), heartbeat, pid, host.

The job is the crawl's normalised arguments (archiver/service/jobs.py): the name its
lock is taken under and the key the scheduler and ``archiver status`` group runs by.
``heartbeat_at``, ``pid`` and ``host`` let a run whose process died be told from one
still working, so it is marked ``abandoned`` instead of staying ``running``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("crawl_runs", sa.Column("job", sa.Text(), nullable=True))
    op.add_column("crawl_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("crawl_runs", sa.Column("pid", sa.Integer(), nullable=True))
    op.add_column("crawl_runs", sa.Column("host", sa.String(255), nullable=True))
    op.create_index(op.f("ix_crawl_runs_job"), "crawl_runs", ["job"])


def downgrade() -> None:
    op.drop_index(op.f("ix_crawl_runs_job"), table_name="crawl_runs")
    op.drop_column("crawl_runs", "host")
    op.drop_column("crawl_runs", "pid")
    op.drop_column("crawl_runs", "heartbeat_at")
    op.drop_column("crawl_runs", "job")
