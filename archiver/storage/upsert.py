"""``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: Any, conflict_columns: list[str]) -> Any:
    """An insert into ``model``'s table that does nothing when ``conflict_columns``
    already hold the same values (the unique constraint decides, not a prior select)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
    raise NotImplementedError(f"no upsert for the {dialect} dialect")
