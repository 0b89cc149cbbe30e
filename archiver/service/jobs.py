"""Jobs: what the scheduler runs and what a job lock is named after.

A job is a crawl's normalised arguments: the sources, listing and article URLs and the
revisit scope, sorted, without what does not change *what* is crawled (``limit``). Two
crawls with the same job would fetch the same pages, so only one runs at a time.
``sources.toml`` gives a source an interval (``every = "30m"``) to make it a scheduled
job; the revisit crawl (``-a revisit=due``) is one more, every
``ARCHIVER_REVISIT_EVERY``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from archiver.crawl.sources import SourcesError, load_sources
from archiver.urls import normalise_url

#: Spider arguments that name what a crawl fetches, in the order a job name lists them.
JOB_ARGUMENTS = ("revisit", "source", "sitemap", "feed", "site", "url")
_URL_ARGUMENTS = {"sitemap", "feed", "site", "url"}

_INTERVAL = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class JobsError(ValueError):
    """The scheduled jobs cannot be read: a malformed interval, a bad sources file."""


def _values(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _normal(key: str, value: str) -> str:
    if key in _URL_ARGUMENTS and "://" in value:
        try:
            return normalise_url(value)
        except ValueError:
            return value
    return value.lower() if key in ("site", "revisit") else value


def job_name(args: Mapping[str, Any]) -> str:
    """The job a crawl with these spider arguments belongs to, e.g.
    ``source=example-news`` or ``revisit=due site=example.com``.

    Values are split on commas, normalised (URLs as the archive names them), de-duplicated
    and sorted, so ``-a source=b,a`` and ``-a source=a -a source=b`` are one job.
    """
    parts = []
    for key in JOB_ARGUMENTS:
        values = sorted({_normal(key, v) for v in _values(args.get(key))})
        if values:
            parts.append(f"{key}={','.join(values)}")
    return " ".join(parts)


def job_arguments(name: str) -> dict[str, str]:
    """The ``-a`` arguments of a job name (the inverse of :func:`job_name`)."""
    out = {}
    for part in name.split(" "):
        key, _, value = part.partition("=")
        if key in JOB_ARGUMENTS and value:
            out[key] = value
    return out


def parse_interval(text: Any) -> timedelta:
    """``"30m"``, ``"2h"``, ``"1h30m"``, ``"1d"``, ``"90s"``, ``"1w"`` as a timedelta.

    Raises:
        JobsError: anything else, or an interval of zero.
    """
    if isinstance(text, str):
        compact = text.strip().lower()
        if compact and _INTERVAL.sub("", compact).strip() == "":
            seconds = sum(int(n) * _UNITS[u] for n, u in _INTERVAL.findall(compact))
            if seconds > 0:
                return timedelta(seconds=seconds)
    raise JobsError(
        f"{text!r} is not an interval: write a number and a unit, s, m, h, d or w "
        f"(\"30m\", \"2h\", \"1h30m\", \"1d\")"
    )


@dataclass(frozen=True, slots=True)
class Job:
    """A scheduled crawl: its name, its spider arguments and how often it is due."""

    name: str
    every: timedelta
    args: dict[str, str] = field(default_factory=dict)


def revisit_job(every: timedelta) -> Job:
    args = {"revisit": "due"}
    return Job(job_name(args), every, args)


def load_jobs(sources_path: str | Path, revisit_every: str | None) -> list[Job]:
    """The scheduled jobs: each source of ``sources_path`` with an ``every``, then the
    revisit crawl every ``revisit_every`` (``off``, ``0`` or empty: none).

    Raises:
        JobsError: the sources file cannot be read, or an interval is malformed (the
        message names the source and the file).
    """
    jobs = []
    try:
        sources = load_sources(sources_path) if Path(sources_path).exists() else {}
    except SourcesError as exc:
        raise JobsError(str(exc)) from exc
    for source in sources.values():
        if source.every is None:
            continue  # crawled by hand only
        try:
            every = parse_interval(source.every)
        except JobsError as exc:
            raise JobsError(f"{sources_path}: source {source.name!r}: every: {exc}") from None
        args = {"source": source.name}
        jobs.append(Job(job_name(args), every, args))
    if revisit_every and revisit_every.strip().lower() not in ("off", "0", "none", "no"):
        try:
            jobs.append(revisit_job(parse_interval(revisit_every)))
        except JobsError as exc:
            raise JobsError(f"ARCHIVER_REVISIT_EVERY: {exc}") from None
    return jobs
