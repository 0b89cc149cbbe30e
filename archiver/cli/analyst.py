"""Commands for analysts: ``search`` (and ``--removed``/``--added``), ``export``.

Each parses its arguments, calls a function of ``archiver.analyst`` and formats what it
returns. Bad input (a query with unbalanced quotes, a timestamp that does not parse, an
unknown format, an output that cannot be written) is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import Any

from archiver.analyst import BadInput

#: The usage exit status (argparse's).
EXIT_USAGE = 2


def add_commands(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser(
        "search",
        help="full-text search over every version; --removed/--added: who took a phrase out",
        description="Web-search syntax: words (all must match), \"a phrase\", -excluded, "
                    "a or b. Latest versions by default.",
    )
    search.add_argument("query", nargs="?", help='e.g. \'"night bus" council -strike\'')
    change = search.add_mutually_exclusive_group()
    change.add_argument("--removed", metavar="PHRASE",
                        help="versions that no longer hold a phrase their previous version held")
    change.add_argument("--added", metavar="PHRASE",
                        help="versions that hold a phrase their previous version did not")
    _selection_arguments(search)
    search.add_argument("--limit", type=int, default=20,
                        help="at most this many results (default 20; 0: all)")
    search.add_argument("--json", action="store_true", help="print JSON lines")
    search.set_defaults(handler=_usage_errors(_search))

    export = commands.add_parser(
        "export", help="stream versions out as JSONL, CSV or WARC 1.1 (file or stdout)",
        description="Each article's current version by default. The file appears only "
                    "when complete; a name ending in .gz is gzip-compressed.",
    )
    export.add_argument("--format", required=True, metavar="FORMAT",
                        help="jsonl, csv or warc")
    export.add_argument("-o", "--output", metavar="FILE", help="default: stdout")
    export.add_argument("--source", help="only this source's domains (sources.toml)")
    _selection_arguments(export)
    export.set_defaults(handler=_usage_errors(_export))


def _selection_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all-versions", action="store_true",
                       help="every version (default: each article's current one)")
    which.add_argument("--as-of", metavar="T",
                       help="each article's version current at T (ISO date/time, UTC)")
    parser.add_argument("--site", help="only this site (domain)")
    parser.add_argument("--since", metavar="T", help="only versions captured at or after T")
    parser.add_argument("--until", metavar="T", help="only versions captured before T")


def _usage_errors(handler: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except BadInput as exc:
            print(f"archiver {args.command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return run


def _selection(args: argparse.Namespace, *, default_all: bool = False) -> Any:
    from archiver.analyst.select import Selection, parse_time

    return Selection(
        all_versions=args.all_versions or default_all,
        as_of=parse_time(args.as_of, "--as-of") if args.as_of else None,
        site=args.site,
        domains=_source_domains(args),
        since=parse_time(args.since, "--since") if args.since else None,
        until=parse_time(args.until, "--until") if args.until else None,
    )


def _source_domains(args: argparse.Namespace) -> tuple[str, ...]:
    name = getattr(args, "source", None)
    if not name:
        return ()
    from archiver import settings
    from archiver.crawl.sources import SourcesError, get_source

    try:
        source = get_source(settings.ARCHIVER_SOURCES, name)
    except SourcesError as exc:
        raise BadInput(str(exc)) from None
    if not source.domains:
        raise BadInput(f"source {name!r} declares no domains to filter by")
    return source.domains


def _search(args: argparse.Namespace) -> int:
    from archiver.analyst.search import changes, parse_query, search
    from archiver.analyst.select import read_engine

    phrase = args.removed or args.added
    if phrase is None and not args.query:
        raise BadInput("say what to search for: a QUERY, --removed PHRASE or --added PHRASE")
    if phrase is not None and args.query:
        raise BadInput("give a QUERY or --removed/--added PHRASE, not both")
    if args.limit < 0:
        raise BadInput(f"--limit: not a number of results (0 or more): {args.limit}")
    limit = args.limit or None
    if phrase is None:
        parse_query(args.query)  # bad input is reported before connecting
    selection = _selection(args, default_all=phrase is not None)
    engine = read_engine(args.database_url)
    try:
        with engine.connect() as conn:
            if phrase is None:
                for hit in search(conn, args.query, selection, limit=limit):
                    _print_hit(hit, args.json)
            else:
                for change in changes(conn, phrase, removed=args.removed is not None,
                                      selection=selection, limit=limit):
                    _print_change(change, args.json)
    finally:
        engine.dispose()
    return 0


def _export(args: argparse.Namespace) -> int:
    from archiver.analyst.export import FORMATS, count, export
    from archiver.analyst.select import read_engine

    from .common import ProgressBar

    if args.format not in FORMATS:
        raise BadInput(f"unknown export format {args.format!r} (one of: {', '.join(FORMATS)})")
    selection = _selection(args)
    engine = read_engine(args.database_url)
    bar = None
    try:
        with engine.connect() as conn:
            if sys.stderr.isatty():
                bar = ProgressBar(count(conn, selection))
            report = export(conn, args.format, args.output, selection, progress=bar)
    finally:
        if bar is not None:
            bar.close()
        engine.dispose()
    if args.output not in (None, "-"):
        extra = (f" ({report.without_capture} without a raw capture, not in the WARC)"
                 if report.without_capture else "")
        print(f"{args.output}: {report.versions} versions{extra}", file=sys.stderr)
    return 0


def _print_hit(hit: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps({**vars(hit), "captured_at": hit.captured_at.isoformat()},
                         ensure_ascii=False))
        return
    print(f"{hit.url}  v{hit.version}  {hit.captured_at:%Y-%m-%d %H:%M}Z  {hit.title or ''}")
    print(f"    {' '.join(hit.snippet.split())}")


def _print_change(change: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps({**vars(change), "captured_at": change.captured_at.isoformat()},
                         ensure_ascii=False))
        return
    print(f"{change.url}  v{change.before_version} -> v{change.after_version}  "
          f"{change.captured_at:%Y-%m-%d %H:%M}Z")
    print(f"    before: {change.sentence_before or '(nothing)'}")
    print(f"    after:  {change.sentence_after or '(nothing)'}")
