"""The ``archiver`` command.

    archiver db upgrade      apply the migrations to the configured database
    archiver db current      say which migration the database is at
    archiver db downgrade R  revert the migrations down to R (``base``: drop everything)
    archiver demo            crawl a bundled demo site twice, offline, and show the archive
    archiver replay FILE...  archive what a crawl spooled while the database was down
    archiver reextract       re-read stored captures with the running extractor
    archiver health          extraction health per site (exit 1 while a site is flagged)
    archiver identity        articles whose versions came from unrelated pages (--fix: split)
    archiver schedule        run due jobs, each as its own crawl (--once: for cron)
    archiver status          jobs, sites, revisit backlog (exit 1 when a job keeps failing)
    archiver history URL     an article's versions: when, what kind of change, words +/-
    archiver diff URL [A [B]]  what changed between two versions (default: the last two)
    archiver show URL        an article as it was (--version N, --as-of TIMESTAMP)
    archiver search QUERY    full-text search over every version (--removed/--added PHRASE)

Each command lives with its group in this package (``db``, ``maintenance``, ...):
a module adds its subcommands in ``add_commands`` and is listed in ``COMMAND_MODULES``.

Exit statuses: 0 success; 1 ``health`` found a flagged site (``db current``: the schema
is behind; ``identity --check``: mixed articles found; ``identity --fix``: some could not
be split); 2 one line on stderr: the database is unreachable or behind, or the
extractor setting does not load, or ``history``/``diff``/``show`` found no such article,
version or time; 65 ``replay`` set records aside (in ``FILE.rejects``,
the rest loaded); 66 ``replay`` could not read a spool file; 130 ``reextract`` was
interrupted (what it committed is kept: run it again to continue).

The database is ``ARCHIVER_DATABASE_URL`` (default: ``archive.db`` in the working
directory), or ``--database-url``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from archiver.crawl.extractors import ExtractorError
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
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archiver", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL of the archive (default: $ARCHIVER_DATABASE_URL or sqlite:///archive.db)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
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
    try:
        return args.handler(args)
    except (StorageError, ExtractorError) as exc:
        print(f"archiver: error: {exc}", file=sys.stderr)
        return 2

