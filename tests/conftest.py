"""Real databases for the tests, their schema built by the Alembic migrations.

Each test gets a fresh database: PostgreSQL databases are cloned from a template that
the migrations built once per session (``CREATE DATABASE ... TEMPLATE``, a few ms), and
SQLite files are copied from a migrated one. The schema never comes from the models
themselves: the tests must fail when the migrations are broken.

Where no PostgreSQL is reachable (a laptop), the PostgreSQL tests skip with the reason;
with ``ARCHIVER_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from archiver.storage import migrate
from archiver.storage.session import make_engine, make_sessionmaker

#: A PostgreSQL URL whose user may create databases; the tests make their own.
PG_ADMIN_URL = os.environ.get(
    "ARCHIVER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("ARCHIVER_TEST_REQUIRE_POSTGRES") == "1"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """The name of a PostgreSQL database the migrations built, to clone per test."""
    try:
        with psycopg.connect(_libpq(PG_ADMIN_URL), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL at {make_url(PG_ADMIN_URL).render_as_string()}: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(f"ARCHIVER_TEST_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    name = f"archiver_tmpl_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    migrate.upgrade(_with_database(PG_ADMIN_URL, name))
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = f"archiver_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _with_database(PG_ADMIN_URL, name)
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database without any schema."""
    name = f"archiver_empty_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield _with_database(PG_ADMIN_URL, name)
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "archive.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database file for one test."""
    path = tmp_path / "archive.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s
