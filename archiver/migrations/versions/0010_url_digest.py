"""Reserved: URL identity through a fixed-size digest (the hostile-publishers issue, #11).

A no-op until that work lands here, so that the migrations being written side by side
keep one chain.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
