"""Engines and sessions for the configured database."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from archiver.storage.errors import BadDatabaseUrl, DatabaseUnavailable, SchemaMissing

#: How long an SQLite writer waits for another process's write lock, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 60_000
#: Seconds to wait for a PostgreSQL server to accept and answer a connection, when neither
#: the URL (``?connect_timeout=``) nor ``ARCHIVER_DB_CONNECT_TIMEOUT`` says otherwise.
CONNECT_TIMEOUT = 10
#: The database URL forms that work, for the message about one that does not.
URL_FORMS = (
    "sqlite:///PATH (a file; sqlite:////abs/path), "
    "postgresql://USER:PASSWORD@HOST[:PORT]/DB (also postgres:// and postgresql+psycopg://)"
)
#: Driver names people write for PostgreSQL; all mean psycopg 3, the driver installed.
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgres+psycopg", "postgresql+psycopg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
#: Query parameters that carry a secret (libpq reads ``?password=`` as the password).
_SECRET_PARAMS = ("password", "passfile", "sslpassword", "secret", "token")


def database_url(url: str | None = None) -> str:
    """The given URL, or the configured ``ARCHIVER_DATABASE_URL``, in the form SQLAlchemy
    needs (``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``).

    Raises:
        BadDatabaseUrl: not a URL, or a scheme other than SQLite or PostgreSQL.
    """
    if not url:
        from archiver import settings  # the one place that reads the environment

        url = settings.ARCHIVER_DATABASE_URL
    return normalise_database_url(url)


def normalise_database_url(url: str) -> str:
    """``url`` with its driver made explicit; see :func:`database_url`."""
    sa_url = _parse(url)
    driver = sa_url.drivername.lower()
    if driver in _POSTGRES_DRIVERS:
        sa_url = sa_url.set(drivername="postgresql+psycopg")
    elif driver not in _SQLITE_DRIVERS:
        raise BadDatabaseUrl(
            f"database URL {display_url(url)} has an unsupported scheme "
            f"{sa_url.drivername!r}; use {URL_FORMS}"
        )
    return sa_url.render_as_string(hide_password=False)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise BadDatabaseUrl(
            f"{display_url(url)!r} is not a database URL; use {URL_FORMS}"
        ) from None


def display_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs, whichever way it was
    given: ``user:password@host`` or ``?password=...`` (and other secret parameters)."""
    try:
        sa_url = make_url(url)
    except (ArgumentError, ValueError, TypeError):  # hide where credentials would be
        text = re.sub(r"(?<=://)[^/@]*@", "***@", str(url))
        secret = "|".join(_SECRET_PARAMS)
        return re.sub(rf"(?i)([?&][^=&]*(?:{secret})[^=&]*=)[^&]*", r"\1***", text)
    query = {
        k: ("***" if any(s in k.lower() for s in _SECRET_PARAMS) else v)
        for k, v in sa_url.query.items()
    }
    rendered = sa_url.set(query=query).render_as_string(hide_password=True)
    return rendered.replace("=%2A%2A%2A", "=***")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: the configured database).

    SQLite gets what concurrent crawl processes need: WAL (readers never block the
    writer), a long busy timeout, foreign keys on, and ``BEGIN IMMEDIATE`` so a
    transaction takes the write lock up front instead of failing when it upgrades.
    """
    url = database_url(url)
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        kwargs.pop("connect_timeout", None)
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
    timeout = kwargs.pop("connect_timeout", None) or _connect_timeout()
    if "connect_timeout" not in sa_url.query:
        # A server that accepts and never answers otherwise hangs us for minutes.
        kwargs["connect_args"] = {"connect_timeout": timeout, **kwargs.get("connect_args", {})}
    return create_engine(url, **kwargs)


def _connect_timeout() -> int:
    from archiver import settings

    value = getattr(settings, "ARCHIVER_DB_CONNECT_TIMEOUT", CONNECT_TIMEOUT)
    try:
        return max(1, int(float(value)))
    except (TypeError, ValueError):
        return CONNECT_TIMEOUT


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (results outlive transactions)."""
    return sessionmaker(engine, expire_on_commit=False)


#: The newest migration's revision: the schema this code reads and writes. A test keeps
#: it equal to Alembic's head (archiver/storage/migrate.py); a new migration must update it.
SCHEMA_HEAD = "0015"


def current_revision(conn: Connection) -> str | None:
    """The revision a database is at (Alembic's ``alembic_version`` row), or None."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def check_database(engine: Engine) -> None:
    """Make sure the database is reachable and its schema is at the latest migration.

    Raises:
        DatabaseUnavailable: the server cannot be reached or refused the connection.
        SchemaMissing: the schema is absent or behind; the message says what to run.
    """
    url = engine.url.render_as_string(hide_password=False)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                # A server that answers the connection but not the query (a lock held by
                # a migration, an overloaded server) fails the check instead of hanging.
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {_connect_timeout() * 1000}")
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
