"""The ``archiver`` command.

    archiver db upgrade      apply the migrations to the configured database
    archiver db current      say which migration the database is at
    archiver db downgrade R  revert the migrations down to R (``base``: drop everything)
    archiver demo            crawl a bundled demo site twice, offline, and show the archive
    archiver replay FILE...  archive what a crawl spooled while the database was down

The database is ``ARCHIVER_DATABASE_URL`` (default: ``archive.db`` in the working
directory), or ``--database-url``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DBAPIError, OperationalError

from archiver.storage import migrate
from archiver.storage.errors import StorageError
from archiver.storage.session import database_url, display_url, make_engine, unreachable

logger = logging.getLogger("archiver")

#: Subcommands register here: name -> (configure parser, handler).
Command = Callable[[argparse.Namespace], int]


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archiver", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL of the archive (default: $ARCHIVER_DATABASE_URL or sqlite:///archive.db)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="manage the archive's schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_commands.add_parser("upgrade", help="apply the migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=_db_migrate)
    down = db_commands.add_parser("downgrade", help="revert the migrations")
    down.add_argument("revision", help="target revision; `base` removes the schema")
    down.set_defaults(handler=_db_migrate)
    cur = db_commands.add_parser("current", help="show the schema's migration")
    cur.set_defaults(handler=_db_current)

    _add_extra_commands(commands)
    return parser


def _add_extra_commands(commands: argparse._SubParsersAction) -> None:
    """Commands that live with their feature (crawl demo, replay, ...)."""
    demo = commands.add_parser(
        "demo",
        help="crawl a bundled demo site twice, offline, and show what the archive holds",
    )
    demo.set_defaults(handler=_demo)
    replay = commands.add_parser(
        "replay", help="archive the fetches a crawl spooled when the database was down"
    )
    replay.add_argument("files", nargs="+", metavar="FILE", help="spool file(s) (.jsonl)")
    replay.set_defaults(handler=_replay)


def _demo(args: argparse.Namespace) -> int:
    from archiver.demo.runner import main as run_demo

    return run_demo(database_url(args.database_url))


def _replay(args: argparse.Namespace) -> int:
    from archiver.spool import SpoolFormatError, replay

    url = database_url(args.database_url)
    status = 0
    for path in args.files:
        try:
            report = replay(path, url)
        except (OSError, SpoolFormatError) as exc:
            print(f"archiver: error: {exc}", file=sys.stderr)
            status = 1
            continue
        print(
            f"{path}: {report.records} spooled fetches, {report.written} archived, "
            f"{report.already_archived} already in the archive"
        )
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.handler(args)
    except StorageError as exc:
        print(f"archiver: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
