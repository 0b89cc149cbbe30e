"""``archiver schedule``: run each due job as its own ``scrapy crawl`` process.

Why a loop of our own rather than a scheduling library (APScheduler, schedule): when a
job is due is not the scheduler's memory but the archive's. A job is due when its last
run (``crawl_runs``, whoever started it: this scheduler, cron, a person) started
``every`` ago, so a restarted scheduler, ``--once`` from cron and several schedulers
agree without a job store of their own; the job lock (archiver/service/lock.py) keeps two
of them from running one job. What is left (start processes, reap them, sleep until the
next job is due) is a short loop; a library would add a second notion of "last run" to
keep in step with the archive's.

Each job runs as ``python -m scrapy crawl news -a ...`` in a session of its own, its
output appended to ``<log dir>/<job>.log``; a crash in one never reaches the scheduler.
One line per job start and end. SIGTERM or Ctrl-C: no new job starts, the running crawls
get SIGTERM (they finish what they hold, spool what they cannot write) and the scheduler
waits for them; a second signal forces them (they spool and exit 130).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from archiver.service.jobs import Job, JobsError, load_jobs
from archiver.service.runs import mark_abandoned, now
from archiver.service.status import job_state
from archiver.storage import models
from archiver.storage.errors import StorageError
from archiver.storage.sanitize import clean_json
from archiver.storage.session import display_url, make_engine, make_sessionmaker

logger = logging.getLogger(__name__)

#: Longest sleep between two looks at what is due (the sources file is re-read each time).
TICK = 30.0
#: Touched on every look, so a health check can tell a stuck scheduler.
ALIVE_FILE = "scheduler.alive"


@dataclass
class Launched:
    job: Job
    proc: subprocess.Popen[bytes]
    log: Path
    #: The highest crawl-run id when the job started: its own run comes after.
    after_run: int
    started: float = field(default_factory=time.monotonic)


@dataclass
class Ended:
    job: str
    exit_status: int
    run_id: int | None
    run_status: str
    seconds: float


def _slug(job: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", job)[:120] or "job"


class Scheduler:
    """Starts due jobs, reaps them, and records what it sees.

    Args:
        database_url: the archive (each crawl gets it as ``ARCHIVER_DATABASE_URL``).
        sources: the sources file the jobs come from.
        revisit_every: the revisit crawl's interval (``off``: none).
        settings: ``NAME=VALUE`` Scrapy settings passed to every crawl (``-s``).
        log_dir: where each job's output is appended.
        max_parallel: crawls running at once, at most.
        heartbeat: the crawls' heartbeat interval, to tell abandoned runs.
    """

    def __init__(self, database_url: str, sources: str | Path, revisit_every: str | None, *,
                 settings: list[str] | None = None, log_dir: str | Path = "logs",
                 max_parallel: int = 4, heartbeat: float = 30.0) -> None:
        self.database_url = database_url
        self.sources = Path(sources).absolute()
        self.revisit_every = revisit_every
        self.settings = settings or []
        self.log_dir = Path(log_dir)
        self.max_parallel = max(1, max_parallel)
        self.heartbeat = heartbeat
        self.engine = make_engine(database_url)
        self.Session = make_sessionmaker(self.engine)
        self.running: dict[str, Launched] = {}
        self.ended: list[Ended] = []
        self.stop = threading.Event()
        self._signals = 0
        self._jobs: list[Job] | None = None
        self._jobs_error: str | None = None

    # --- what is due -----------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """The jobs, read again from the sources file. Once running, a file that became
        unreadable keeps the last good jobs (one error line per new problem).

        Raises:
            JobsError: on the first read only.
        """
        try:
            self._jobs = load_jobs(self.sources, self.revisit_every)
            self._jobs_error = None
        except JobsError as exc:
            if self._jobs is None:
                raise
            if str(exc) != self._jobs_error:
                logger.error("%s; keeping the jobs read before", exc)
                self._jobs_error = str(exc)
        return self._jobs

    def due(self, jobs: list[Job]) -> tuple[list[Job], datetime | None]:
        """The jobs due now (not running anywhere), and when the next one is due."""
        at = now()
        due, upcoming = [], []
        with self.Session() as session:
            mark_abandoned(session, self.database_url, heartbeat=self.heartbeat)
            for job in jobs:
                if job.name in self.running:
                    continue
                state = job_state(session, job.name, job.every, at)
                if state.running:
                    continue  # someone else runs it; its end makes it due again
                assert state.next_due is not None
                if state.next_due <= at:
                    due.append(job)
                else:
                    upcoming.append(state.next_due)
        return due, min(upcoming, default=None)

    # --- processes -------------------------------------------------------------------------

    def command(self, job: Job) -> list[str]:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "news"]
        for name, value in job.args.items():
            cmd += ["-a", f"{name}={value}"]
        for setting in self.settings:
            cmd += ["-s", setting]
        return cmd

    def launch(self, job: Job) -> None:
        with self.Session() as session:
            after = session.scalar(select(func.max(models.CrawlRun.id))) or 0
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{_slug(job.name)}.log"
        env = dict(os.environ, ARCHIVER_DATABASE_URL=self.database_url,
                   ARCHIVER_SOURCES=str(self.sources),
                   SCRAPY_SETTINGS_MODULE=os.environ.get("SCRAPY_SETTINGS_MODULE",
                                                         "archiver.settings"))
        with open(log, "ab") as out:
            # A session of its own: a Ctrl-C in the scheduler's terminal reaches the
            # scheduler, which decides what the crawls get.
            proc = subprocess.Popen(self.command(job), stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.running[job.name] = Launched(job, proc, log, after)
        logger.info("job %s: started (pid %d, log %s)", job.name, proc.pid, log)

    def reap(self) -> list[Ended]:
        """Collect the crawls that ended, each with one log line; record a run for a crawl
        that ended without recording one (it failed before it could)."""
        ended = []
        for name, launched in list(self.running.items()):
            code = launched.proc.poll()
            if code is None:
                continue
            del self.running[name]
            seconds = time.monotonic() - launched.started
            run_id, run_status = self._run_of(launched, code)
            end = Ended(name, code, run_id, run_status, round(seconds, 1))
            ended.append(end)
            (logger.info if code in (0, 4) else logger.error)(
                "job %s: ended, exit status %d, run %s %s, %.0fs", name, code, run_id,
                run_status, seconds)
        self.ended += ended
        return ended

    def _run_of(self, launched: Launched, code: int) -> tuple[int | None, str]:
        try:
            with self.Session() as session:
                run = session.scalars(
                    select(models.CrawlRun)
                    .where(models.CrawlRun.job == launched.job.name,
                           models.CrawlRun.id > launched.after_run)
                    .order_by(models.CrawlRun.id.desc()).limit(1)
                ).first()
                if run is not None:
                    return run.id, run.status
                # It stopped before it could record a run (a bad source, a crash): the
                # scheduler records one, so the failure shows in `archiver status`.
                with session.begin():
                    at = now()
                    row = models.CrawlRun(
                        spider="news", args=clean_json(launched.job.args), job=launched.job.name,
                        started_at=at - timedelta(seconds=time.monotonic() - launched.started),
                        finished_at=at, status="failed",
                        stats={"exit_status": code, "error": _last_line(launched.log)},
                    )
                    session.add(row)
                    session.flush()
                    return row.id, row.status
        except DBAPIError as exc:
            logger.error("job %s: its run could not be read or recorded: %s",
                         launched.job.name, str(exc.orig or exc).strip().splitlines()[0])
            return None, "unknown"

    def signal_crawls(self, sig: int) -> None:
        for launched in self.running.values():
            try:
                launched.proc.send_signal(sig)
            except ProcessLookupError:
                pass

    # --- loops -----------------------------------------------------------------------------

    def run_once(self) -> int:
        """Run every job that is due now, wait for them, return 0 if each ended with 0 or
        4 (skipped: another process runs it), else 1."""
        jobs = self.jobs()
        due, upcoming = self.due(jobs)
        if not due:
            nxt = f"; next due at {upcoming:%Y-%m-%d %H:%M:%S} UTC" if upcoming else ""
            logger.info("nothing is due (%d jobs)%s", len(jobs), nxt)
            return 0
        queue = list(due)
        while (queue or self.running) and not self.stop.is_set():
            while queue and len(self.running) < self.max_parallel:
                self.launch(queue.pop(0))
            self.stop.wait(0.5)
            self.reap()
        self._wind_down()
        return 0 if all(e.exit_status in (0, 4) for e in self.ended) and not queue else 1

    def run_forever(self) -> int:
        """Start due jobs as they come due until SIGTERM/SIGINT, then wind down."""
        logger.info("scheduler: %s, jobs from %s, revisits every %s",
                    display_url(self.database_url), self.sources, self.revisit_every or "off")
        while not self.stop.is_set():
            self.reap()
            self.alive()
            wait = TICK
            try:
                due, upcoming = self.due(self.jobs())
                for job in due:
                    if len(self.running) >= self.max_parallel:
                        wait = 1.0
                        break
                    self.launch(job)
                if upcoming is not None:
                    wait = min(wait, max(1.0, (upcoming - now()).total_seconds()))
            except (DBAPIError, StorageError) as exc:
                # PostgreSQL restarting: say so once a tick, go on; crawls spool meanwhile.
                first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
                logger.error("database unavailable (%s); trying again in %.0fs",
                             first[0] if first else type(exc).__name__, wait)
            if self.running:
                wait = min(wait, 1.0)
            self.stop.wait(wait)
        self._wind_down()
        logger.info("scheduler: stopped")
        return 0

    def alive(self) -> None:
        """Touch ``<log dir>/scheduler.alive`` (a container health check reads its age)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.log_dir / ALIVE_FILE).touch()

    def _wind_down(self) -> None:
        if self.running:
            logger.info("scheduler: stopping; waiting for %d running crawl(s) to end",
                        len(self.running))
            self.signal_crawls(signal.SIGTERM)
        while self.running:
            time.sleep(0.5)
            self.reap()
        self.engine.dispose()

    def handle_signals(self) -> None:
        """SIGTERM/SIGINT: stop starting jobs and tell the crawls; a second one forces."""

        def handler(signum: int, frame: Any) -> None:
            self._signals += 1
            self.stop.set()
            if self._signals > 1:
                self.signal_crawls(signal.SIGTERM)  # their second: a forced shutdown

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


def _last_line(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 4096))
            lines = [l for l in f.read().decode("utf-8", "replace").splitlines() if l.strip()]
    except OSError:
        return ""
    return lines[-1][-500:] if lines else ""
