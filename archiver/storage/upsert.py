"""``INSERT ... ON CONFLICT DO NOTHING`` (or ``DO UPDATE``) on PostgreSQL and SQLite alike."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(
    bind: Session | Connection, model: Any, conflict_columns: list[str], returning: Any = None
) -> Any:
    """An insert into ``model``'s table that does nothing when ``conflict_columns``
    already hold the same values (the unique constraint decides, not a prior select).

    Execute it with the row as parameters, ``conn.execute(stmt, {...})``: the
    statement is built once per dialect and its compiled form is reused.
    """
    # On the table, not the mapped class: a Core insert skips the ORM's bulk-insert
    # machinery, a third of archive()'s CPU on the crawl's hot path.
    table = getattr(model, "__table__", model)
    dialect = bind.dialect if isinstance(bind, Connection) else bind.get_bind().dialect
    return _statement(dialect.name, table, tuple(conflict_columns), returning)


@cache
def _statement(dialect: str, model: Any, conflict_columns: tuple[str, ...], returning: Any) -> Any:
    if dialect == "postgresql":
        stmt = postgresql.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
    elif dialect == "sqlite":
        stmt = sqlite.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
    else:
        raise NotImplementedError(f"no upsert for the {dialect} dialect")
    return stmt.returning(returning) if returning is not None else stmt


def insert_or_update(
    bind: Session | Connection, model: Any, conflict_columns: list[str], values: dict[str, Any]
) -> Any:
    """An insert of the row ``values`` into ``model``'s table that, when
    ``conflict_columns`` already hold the same values, sets the row's other columns to
    ``values`` instead."""
    table = getattr(model, "__table__", model)
    dialect = bind.dialect if isinstance(bind, Connection) else bind.get_bind().dialect
    if dialect.name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"no upsert for the {dialect.name} dialect")
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(values)
    return stmt.on_conflict_do_update(
        index_elements=conflict_columns,
        set_={k: stmt.excluded[k] for k in values if k not in conflict_columns},
    )
