"""Engines and sessions for the configured database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from archiver.storage.errors import DatabaseUnavailable, SchemaMissing

#: How long an SQLite writer waits for another process's write lock, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 60_000


def database_url(url: str | None = None) -> str:
    """The given URL, or the configured ``ARCHIVER_DATABASE_URL``."""
    if url:
        return url
    from archiver import settings  # the one place that reads the environment

    return settings.ARCHIVER_DATABASE_URL


def display_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL has no password we could find either
        return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: the configured database).

    SQLite gets what concurrent crawl processes need: WAL (readers never block the
    writer), a long busy timeout, foreign keys on, and ``BEGIN IMMEDIATE`` so a
    transaction takes the write lock up front instead of failing when it upgrades.
    """
    url = database_url(url)
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite; we emit BEGIN ourselves below.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if sa_url.database and sa_url.database != ":memory:":
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (results outlive transactions)."""
    return sessionmaker(engine, expire_on_commit=False)


def check_database(engine: Engine) -> None:
    """Make sure the database is reachable and its schema is at the latest migration.

    Raises:
        DatabaseUnavailable: the server cannot be reached or refused the connection.
        SchemaMissing: the schema is absent or behind; the message says what to run.
    """
    from archiver.storage.migrate import SCHEMA_HEAD, current_revision

    url = engine.url.render_as_string(hide_password=False)
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    except (OperationalError, DBAPIError) as exc:
        raise unreachable(url, exc) from exc
    url = display_url(url)
    head = SCHEMA_HEAD
    if current is None:
        raise SchemaMissing(
            f"the database at {url} has no archive schema: run `archiver db upgrade`"
        )
    if current != head:
        raise SchemaMissing(
            f"the database at {url} is at migration {current}, the code needs {head}: "
            "run `archiver db upgrade`"
        )


def unreachable(url: str, exc: BaseException) -> DatabaseUnavailable:
    """The error for a database that cannot be reached, naming it without its password."""
    return DatabaseUnavailable(
        f"cannot reach the database at {display_url(url)}: {describe_error(exc)}"
    )


def describe_error(exc: BaseException) -> str:
    """The first line of a driver error, for a one-line message."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__
