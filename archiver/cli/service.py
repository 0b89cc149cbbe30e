"""``archiver schedule`` and ``archiver status``: the archive run as a service."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from archiver.storage.session import database_url

#: ``archiver status``: a job failed this many times in a row (or more): exit 1.
DEFAULT_MAX_FAILURES = 3


def add_commands(commands: argparse._SubParsersAction) -> None:
    sched = commands.add_parser(
        "schedule",
        help="run each due job (sources.toml `every`, the revisit crawl) as its own crawl",
        description="Run the jobs of the sources file (each [[source]] with an "
        "`every = \"30m\"`) and the revisit crawl (ARCHIVER_REVISIT_EVERY) whenever they "
        "are due, each as its own `scrapy crawl news` process, until SIGTERM.",
    )
    sched.add_argument("--once", action="store_true",
                       help="run every job due now, wait for them, exit (for cron, timers)")
    sched.add_argument("--sources", help="the sources file (default: $ARCHIVER_SOURCES)")
    sched.add_argument("--revisit-every",
                       help="interval of the revisit crawl, or `off` "
                            "(default: $ARCHIVER_REVISIT_EVERY, 5m)")
    sched.add_argument("--max-parallel", type=int, default=4,
                       help="crawls running at once, at most (default 4)")
    sched.add_argument("--log-dir", help="where each job's output is appended "
                                         "(default: $ARCHIVER_LOG_DIR, logs)")
    sched.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                       help="a Scrapy setting for every crawl (repeatable)")
    sched.set_defaults(handler=_schedule)

    status = commands.add_parser(
        "status",
        help="jobs (last run, next due, failures in a row), sites, revisit backlog; "
             "exit 1 when a job keeps failing",
    )
    status.add_argument("--sources", help="the sources file (default: $ARCHIVER_SOURCES)")
    status.add_argument("--max-failures", type=int, default=DEFAULT_MAX_FAILURES,
                        help="exit 1 when a job failed this many times in a row "
                             f"(default {DEFAULT_MAX_FAILURES})")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=_status)


def _configured(args: argparse.Namespace) -> tuple[str, str, str]:
    from archiver import settings

    sources = args.sources or settings.ARCHIVER_SOURCES
    revisit = getattr(args, "revisit_every", None) or settings.ARCHIVER_REVISIT_EVERY
    return database_url(args.database_url), sources, revisit


def _schedule(args: argparse.Namespace) -> int:
    from archiver import settings
    from archiver.service.jobs import JobsError
    from archiver.service.scheduler import Scheduler
    from archiver.storage.session import check_database, make_engine

    url, sources, revisit = _configured(args)
    logging.getLogger("archiver.service").setLevel(logging.INFO)
    engine = make_engine(url)
    try:
        check_database(engine)  # one line and exit 2 if it is not there
    finally:
        engine.dispose()
    scheduler = Scheduler(url, sources, revisit, settings=args.settings,
                          log_dir=args.log_dir or settings.ARCHIVER_LOG_DIR,
                          max_parallel=args.max_parallel,
                          heartbeat=float(settings.ARCHIVER_HEARTBEAT_INTERVAL))
    try:
        scheduler.jobs()
    except JobsError as exc:
        print(f"archiver: error: {exc}", file=sys.stderr)
        return 2
    scheduler.handle_signals()
    return scheduler.run_once() if args.once else scheduler.run_forever()


def _status(args: argparse.Namespace) -> int:
    from archiver import settings
    from archiver.service.jobs import JobsError, load_jobs
    from archiver.service.status import collect, render
    from archiver.storage.session import check_database, make_engine, make_sessionmaker

    url, sources, revisit = _configured(args)
    try:
        jobs = load_jobs(sources, revisit)
    except JobsError as exc:
        print(f"archiver: error: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(url)
    try:
        check_database(engine)
        with make_sessionmaker(engine)() as session:
            status = collect(session, url, jobs,
                             heartbeat=float(settings.ARCHIVER_HEARTBEAT_INTERVAL))
    finally:
        engine.dispose()
    if args.json:
        report = status.to_dict()
        report["failing"] = [j.job for j in status.failing(args.max_failures)]
        print(json.dumps(report, indent=2))
    else:
        print(render(status, args.max_failures))
    return 1 if status.failing(args.max_failures) else 0
