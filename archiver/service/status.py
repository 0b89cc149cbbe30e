"""``archiver status``: per job, its last run, when it is due next and its failures in a
row; per site, fetches and errors in the last day; the revisit backlog.

Looking first marks ``abandoned`` the runs whose process is gone
(:func:`archiver.service.runs.mark_abandoned`), so a killed crawl is never reported
``running``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from archiver.service.jobs import Job
from archiver.service.runs import FAILED_STATUSES, NEUTRAL_STATUSES, mark_abandoned, now
from archiver.storage import models

#: Runs looked at per job to count failures in a row.
HISTORY = 50
#: Counts of a run's stats shown with its last run.
SHOWN_COUNTS = ("fetched", "new_articles", "new_versions", "unchanged", "not_modified",
                "gone", "errors", "spooled", "not_kept")


@dataclass
class RunSummary:
    id: int
    status: str
    started_at: datetime
    seconds: float | None
    counts: dict[str, int]


@dataclass
class JobState:
    job: str
    #: The interval it is scheduled at (None: not in the schedule, only seen in runs).
    every: timedelta | None
    last_run: RunSummary | None
    next_due: datetime | None
    failures_in_a_row: int
    running: bool


@dataclass
class SiteDay:
    site: str
    fetches: int
    errors: int
    #: The hours it edits in, as the revisit policy learned them ("08:00-21:00 UTC"),
    #: or None while it has none (archiver/storage/schedule.py).
    edit_hours: str | None = None


@dataclass
class Status:
    at: datetime
    jobs: list[JobState] = field(default_factory=list)
    sites: list[SiteDay] = field(default_factory=list)
    revisits_due: int = 0
    abandoned: list[int] = field(default_factory=list)

    def failing(self, max_failures: int) -> list[JobState]:
        """Jobs that failed ``max_failures`` times in a row or more."""
        return [j for j in self.jobs if j.failures_in_a_row >= max_failures]

    def to_dict(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, timedelta):
                return value.total_seconds()
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            return value

        return clean(asdict(self))


def job_state(session: Session, job: str, every: timedelta | None,
              at: datetime | None = None) -> JobState:
    """What the runs of ``job`` say: its last run (``skipped`` ones aside), whether one
    runs, when it is due (its last start plus ``every``; now if it never ran)."""
    at = at or now()
    runs = list(session.scalars(
        select(models.CrawlRun).where(models.CrawlRun.job == job)
        .order_by(models.CrawlRun.id.desc()).limit(HISTORY)
    ))
    real = [r for r in runs if r.status != "skipped"]
    last = real[0] if real else None
    failures = 0
    for run in runs:
        if run.status in NEUTRAL_STATUSES:
            continue
        if run.status not in FAILED_STATUSES:
            break
        failures += 1
    summary = None
    if last is not None:
        stats = last.stats or {}
        end = last.finished_at
        summary = RunSummary(
            id=last.id, status=last.status, started_at=last.started_at,
            seconds=round((end - last.started_at).total_seconds(), 1) if end else None,
            counts={k: stats[k] for k in SHOWN_COUNTS if isinstance(stats.get(k), int)},
        )
    next_due = None
    if every is not None:
        next_due = last.started_at + every if last is not None else at
    return JobState(job=job, every=every, last_run=summary, next_due=next_due,
                    failures_in_a_row=failures,
                    running=any(r.status == "running" for r in runs))


def collect(session: Session, database_url: str, jobs: list[Job], *, heartbeat: float = 30.0,
            at: datetime | None = None) -> Status:
    """The whole status: the scheduled ``jobs`` first, then every other job runs name."""
    at = at or now()
    status = Status(at=at, abandoned=mark_abandoned(session, database_url,
                                                    heartbeat=heartbeat))
    scheduled = {j.name: j for j in jobs}
    seen = [name for name in session.scalars(
        select(models.CrawlRun.job).where(models.CrawlRun.job.is_not(None))
        .group_by(models.CrawlRun.job).order_by(func.max(models.CrawlRun.id).desc())
    ) if name not in scheduled]
    for name in [*scheduled, *seen]:
        job = scheduled.get(name)
        status.jobs.append(job_state(session, name, job.every if job else None, at))
    errors = func.sum(case((models.Fetch.outcome == "error", 1), else_=0))
    for domain, fetches, errs in session.execute(
        select(models.Site.domain, func.count(), errors)
        .join(models.Fetch, models.Fetch.site_id == models.Site.id)
        .where(models.Fetch.fetched_at >= at - timedelta(days=1))
        .group_by(models.Site.domain).order_by(func.count().desc())
    ):
        status.sites.append(SiteDay(domain, fetches, int(errs or 0)))
    learned = dict(session.execute(
        select(models.Site.domain, models.SiteEditHours.weights)
        .join(models.SiteEditHours, models.SiteEditHours.site_id == models.Site.id)
        .where(models.Site.domain.in_([s.site for s in status.sites]))
    ).all())
    for site in status.sites:
        site.edit_hours = working_hours(learned.get(site.site))
    status.revisits_due = session.scalar(
        select(func.count()).select_from(models.Article)
        .where(models.Article.next_visit_at <= at)
    ) or 0
    return status


def working_hours(weights: list[float] | None) -> str | None:
    """A site's learned hours as people read them: the hours whose edit rate is at least
    half the day's mean, as ranges (``"08:00-21:00 UTC"``; ``"22:00-02:00"`` across
    midnight); None when every hour is (or none is)."""
    if not weights or len(weights) != 24:
        return None
    mean = sum(weights) / 24
    busy = [w >= mean / 2 for w in weights]
    if all(busy) or not any(busy):
        return None
    start = busy.index(False)  # walk from a quiet hour, so no range is cut at midnight
    ranges, first = [], None
    for step in range(1, 25):
        h = (start + step) % 24
        if busy[h] and first is None:
            first = h
        if not busy[h] and first is not None:
            ranges.append(f"{first:02d}:00-{h:02d}:00")
            first = None
    return ", ".join(ranges) + " UTC"


def _ago(at: datetime, then: datetime) -> str:
    seconds = (at - then).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{seconds / size:.0f}{unit}"
            break
    else:
        text = f"{seconds:.0f}s"
    return f"in {text}" if future else f"{text} ago"


def render(status: Status, max_failures: int) -> str:
    """The status as text for people."""
    at = status.at
    lines = [f"Jobs ({len(status.jobs)}):"]
    if not status.jobs:
        lines.append("  none scheduled and none run yet")
    for j in status.jobs:
        every = f"every {_interval(j.every)}" if j.every else "not scheduled"
        lines.append(f"  {j.job}  [{every}]")
        if j.last_run is None:
            lines.append("    never ran")
        else:
            r = j.last_run
            took = f", took {r.seconds:.0f}s" if r.seconds is not None else ""
            counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in r.counts.items() if v)
            lines.append(f"    last run {r.id}: {r.status}, started "
                         f"{_ago(at, r.started_at)}{took}" + (f"; {counts}" if counts else ""))
        if j.next_due is not None:
            due = "due now" if j.next_due <= at else f"due {_ago(at, j.next_due)}"
            lines.append(f"    next: {'running' if j.running else due}")
        if j.failures_in_a_row:
            mark = "  << FAILING" if j.failures_in_a_row >= max_failures else ""
            lines.append(f"    failed {j.failures_in_a_row} time(s) in a row{mark}")
    lines.append("Sites, last 24 hours:")
    if not status.sites:
        lines.append("  no article fetches")
    for s in status.sites:
        hours = f"; edits {s.edit_hours}" if s.edit_hours else ""
        lines.append(f"  {s.site}: {s.fetches} fetches, {s.errors} errors{hours}")
    lines.append(f"Revisit backlog: {status.revisits_due} articles due now")
    if status.abandoned:
        lines.append("Marked abandoned (their process is gone): runs "
                     + ", ".join(map(str, status.abandoned)))
    return "\n".join(lines)


def _interval(every: timedelta) -> str:
    seconds = int(every.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
