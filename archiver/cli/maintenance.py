"""Commands that look after an archive: demo, replay, reextract, health, identity."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from archiver.storage.session import database_url

from .common import ProgressBar, iso_date


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Commands that live with their feature (crawl demo, replay, ...)."""
    demo = commands.add_parser(
        "demo",
        help="crawl a bundled demo site twice, offline, and show what the archive holds "
             "(into a temporary SQLite file unless --database-url is given)",
    )
    demo.set_defaults(handler=_demo)
    replay = commands.add_parser(
        "replay", help="archive the fetches a crawl spooled when the database was down"
    )
    replay.add_argument("files", nargs="+", metavar="FILE", help="spool file(s) (.jsonl)")
    replay.set_defaults(handler=_replay)

    rx = commands.add_parser(
        "reextract",
        help="re-read stored raw captures with the running extractor (ARCHIVER_EXTRACTOR)",
    )
    rx.add_argument("--site", help="only this site (domain)")
    rx.add_argument("--source", help="only this source's domains (sources.toml)")
    rx.add_argument("--since", type=iso_date, help="only captures made at or after (ISO date/time)")
    rx.add_argument("--until", type=iso_date, help="only captures made before (ISO date/time)")
    rx.add_argument("--latest-only", action="store_true",
                    help="only each article's current version (default: all versions)")
    rx.add_argument("--dry-run", action="store_true",
                    help="write nothing; print what would change per site, with example diffs")
    rx.add_argument("--workers", type=int, default=0, help="extraction processes (default: cores)")
    rx.add_argument("--batch-size", type=int, default=64, help="captures per committed batch")
    rx.add_argument("--json", action="store_true", help="print the report as JSON")
    rx.set_defaults(handler=_reextract)

    health = commands.add_parser(
        "health", help="extraction health per site; exits 1 while a site is flagged"
    )
    health.add_argument("--site", help="only this site (domain)")
    health.add_argument("--json", action="store_true", help="print the figures as JSON")
    health.set_defaults(handler=_health)

    ident = commands.add_parser(
        "identity",
        help="list articles whose versions came from different pages with unrelated texts",
    )
    mode = ident.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="list them (the default)")
    mode.add_argument("--fix", action="store_true",
                      help="split each into articles under its pages' URLs, keeping every "
                           "version and fetch (one transaction per article)")
    ident.add_argument("--json", action="store_true", help="print the report as JSON")
    ident.set_defaults(handler=_identity)


def _demo(args: argparse.Namespace) -> int:
    from archiver.demo.runner import main as run_demo

    # Only an explicit --database-url: ARCHIVER_DATABASE_URL names the real archive, and
    # the demo publisher's articles do not belong there.
    return run_demo(database_url(args.database_url) if args.database_url else None)


#: ``archiver replay``: some records were set aside in the rejects file (EX_DATAERR).
EXIT_REPLAY_SET_ASIDE = 65
#: ``archiver replay``: a spool file could not be read at all (EX_NOINPUT).
EXIT_REPLAY_NO_INPUT = 66


def _replay(args: argparse.Namespace) -> int:
    from archiver.crawl.spool import replay

    url = database_url(args.database_url)
    status = 0
    for path in args.files:
        try:
            report = replay(path, url)
        except OSError as exc:
            print(f"archiver: error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
            status = max(status, EXIT_REPLAY_NO_INPUT)
            continue
        line = (f"{path}: {report.records} spooled fetches: {report.loaded} loaded, "
                f"{report.already_present} already present, {report.set_aside} set aside")
        if report.set_aside:
            line += f" (in {report.rejects_path}, with line numbers and reasons)"
            status = max(status, EXIT_REPLAY_SET_ASIDE)
        for old, new in sorted(report.runs_recreated.items()):
            line += f"; crawl run {old} not in this database, recreated as run {new}"
        print(line)
    return status


def _reextract(args: argparse.Namespace) -> int:
    from archiver.ops.reextract import reextract

    url = database_url(args.database_url)
    # Its total comes from the run, which knows what the running extractor read already.
    bar = ProgressBar() if sys.stderr.isatty() and not args.json else None
    try:
        report = reextract(
            url, site=args.site, source=args.source, since=args.since, until=args.until,
            latest_only=args.latest_only, dry_run=args.dry_run, workers=args.workers or None,
            batch_size=max(1, args.batch_size), progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(format_reextract(report))
    if report.interrupted:
        print("archiver: reextract interrupted: committed batches are kept; run it again "
              "to continue", file=sys.stderr)
        return 130
    return 0


def format_reextract(report: Any) -> str:
    """The summary people read: totals, and per site (with examples) for a dry run."""
    head = "Dry run (nothing written): " if report.dry_run else "Re-extraction: "
    lines = [head + report.summary()]
    if report.dry_run:
        for site, counts in sorted(report.sites.items()):
            lines.append(f"  {site}: {report.summary(counts)}")
            for ex in report.examples.get(site, []):
                which = f" version {ex.version}" if ex.version else ""
                lines.append(f"    {ex.change}: {ex.url}{which}")
                lines.extend("      " + line for line in ex.diff.splitlines())
    return "\n".join(lines)


def _health(args: argparse.Namespace) -> int:
    from archiver.ops.health import site_health

    sites = site_health(database_url(args.database_url), args.site)
    if args.json:
        print(json.dumps([vars(h) for h in sites], indent=2, default=str))
    else:
        if not sites:
            print("no site has pages fetched as possible articles yet")
        for h in sites:
            fig = h.figures
            state = "FLAGGED: " + "; ".join(h.reasons) if h.flagged else "ok"
            print(f"{h.site}: {state} (latest crawl run {fig['recent_crawl_run_id']}: "
                  f"{fig['recent_pages']} pages, baseline {fig['baseline_pages'] or 0})")
    return 1 if any(h.flagged for h in sites) else 0


def _identity(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from archiver.storage.identity import check_identity

    report = check_identity(database_url(args.database_url), fix=args.fix)
    if args.json:
        print(json.dumps({"mixed": [asdict(m) for m in report.mixed],
                          "fixed": [asdict(f) for f in report.fixed]}, indent=2))
    else:
        for m in report.mixed:
            pages = ", ".join(f"{p} (versions {', '.join(map(str, v))})"
                              for p, v in m.pages.items())
            print(f"article {m.article_id} {m.url}: versions from unrelated pages: {pages}")
        for f in report.fixed:
            print(f"article {f.article_id} split: {', '.join(f.new_urls) or 'nothing moved'}"
                  + (f"; left in place (already archived): {', '.join(f.left)}"
                     if f.left else ""))
        print(f"{len(report.mixed)} mixed articles" + (
            f", {len(report.fixed)} split" if args.fix else ""))
    if args.fix:
        return 1 if report.left else 0
    return 1 if report.mixed else 0
