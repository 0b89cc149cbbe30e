"""The migrations build the same schema the models describe, both ways, on both databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from archiver.storage import (
    DatabaseUnavailable,
    SchemaMissing,
    check_database,
    make_engine,
    migrate,
)

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "sites", "articles", "versions", "raw_captures", "fetches", "crawl_runs", "readings",
    "site_hours",
}
VIEWS = {
    "article_latest", "article_versions", "fetch_log", "version_readings",
    "site_extraction_health", "article_changes",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'new.db'}"
    return request.getfixturevalue("empty_pg_url")


def _check(url: str) -> None:
    engine = make_engine(url)
    try:
        check_database(engine)
    finally:
        engine.dispose()


#: SQLite's full-text index (0013): an FTS5 table and the shadow tables FTS5 keeps.
FTS5_TABLES = {
    "versions_fts", "versions_fts_data", "versions_fts_idx", "versions_fts_docsize",
    "versions_fts_config",
}


def _schema(url: str) -> tuple[set[str], set[str]]:
    """The archive's tables and views (SQLite's FTS5 tables, when all present, as one)."""
    engine = make_engine(url)
    try:
        insp = inspect(engine)
        tables = set(insp.get_table_names()) - {"alembic_version"}
        if FTS5_TABLES <= tables:
            tables = tables - FTS5_TABLES | {"versions_fts"}
        return tables, set(insp.get_view_names())
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    """TABLES as this database holds them: SQLite adds its FTS5 index."""
    return TABLES | ({"versions_fts"} if url.startswith("sqlite") else set())


def _views(url: str) -> set[str]:
    """VIEWS as this database holds them: PostgreSQL adds version_search (0013)."""
    return VIEWS | (set() if url.startswith("sqlite") else {"version_search"})


def test_upgrade_check_downgrade_upgrade(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    assert _schema(empty_url) == (_tables(empty_url), _views(empty_url))
    migrate.check(empty_url)  # raises if models and migrations disagree
    migrate.downgrade(empty_url, "base")
    assert _schema(empty_url) == (set(), set())
    migrate.upgrade(empty_url)
    assert _schema(empty_url) == (_tables(empty_url), _views(empty_url))
    _check(empty_url)


def test_each_revision_downgrades_one_step(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "0001")
    assert _schema(empty_url) == (TABLES - {"readings", "site_hours"}, set())
    migrate.upgrade(empty_url)
    assert _schema(empty_url) == (_tables(empty_url), _views(empty_url))


def test_alembic_command_line_from_project_root(empty_url: str) -> None:
    """`alembic upgrade head` and `alembic check` work from the root, reading the URL
    from ARCHIVER_DATABASE_URL like everything else."""
    env = {"ARCHIVER_DATABASE_URL": empty_url, "PATH": str(Path(sys.executable).parent)}
    alembic = [sys.executable, "-m", "alembic"]
    for args in (["upgrade", "head"], ["check"], ["downgrade", "base"], ["upgrade", "head"]):
        done = subprocess.run(alembic + args, cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert _schema(empty_url) == (_tables(empty_url), _views(empty_url))


def test_schema_head_is_the_newest_migration() -> None:
    """A crawl checks the schema against SCHEMA_HEAD without loading Alembic."""
    assert migrate.SCHEMA_HEAD == migrate.head_revision()


def test_database_one_migration_behind_says_to_upgrade(empty_url: str) -> None:
    migrate.upgrade(empty_url, "0001")
    with pytest.raises(SchemaMissing, match=f"is at migration 0001, the code needs {migrate.SCHEMA_HEAD}"):
        _check(empty_url)
    migrate.upgrade(empty_url)
    _check(empty_url)


def test_database_without_schema_says_to_upgrade(empty_url: str) -> None:
    with pytest.raises(SchemaMissing, match="run `archiver db upgrade`"):
        _check(empty_url)


def test_unreachable_database_names_url_without_password() -> None:
    url = "postgresql+psycopg://archiver:s3cret@127.0.0.1:1/archive?connect_timeout=2"
    with pytest.raises(DatabaseUnavailable) as info:
        _check(url)
    message = str(info.value)
    assert "127.0.0.1:1/archive" in message and "archiver:***@" in message
    assert "s3cret" not in message
