"""archiver: keep versioned snapshots of news articles, crawled with `scrapy crawl news`.

Crawling is done with Scrapy, from the project directory (or with
SCRAPY_SETTINGS_MODULE=archiver.settings):

  scrapy crawl news -a sitemap=URL[,URL...]   sitemaps, sitemap indexes, Google News sitemaps
  scrapy crawl news -a feed=URL[,URL...]      RSS 2.0 / Atom feeds
  scrapy crawl news -a url=URL[,URL...]       article pages
  scrapy crawl news -a site=URL               the sitemaps a site's robots.txt lists
  scrapy crawl news -a source=NAME            a publisher declared in sources.toml
  scrapy crawl news -a revisit=due|all        archived articles whose next visit has come
                    [-a limit=N]              at most N article pages
                    [-s SETTING=VALUE]        any setting (see the README's Configuration)

`archiver` looks after the archive those crawls fill; `archiver COMMAND --help` says more.

exit statuses (both `archiver` and `scrapy crawl news`):
  0    success
  1    a check found a problem (health: a site flagged; identity: mixed articles;
       db current: the schema is behind; db grant-readonly: the role can do more
       than read the views)
  2    usage or configuration error, one line on stderr (arguments, unknown source, a
       setting's value, the database URL, the database unreachable or without schema,
       the extractor setting; history/diff/show: no such article, version or time)
  3    scrapy crawl: the crawl finished but nothing could be fetched (run status failed)
  4    scrapy crawl: skipped, the same job is already running (run status skipped)
  65   replay: some records were set aside in FILE.rejects (the rest loaded)
  66   replay: a spool file could not be read
  74   scrapy crawl: could not keep what was fetched (disk)
  75   scrapy crawl: the database went away mid-crawl; pages spooled (archiver replay);
       or Redis (ARCHIVER_REDIS_URL) stopped answering mid-crawl: run the job again
  130  interrupted (Ctrl-C, SIGTERM); run status interrupted

The database is ARCHIVER_DATABASE_URL (default: archive.db in the working directory), or
--database-url: sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB.
"""

# Each command lives with its group in this package (``db``, ``maintenance``, ...): a
# module adds its subcommands in ``add_commands`` and is listed in ``COMMAND_MODULES``.
# The docstring above is ``archiver --help``: its exit statuses match the README's table.

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from archiver import __version__
from archiver.crawl.extractors import ExtractorError
from archiver.crawl.preflight import EXIT_USAGE, ConfigError, check_settings, sqlite_path
from archiver.crawl.sources import SourcesError
from archiver.storage.errors import StorageError

from .maintenance import EXIT_REPLAY_NO_INPUT, EXIT_REPLAY_SET_ASIDE

__all__ = ["EXIT_REPLAY_NO_INPUT", "EXIT_REPLAY_SET_ASIDE", "build_parser", "main"]

#: The modules that add subcommands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "archiver.cli.db",
    "archiver.cli.maintenance",
    "archiver.cli.service",
    "archiver.cli.history",
    "archiver.cli.analyst",
    "archiver.cli.sources",
)


def build_parser() -> argparse.ArgumentParser:
    summary, _, rest = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(
        prog="archiver", description=summary + "\n\n" + rest.split("\nexit statuses")[0],
        epilog="exit statuses" + rest.split("\nexit statuses", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"archiver {__version__}")
    parser.add_argument(
        "--database-url", metavar="URL",
        help="the archive: sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB "
             "(default: $ARCHIVER_DATABASE_URL, else sqlite:///archive.db)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    created = None
    try:
        from archiver import settings

        check_settings(lambda name: getattr(settings, name, None))
        created = _new_sqlite_file(args.database_url)
        status = args.handler(args)
    except (StorageError, ExtractorError, ConfigError, SourcesError) as exc:
        print(f"archiver: error: {exc}", file=sys.stderr)
        status = EXIT_USAGE
    except _alembic_error() as exc:
        print(f"archiver: error: {_first_line(exc)}", file=sys.stderr)
        status = EXIT_USAGE
    except KeyboardInterrupt:
        print("archiver: interrupted", file=sys.stderr)
        status = 130
    if status and created is not None:
        _remove_if_empty(created)
    return status


def _new_sqlite_file(url: str | None) -> Path | None:
    """The SQLite file this command would create (it does not exist yet), if any."""
    from archiver.storage.session import database_url

    try:
        path = sqlite_path(database_url(url))
    except StorageError:
        return None  # reported by the command
    return path if path is not None and not path.exists() else None


def _remove_if_empty(path: Path) -> None:
    """Remove a SQLite file a failed command created and left without any table."""
    import sqlite3

    if not path.exists():
        return
    try:
        with sqlite3.connect(path) as conn:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        conn.close()
    except sqlite3.Error:
        return
    if not tables:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            leftover.unlink(missing_ok=True)


def _alembic_error() -> tuple[type[BaseException], ...]:
    from alembic.util import CommandError

    return (CommandError,)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
