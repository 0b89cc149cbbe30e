"""Crawl-run bookkeeping that tells the truth.

The crawl side (:class:`CrawlJob`): a crawl takes its job's lock before it fetches
anything, then records its run with its pid and host, and writes a heartbeat every
``ARCHIVER_HEARTBEAT_INTERVAL`` seconds until it ends. A crawl that finds the lock held
records a ``skipped`` run naming the run that holds it, and stops (exit 4), unless the
job shares its queue in Redis (archiver/service/distributed.py): then it joins the
holder's crawl, and its run's ``stats.joined`` names the holder's.

The looking side (:func:`mark_abandoned`): a ``running`` run whose process is gone is
marked ``abandoned``. On the run's own host that is certain (its pid is dead or a
zombie); from another host, its heartbeat is stale and its job's lock is free (a run
that joined a shared crawl never held the lock: its stale heartbeat is enough).
``archiver status``, the scheduler and every crawl of the same job look.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from archiver.service.jobs import job_name
from archiver.service.lock import JobLock, lock_held
from archiver.storage import models
from archiver.storage.sanitize import clean_json

logger = logging.getLogger(__name__)

#: Exit status of a crawl whose job was already running elsewhere (recorded ``skipped``).
EXIT_ALREADY_RUNNING = 4
#: Exit status of a crawl cut short by a forced (unclean) shutdown, status ``interrupted``.
EXIT_INTERRUPTED = 130

#: Run statuses that end a run badly: ``archiver status`` counts them as failures. Runs
#: stopped by an operator (``interrupted``, Scrapy's ``shutdown``), ``skipped`` and
#: ``running`` ones neither break nor extend a series of failures.
FAILED_STATUSES = frozenset({
    "failed", "abandoned", "database_unavailable", "pages_not_kept", "disk_space_low",
    "redis_unavailable",
})
NEUTRAL_STATUSES = frozenset({"running", "skipped", "interrupted", "shutdown"})
#: A heartbeat older than this many intervals is stale.
STALE_INTERVALS = 4

HOST = socket.gethostname()


class JobAlreadyRunning(Exception):
    """Another process holds the job's lock; the ``skipped`` run is :attr:`run_id`."""

    def __init__(self, job: str, run_id: int, holder: models.CrawlRun | None,
                 shares: bool = True) -> None:
        self.job = job
        self.run_id = run_id
        if holder is not None:
            by = (f"crawl run {holder.id} (pid {holder.pid} on {holder.host}, "
                  f"started {holder.started_at:%Y-%m-%d %H:%M:%S} UTC)")
        else:
            by = "another process (its run is not recorded yet)"
        unshared = "" if shares else " and shares no queue in Redis with this crawl"
        super().__init__(f"job {job!r} is already running: {by} holds its lock{unshared}; "
                         f"this crawl (run {run_id}) is skipped and fetched nothing")


def now() -> datetime:
    return datetime.now(UTC)


class CrawlJob:
    """The crawl side of a run: its job's lock, its row, its heartbeat.

    Args:
        database_url: the archive.
        Session: sessions on it.
        spider: the spider's name.
        args: the spider's arguments, as recorded in ``crawl_runs.args``.
        heartbeat: seconds between heartbeats (0: none).
        join: with a shared queue (``ARCHIVER_REDIS_URL``, archiver/service/distributed.py):
            called with the id of the run holding the lock, it says whether this crawl
            can join that run's shared crawl instead of being skipped. None: no sharing.
    """

    def __init__(self, database_url: str, Session: sessionmaker[Session], spider: str,
                 args: dict[str, Any], heartbeat: float = 30.0,
                 join: Callable[[int], bool] | None = None) -> None:
        self.database_url = database_url
        self.Session = Session
        self.spider = spider
        self.args = args
        self.job = job_name(args)
        self.heartbeat = heartbeat
        self.join = join
        #: The run holding the lock when this crawl joined it, else None.
        self.joined: int | None = None
        self.lock: JobLock | None = None
        self.run_id: int | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def start(self) -> int:
        """Take the lock, mark dead runs of the job ``abandoned``, record this run.

        Returns:
            The run's id.

        Raises:
            JobAlreadyRunning: the lock is held; a ``skipped`` run was recorded.
        """
        self.lock = JobLock.try_acquire(self.database_url, self.job)
        stats: dict[str, Any] = {}
        if self.lock is None:
            holder = self._holder()
            if self.join is not None and holder is not None and self.join(holder.id):
                self.joined = stats["joined"] = holder.id
            else:
                with self.Session() as session:
                    run_id = _add_run(session, self.spider, self.args, self.job, "skipped",
                                      {"held_by": holder.id if holder else None})
                raise JobAlreadyRunning(self.job, run_id, holder,
                                        shares=self.join is None or holder is None)
        try:
            with self.Session() as session:
                if self.lock is not None:
                    mark_abandoned(session, self.database_url, job=self.job)
                self.run_id = _add_run(session, self.spider, self.args, self.job, "running",
                                       stats)
        except BaseException:
            self.release()
            raise
        if self.heartbeat > 0:
            self._beat = threading.Thread(target=self._beating, name="archiver-heartbeat",
                                          daemon=True)
            self._beat.start()
        return self.run_id

    def _holder(self) -> models.CrawlRun | None:
        """The run holding the lock; a joiner waits a moment for it to be recorded (the
        lock is taken just before)."""
        for _ in range(25 if self.join is not None else 1):
            with self.Session() as session:
                holder = running_run(session, self.job)
                if holder is not None:
                    session.expunge(holder)
                    return holder
            if self.join is not None:
                time.sleep(0.2)
        return None

    def _beating(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                with self.Session() as session, session.begin():
                    session.execute(update(models.CrawlRun)
                                    .where(models.CrawlRun.id == self.run_id)
                                    .values(heartbeat_at=now()))
            except DBAPIError as exc:  # the database is away; the pipeline deals with it
                logger.warning("Crawl run %s: heartbeat not written: %s", self.run_id,
                               str(exc.orig or exc).strip().splitlines()[0])

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)

    def release(self) -> None:
        """Stop the heartbeat and free the lock (after the run's end is recorded)."""
        self.stop_heartbeat()
        if self.lock is not None:
            try:
                self.lock.release()
            except DBAPIError as exc:  # the connection is gone, and the lock with it
                logger.warning("Job lock of %r: %s", self.job, exc)
            self.lock = None


def _add_run(session: Session, spider: str, args: dict[str, Any], job: str, status: str,
             stats: dict[str, Any]) -> int:
    at = now()
    with session.begin():
        run = models.CrawlRun(
            spider=spider, args=clean_json(args), started_at=at, status=status, stats=stats,
            job=job, heartbeat_at=at, pid=os.getpid(), host=HOST,
            finished_at=at if status != "running" else None,
        )
        session.add(run)
        session.flush()
        return run.id


def running_run(session: Session, job: str) -> models.CrawlRun | None:
    """The latest ``running`` run of ``job`` that took its lock: the one holding it, as a
    rule (runs that joined a shared crawl never held it)."""
    for run in session.scalars(
        select(models.CrawlRun)
        .where(models.CrawlRun.job == job, models.CrawlRun.status == "running")
        .order_by(models.CrawlRun.id.desc()).limit(50)
    ):
        if not (isinstance(run.stats, dict) and run.stats.get("joined")):
            return run
    return None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie, dead but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True  # no /proc: alive, as far as one can tell


def is_abandoned(run: models.CrawlRun, database_url: str, stale_after: timedelta,
                 at: datetime | None = None) -> bool:
    """Whether a ``running`` run's process is gone (see the module's docstring)."""
    if run.host == HOST and run.pid is not None:
        return not pid_alive(run.pid)
    last = run.heartbeat_at or run.started_at
    if last > (at or now()) - stale_after:
        return False
    if isinstance(run.stats, dict) and run.stats.get("joined"):
        return True  # a worker of a shared crawl never held the lock: its heartbeat tells
    return run.job is None or not lock_held(database_url, run.job)


def mark_abandoned(session: Session, database_url: str, *, job: str | None = None,
                   heartbeat: float = 30.0) -> list[int]:
    """Mark ``abandoned`` every ``running`` run (of ``job``) whose process is gone.

    Returns:
        The ids of the runs marked.
    """
    stale_after = timedelta(seconds=heartbeat * STALE_INTERVALS)
    query = select(models.CrawlRun).where(models.CrawlRun.status == "running")
    if job is not None:
        query = query.where(models.CrawlRun.job == job)
    with session.begin():
        dead = [run for run in session.scalars(query)
                if is_abandoned(run, database_url, stale_after)]
        for run in dead:
            # Only if still running: the run may have ended while we looked.
            session.execute(
                update(models.CrawlRun)
                .where(models.CrawlRun.id == run.id, models.CrawlRun.status == "running")
                .values(status="abandoned",
                        finished_at=func.coalesce(models.CrawlRun.heartbeat_at,
                                                  models.CrawlRun.started_at))
            )
    for run in dead:
        logger.warning("Crawl run %s (job %r, pid %s on %s) was abandoned: its process is "
                       "gone", run.id, run.job, run.pid, run.host)
    return [run.id for run in dead]


def finish_interrupted(Session: sessionmaker[Session], run_id: int,
                       stats: dict[str, Any]) -> None:
    """Record that a run was cut short by a forced shutdown."""
    with Session() as session, session.begin():
        session.execute(update(models.CrawlRun).where(models.CrawlRun.id == run_id)
                        .values(status="interrupted", finished_at=now(),
                                stats=clean_json(stats)))
