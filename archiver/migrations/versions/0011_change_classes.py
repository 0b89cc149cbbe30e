"""Reserved: change classes and diff sizes of versions, the article_changes view (revisits, #9).

A no-op until that work lands here, so that the migrations being written side by side
keep one chain.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
