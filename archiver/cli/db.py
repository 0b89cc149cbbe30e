"""``archiver db``: the archive's schema, and a read-only role for analysts."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import DBAPIError, OperationalError

from archiver.storage import migrate
from archiver.storage.session import database_url, display_url, make_engine, unreachable


def add_commands(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="manage the archive's schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_commands.add_parser("upgrade", help="apply the migrations")
    up.add_argument("revision", nargs="?", default="head",
                    help="the migration to upgrade to (default: head, the latest)")
    up.set_defaults(handler=_db_migrate)
    down = db_commands.add_parser("downgrade", help="revert the migrations")
    down.add_argument("revision", help="target revision; `base` removes the schema")
    down.set_defaults(handler=_db_migrate)
    cur = db_commands.add_parser("current", help="show the schema's migration")
    cur.set_defaults(handler=_db_current)
    grant = db_commands.add_parser(
        "grant-readonly",
        help="PostgreSQL: create or update a role that reads the documented views, nothing else",
        description="Create ROLE if it is missing (NOLOGIN, a group to grant to people, unless "
                    "--password), or bring it up to date: it may read the views the README "
                    "documents and nothing else (no table, no write; the raw captures only "
                    "with --with-raw). Running it again changes nothing; migrations keep its "
                    "grants. Needs a user that owns the archive (and CREATEROLE to create "
                    "the role).",
    )
    grant.add_argument("role", metavar="ROLE", help="the role's name (an SQL identifier)")
    grant.add_argument("--password", action="store_true",
                       help="give the role a password and LOGIN: asked twice on a terminal, "
                            "else read as one line from stdin")
    grant.add_argument("--with-raw", action="store_true",
                       help="also the table raw_captures (the bodies as fetched, "
                            "zstd-compressed)")
    grant.set_defaults(handler=_db_grant_readonly)


def _db_migrate(args: argparse.Namespace) -> int:
    url = database_url(args.database_url)
    _ensure_reachable(url)
    if args.db_command == "upgrade":
        migrate.upgrade(url, args.revision)
        print(f"{display_url(url)}: upgraded to {args.revision} ({migrate.head_revision()})")
    else:
        migrate.downgrade(url, args.revision)
        print(f"{display_url(url)}: downgraded to {args.revision}")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    url = database_url(args.database_url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = migrate.current_revision(conn)
    except (OperationalError, DBAPIError) as exc:
        raise unreachable(url, exc) from exc
    finally:
        engine.dispose()
    head = migrate.head_revision()
    if current is None:
        state = "no archive schema: run `archiver db upgrade`"
    elif current == head:
        state = f"at {current} (head)"
    else:
        state = f"at {current}, head is {head}: run `archiver db upgrade`"
    print(f"{display_url(url)}: {state}")
    return 0 if current == head else 1


def _ensure_reachable(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except (OperationalError, DBAPIError) as exc:
        raise unreachable(url, exc) from exc
    finally:
        engine.dispose()


def _db_grant_readonly(args: argparse.Namespace) -> int:
    from archiver.analyst import BadInput

    try:
        return _grant_readonly(args)
    except BadInput as exc:
        print(f"archiver db grant-readonly: error: {exc}", file=sys.stderr)
        return 2


def _grant_readonly(args: argparse.Namespace) -> int:
    from sqlalchemy import make_url

    from archiver.analyst import BadInput
    from archiver.analyst.roles import check_role_name, grant_readonly
    from archiver.storage.errors import SchemaMissing
    from archiver.storage.session import SCHEMA_HEAD, current_revision, describe_error

    url = database_url(args.database_url)
    if make_url(url).get_backend_name() != "postgresql":
        raise BadInput("SQLite has no roles: give analysts a copy of the file, or let them "
                       "open it read-only (sqlite3 'file:archive.db?mode=ro'); roles are for "
                       "a PostgreSQL archive")
    check_role_name(args.role)
    password = _read_password() if args.password else None
    engine = make_engine(url)
    try:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            raise unreachable(url, exc) from exc
        with conn, conn.begin():
            if current_revision(conn) != SCHEMA_HEAD:
                raise SchemaMissing(f"the database at {display_url(url)} is not at the "
                                    "latest migration: run `archiver db upgrade` first")
            report = grant_readonly(conn, args.role, password=password, with_raw=args.with_raw)
    except DBAPIError as exc:
        raise BadInput(f"cannot grant to {args.role}: {describe_error(exc)}"
                       + _privilege_hint(exc)) from None
    finally:
        engine.dispose()
    state = "created" if report.created else "updated"
    login = "LOGIN" if report.login else "NOLOGIN"
    raw = "and the raw captures (raw_captures)" if report.raw else "not the raw captures"
    print(f"{display_url(url)}: role {report.role} {state} ({login}): reads "
          f"{', '.join(report.views)}; {raw}; no table, no write")
    for leak in report.leaks:
        print(f"archiver db grant-readonly: warning: {leak}", file=sys.stderr)
    return 1 if report.leaks else 0


def _read_password() -> str:
    import getpass

    from archiver.analyst import BadInput

    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("password for the role: ")
        if getpass.getpass("again: ") != first:
            raise BadInput("the two passwords differ")
    else:
        first = (sys.stdin.readline() if sys.stdin is not None else "").rstrip("\r\n")
    if not first:
        raise BadInput("--password: the password is empty")
    return first


def _privilege_hint(exc: DBAPIError) -> str:
    code = getattr(exc.orig, "sqlstate", None)
    if code == "42501":  # insufficient_privilege
        return (" (run it as the user that owns the archive, with CREATEROLE to create a "
                "role, or have an administrator create the role first)")
    return ""
