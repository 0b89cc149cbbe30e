"""Which versions an analyst's command reads: latest, all, or as of a moment, narrowed by
site, source and capture time. Shared by search and export, as SQL over ``versions v``,
``articles a`` and ``sites s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, make_url
from sqlalchemy.sql.elements import BindParameter

from archiver.analyst import BadInput
from archiver.storage.errors import DatabaseUnavailable
from archiver.storage.session import (
    SQLITE_BUSY_TIMEOUT_MS,
    check_database,
    database_url,
    make_engine,
)
from archiver.storage.types import UTCDateTime

#: The version of each article current at ``:as_of``: the newest captured by then.
#: (The same query over the views is in the README.)
AS_OF = (
    "v.id = (SELECT v2.id FROM versions v2 WHERE v2.article_id = v.article_id "
    "AND v2.captured_at <= :as_of ORDER BY v2.captured_at DESC, v2.version DESC LIMIT 1)"
)


def parse_time(value: str, what: str = "timestamp") -> datetime:
    """An ISO date or date-time (UTC unless it names a zone).

    Raises:
        BadInput: it does not parse.
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(f"{what}: not an ISO date or date-time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Selection:
    """Which versions to read.

    Attributes:
        all_versions: every version (default: each article's current one).
        as_of: each article's version current at this moment (overrides the above).
        site: only this site (its domain; ``www.`` is ignored).
        domains: only sites that are one of these domains or a subdomain (a source's).
        since, until: only versions captured at or after / before these times.
    """

    all_versions: bool = False
    as_of: datetime | None = None
    site: str | None = None
    domains: tuple[str, ...] = field(default=())
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[list[str], dict[str, Any], list[BindParameter[Any]]]:
        """SQL conditions on ``v``, ``a``, ``s``, their parameters and typed binds."""
        conds: list[str] = []
        params: dict[str, Any] = {}
        binds: list[BindParameter[Any]] = []
        if self.as_of is not None:
            conds.append(AS_OF)
            params["as_of"] = self.as_of
            binds.append(bindparam("as_of", type_=UTCDateTime()))
        elif not self.all_versions:
            conds.append("v.version = a.current_version")
        if self.site:
            site = self.site.strip().lower()
            conds.append("s.domain = :site")
            params["site"] = site.removeprefix("www.")
        if self.domains:
            ors = []
            for i, domain in enumerate(self.domains):
                ors.append(f"(s.domain = :dom{i} OR s.domain LIKE :sub{i})")
                params[f"dom{i}"] = domain.lower().removeprefix("www.")
                params[f"sub{i}"] = "%." + domain.lower().removeprefix("www.")
            conds.append("(" + " OR ".join(ors) + ")")
        for name, op in (("since", ">="), ("until", "<")):
            value = getattr(self, name)
            if value is not None:
                conds.append(f"v.captured_at {op} :{name}")
                params[name] = value
                binds.append(bindparam(name, type_=UTCDateTime()))
        return conds, params, binds


def read_engine(url: str | None = None) -> Engine:
    """An engine for reading the archive, its schema checked.

    On SQLite, unlike the writers' engine (``BEGIN IMMEDIATE``), reads take no write
    lock: each statement reads a consistent snapshot (WAL) while crawls go on writing,
    however long an export streams.

    Raises:
        StorageError: the database is unreachable or its schema is behind.
    """
    url = database_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        engine = make_engine(url)
    else:
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # no implicit BEGIN: autocommit reads
            dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    try:
        check_database(engine)
    except DatabaseUnavailable as exc:
        engine.dispose()
        if getattr(getattr(exc.__cause__, "orig", None), "sqlstate", None) == "42501":
            # insufficient_privilege: a role that reads the views only.
            raise BadInput(
                "this database user may not read the archive's tables (a read-only role "
                "reads the views only, see `archiver db grant-readonly`): query the views "
                "in SQL, or run this command with the archive's own credentials") from None
        raise
    except Exception:
        engine.dispose()
        raise
    return engine
