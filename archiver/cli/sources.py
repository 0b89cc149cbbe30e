"""``archiver sources``: the publishers ``sources.toml`` declares, for ``-a source=NAME``."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from archiver.crawl.sources import Source, load_sources


def add_commands(commands: argparse._SubParsersAction) -> None:
    cmd = commands.add_parser(
        "sources",
        help="list the publishers the sources file declares (crawl one with "
             "`scrapy crawl news -a source=NAME`)",
    )
    cmd.add_argument(
        "--file", metavar="PATH",
        help="the sources file (default: $ARCHIVER_SOURCES, else sources.toml)",
    )
    cmd.add_argument("--json", action="store_true", help="print every field as JSON")
    cmd.set_defaults(handler=_sources)


def _sources(args: argparse.Namespace) -> int:
    from archiver import settings

    path = args.file or settings.ARCHIVER_SOURCES
    sources = load_sources(path)  # SourcesError: one line, exit 2
    if args.json:
        print(json.dumps([asdict(s) for s in sources.values()], indent=2, default=str))
        return 0
    if not sources:
        print(f"{path} declares no [[source]]")
    for source in sources.values():
        print(describe(source))
    return 0


def describe(source: Source) -> str:
    """One line per source: its name, domains and what a crawl of it reads."""
    parts = [
        f"{len(values)} {label}" for label, values in (
            ("sitemaps", source.sitemaps), ("feeds", source.feeds),
            ("start pages", source.start_pages), ("URLs", source.urls),
        ) if values
    ]
    line = f"{source.name}: {', '.join(source.domains) or 'no domains'}"
    line += f" ({'; '.join(parts) or 'nothing to crawl'})"
    if source.extractor:
        line += f", extractor {source.extractor}"
    return line
