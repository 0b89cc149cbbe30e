"""``archiver db``: the archive's schema."""

from __future__ import annotations

import argparse

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
