"""The README's search, removal and as-of queries run and answer what they say."""

from __future__ import annotations

from sqlalchemy import Connection, text

from tests.test_readme import sql_blocks

from .conftest import URL_BUDGET, URL_DE, URL_EN


def block(title: str) -> str:
    [query] = [q for q in sql_blocks() if q.startswith(f"-- {title}\n")]
    return query


def test_readme_search_query(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text(block("search (PostgreSQL)"))).all()
        assert [r.url for r in rows] == [URL_DE]
        assert "«Wahl»" not in rows[0].snippet and "<b>Wahl</b>" in rows[0].snippet
    else:
        rows = conn.execute(text(block("search (SQLite)"))).all()
        assert rows == []  # the English article mentions the budget
        query = block("search (SQLite)").replace('NOT "budget"', 'NOT "library"')
        rows = conn.execute(text(query)).all()
        assert [r.url for r in rows] == [URL_EN] and "«elections»" in rows[0].snippet


def test_readme_removed_query(conn: Connection) -> None:
    rows = conn.execute(text(block("removed"))).all()
    assert [(r.url, r.before_version, r.after_version) for r in rows] == [(URL_BUDGET, 1, 2)]


def test_readme_as_of_query(conn: Connection) -> None:
    rows = conn.execute(text(block("as of"))).all()
    assert [(r.url, r.version) for r in rows] == [(URL_BUDGET, 2), (URL_EN, 1), (URL_DE, 1)]
