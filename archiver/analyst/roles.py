"""A read-only role for analysts on PostgreSQL (``archiver db grant-readonly``).

The role may read the documented views (:data:`ANALYST_VIEWS`) and nothing else: no
table, no write, no sequence, nothing created in the schema; with ``with_raw``, also the
table ``raw_captures`` (the bodies as fetched, zstd-compressed). PostgreSQL runs a view
with its owner's rights, so reading a view needs no right on the tables behind it.

Views that a migration drops and creates again lose their grants: the migration
environment (``archiver/migrations/env.py``) takes :func:`snapshot` before migrating and
calls :func:`restore` after, in the same transaction, so every role keeps what it could
read, and a role that could read every documented view (what ``grant-readonly`` gives)
can read the new ones too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from archiver.analyst import BadInput

#: The views the README documents, the analysts' interface. ``version_search`` exists on
#: PostgreSQL only (migration 0013).
ANALYST_VIEWS: tuple[str, ...] = (
    "article_latest",
    "article_versions",
    "version_readings",
    "article_changes",
    "site_extraction_health",
    "fetch_log",
    "version_search",
)
#: The one table ``--with-raw`` adds.
RAW_TABLE = "raw_captures"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
#: Names PostgreSQL reserves for roles or reads as something else in GRANT.
_RESERVED = {"public", "none", "all", "current_user", "session_user", "current_role"}


def check_role_name(name: str) -> str:
    """``name`` if it can be a role's name as typed (an SQL identifier).

    Raises:
        BadInput: it is not one (or it is reserved).
    """
    if not _IDENTIFIER.fullmatch(name) or len(name.encode()) > 63:
        raise BadInput(f"role name {name!r} is not an identifier: letters, digits, _ and $, "
                       "starting with a letter or _, at most 63 bytes")
    if name.lower() in _RESERVED or name.lower().startswith("pg_"):
        raise BadInput(f"role name {name!r} is reserved by PostgreSQL")
    return name


@dataclass
class GrantReport:
    """What :func:`grant_readonly` did."""

    role: str
    created: bool
    login: bool
    views: list[str]
    raw: bool
    #: Privileges the role still has beyond reading the views (one line each): through
    #: PUBLIC, membership in another role, or its attributes. Empty when it is tight.
    leaks: list[str] = field(default_factory=list)


def grant_readonly(conn: Connection, role: str, *, password: str | None = None,
                   with_raw: bool = False) -> GrantReport:
    """Create ``role`` if it is missing, or bring it up to date: it reads the documented
    views that exist (and ``raw_captures`` if ``with_raw``), and every other privilege it
    holds on the schema's tables, views and sequences is revoked. Idempotent.

    A new role is ``NOLOGIN`` (a group to grant to people) unless ``password`` is given;
    a password makes it ``LOGIN`` with that password (sent hashed). An existing role's
    login is left as it is without one.

    Run in a transaction on PostgreSQL by a user who owns the archive's views (and has
    ``CREATEROLE`` to create the role).

    Raises:
        BadInput: the name is not an identifier, or names a superuser or a role that owns
            objects of the archive (revoking its rights would lock the crawler out).
    """
    check_role_name(role)
    prep = conn.dialect.identifier_preparer
    who = prep.quote_identifier(role)
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    existing = conn.execute(text(
        "SELECT oid, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :r"),
        {"r": role}).one_or_none()
    if existing is not None:
        if existing.rolsuper:
            raise BadInput(f"role {role} is a superuser: it reads and writes everything, "
                           "whatever is granted")
        owns = conn.execute(text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :s AND c.relowner = :o"), {"s": schema, "o": existing.oid}
        ).scalar_one()
        if owns:
            raise BadInput(f"role {role} owns the archive's tables (it is the crawler's): "
                           "name another role for analysts")
    secret = _encrypted(conn, role, password) if password is not None else None
    if existing is None:
        login = f"LOGIN PASSWORD {_literal(secret)}" if secret else "NOLOGIN"
        conn.exec_driver_sql(f"CREATE ROLE {who} {login}")
    elif secret:
        conn.exec_driver_sql(f"ALTER ROLE {who} LOGIN PASSWORD {_literal(secret)}")
    database = prep.quote_identifier(
        conn.execute(text("SELECT current_database()")).scalar_one())
    schema_q = prep.quote_identifier(schema)
    if not conn.execute(text("SELECT has_database_privilege(:r, current_database(), 'CONNECT')"),
                        {"r": role}).scalar_one():
        conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {database} TO {who}")
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema_q} TO {who}")
    conn.exec_driver_sql(f"REVOKE CREATE ON SCHEMA {schema_q} FROM {who}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema_q} FROM {who}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema_q} FROM {who}")
    views = existing_views(conn)
    for view in views:
        conn.exec_driver_sql(f"GRANT SELECT ON {prep.quote_identifier(view)} TO {who}")
    if with_raw:
        conn.exec_driver_sql(f"GRANT SELECT ON {RAW_TABLE} TO {who}")
    login_now = conn.execute(text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r"),
                             {"r": role}).scalar_one()
    report = GrantReport(role, existing is None, login_now, views, with_raw)
    report.leaks = leaks(conn, role, allowed=set(views) | ({RAW_TABLE} if with_raw else set()))
    return report


def existing_views(conn: Connection) -> list[str]:
    """The documented views this database has, in :data:`ANALYST_VIEWS` order."""
    present = set(conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm')")).scalars())
    return [v for v in ANALYST_VIEWS if v in present]


def leaks(conn: Connection, role: str, allowed: Iterable[str]) -> list[str]:
    """What ``role`` can do beyond reading ``allowed`` (one line each), whatever the
    reason: a grant to PUBLIC, membership in another role, its attributes."""
    allowed = set(allowed)
    out = []
    attrs = conn.execute(text(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication FROM pg_roles "
        "WHERE rolname = :r"), {"r": role}).one()
    for attr, what in (("rolsuper", "is a superuser"),
                       ("rolcreaterole", "may create roles (CREATEROLE)"),
                       ("rolcreatedb", "may create databases (CREATEDB)"),
                       ("rolreplication", "may stream the whole cluster (REPLICATION)")):
        if getattr(attrs, attr):
            out.append(f"{role} {what}")
    rows = conn.execute(text("""
SELECT c.relname, c.relkind,
       has_any_column_privilege(:r, c.oid, 'SELECT') AS can_read,
       has_table_privilege(:r, c.oid, 'DELETE, TRUNCATE, TRIGGER')
           OR has_any_column_privilege(:r, c.oid, 'INSERT, UPDATE, REFERENCES') AS can_write
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY c.relname
"""), {"r": role}).all()
    for row in rows:
        if row.can_write:
            out.append(f"{role} can write to {row.relname}")
        elif row.can_read and row.relname not in allowed:
            kind = "view" if row.relkind in ("v", "m") else "table"
            out.append(f"{role} can read the {kind} {row.relname}")
    sequences = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'S' "
        # Guarded: PostgreSQL may test conditions in any order, and this function raises
        # on a relation that is not a sequence.
        "AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(:r, c.oid, 'USAGE, UPDATE') "
        "END ORDER BY c.relname"),
        {"r": role}).scalars().all()
    out.extend(f"{role} can use the sequence {s}" for s in sequences)
    if conn.execute(text("SELECT has_schema_privilege(:r, current_schema(), 'CREATE')"),
                    {"r": role}).scalar_one():
        out.append(f"{role} can create tables in the schema (granted to PUBLIC before "
                   "PostgreSQL 15: REVOKE CREATE ON SCHEMA public FROM PUBLIC)")
    return out


def _encrypted(conn: Connection, role: str, password: str) -> str:
    """The password as the server stores it (SCRAM or MD5, by its
    ``password_encryption``), made here so the statement never carries it in clear."""
    if not password:
        raise BadInput("the password is empty")
    raw = conn.connection.dbapi_connection
    pgconn = raw.pgconn  # type: ignore[union-attr]
    return pgconn.encrypt_password(password.encode(), role.encode()).decode()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- keeping grants across migrations ----------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Who may read which documented view (and ``raw_captures``) before a migration."""

    views: frozenset[str]
    #: role -> what it could read; ``None`` is PUBLIC (every role).
    grants: dict[str | None, frozenset[str]]


def snapshot(conn: Connection) -> Snapshot | None:
    """The SELECT grants on the documented views and ``raw_captures``, to roles and to
    PUBLIC (PostgreSQL; None elsewhere)."""
    if conn.dialect.name != "postgresql":
        return None
    names = [*ANALYST_VIEWS, RAW_TABLE]
    rows = conn.execute(text("""
SELECT c.relname, CASE WHEN acl.grantee = 0 THEN NULL ELSE r.rolname END AS rolname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) acl
LEFT JOIN pg_roles r ON r.oid = acl.grantee
WHERE n.nspname = current_schema() AND c.relname = ANY(:names)
  AND acl.privilege_type = 'SELECT' AND acl.grantee <> c.relowner
  AND (acl.grantee = 0 OR r.oid IS NOT NULL)
"""), {"names": names}).all()
    grants: dict[str | None, set[str]] = {}
    for relname, rolname in rows:
        grants.setdefault(rolname, set()).add(relname)
    return Snapshot(frozenset(existing_views(conn)),
                    {k: frozenset(v) for k, v in grants.items()})


def restore(conn: Connection, before: Snapshot | None) -> None:
    """Grant again what :func:`snapshot` saw, on the views as they are now: a role that
    could read every documented view reads every one there is now (new ones included);
    a role that could read some reads those again."""
    if before is None or not before.grants:
        return
    prep = conn.dialect.identifier_preparer
    now = existing_views(conn)
    roles = set(conn.execute(text("SELECT rolname FROM pg_roles")).scalars())
    tables = set(conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema()")).scalars())
    for role, names in before.grants.items():
        if role is not None and role not in roles:
            continue
        grantee = "PUBLIC" if role is None else prep.quote_identifier(role)
        full = bool(before.views) and before.views <= names
        targets = list(now) if full else [v for v in now if v in names]
        if RAW_TABLE in names and RAW_TABLE in tables:
            targets.append(RAW_TABLE)
        for name in targets:
            conn.exec_driver_sql(
                f"GRANT SELECT ON {prep.quote_identifier(name)} TO {grantee}")
