"""The revisit policy: when to fetch an archived article again, from its own history.

A pure function (no clock, no database, no Scrapy): the crawl stores its answer as the
article's ``next_visit_at`` after every fetch, and ``bench/revisit.py`` measures it on
simulated edit traces beside NewsDiffs's fixed age-based schedule.

Why this shape
--------------
How edits arrive (newsroom practice, and what NewsDiffs-style trackers record):

* Most edits come within hours of publication (typos, a better headline, the story
  developing), and they come in bursts: one edit is often followed by another within the
  hour. So right after publication *and right after any change we observe* the article is
  watched closely: every ``min_interval`` during ``hot_for``.
* After that the chance of an edit falls off roughly as 1/age, a long tail of corrections
  days or weeks later. With a hazard ~ 1/t, an interval proportional to the time since the
  last change (``growth`` * quiet time) spends the same expected number of edits per fetch
  at every age, which is what an even detection delay costs least. NewsDiffs's steps
  (15 min, 30 min, 2 h, 1 day, 1 week) approximate the same curve with far more fetches in
  the first week, when the tail is already thin.
* The article's own history sharpens the guess. An article that has already changed
  several times after its first capture belongs to a heavy editor (live pages, developing
  stories): its intervals grow more slowly (``growth`` divided by one plus the number of
  changes seen in the last ``remember``, a day, down to ``heavy_growth``), and with
  ``busy_changes`` (3) changes in that day it is checked at least every ``busy_interval``
  (30 min, NewsDiffs's rate for the day after a change): edits in a burst come minutes
  apart, so the first edit of a new burst is lost whenever the check after it comes
  later than the second. Two changes are not yet a heavy editor: an article corrected
  twice in its first hours is the common case, and treating it as busy for a day costs
  a fifth more fetches for almost nothing caught. An article that never changed after
  capture grows at the full rate: most articles, and the cheap ones.
* Quiet time is measured from the last change, but never from before publication, and
  the intervals are clamped to ``[min_interval, max_interval]`` (15 min, 14 days). An
  article found while still fresh (within ``hot_for`` of its publication) is watched
  closely for ``hot_for`` from our first capture: we missed its first minutes, not its
  hot hours (listings take up to an hour to show an article). One found later counts
  its quiet time from publication: it is not fresh just because we found it today.
* An article quiet for ``follow_for`` (counted from our first capture at the earliest)
  is no longer followed (``None``): past that, a correction is rare enough that a listing
  mentioning the article again, or a full ``revisit=all`` sweep, is the cheaper way to
  find it. Checks two weeks apart before that catch a late correction just as surely
  (a lone correction is never lost, only seen later), for half the fetches of weekly ones.

What the bench shows it does not do (bench/revisit.py, held-out block): newsrooms whose
heavy editors start new bursts after hours of quiet lose more versions than
NewsDiffs's 30-minute checks (1-1.5% of what NewsDiffs catches), and an article edited once, hours after publication, is
caught later (median ~1.5 h instead of ~13 min): both would need NewsDiffs's dense
first day for every article, which is what the policy exists to avoid.

Everything is a keyword argument with a default; ``[[source]]`` tables in sources.toml
(``revisit_min_interval`` ...) and ``ARCHIVER_REVISIT_*`` settings override them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

#: Defaults, tuned with bench/revisit.py (see its table in the module docstring there).
MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(days=14)
HOT_FOR = timedelta(hours=3)
GROWTH = 0.8
HEAVY_GROWTH = 0.1
FOLLOW_FOR = timedelta(days=60)
REMEMBER = timedelta(hours=24)
BUSY_CHANGES = 3
BUSY_INTERVAL = timedelta(minutes=30)


def next_visit(
    published_at: datetime | None,
    visits: Sequence[tuple[datetime, bool]],
    *,
    min_interval: timedelta = MIN_INTERVAL,
    max_interval: timedelta = MAX_INTERVAL,
    hot_for: timedelta = HOT_FOR,
    growth: float = GROWTH,
    heavy_growth: float = HEAVY_GROWTH,
    follow_for: timedelta = FOLLOW_FOR,
    remember: timedelta = REMEMBER,
    busy_changes: int = BUSY_CHANGES,
    busy_interval: timedelta = BUSY_INTERVAL,
) -> datetime | None:
    """When to fetch the article next, or ``None`` to stop following it.

    ``visits`` is the article's fetch history, oldest first, as ``(fetched_at, changed)``;
    ``changed`` means that fetch made a new version (the first capture counts as changed).
    The answer is always later than the last visit (by at least ``min_interval``), so an
    article can never be due again at once, whatever the clocks said.
    """
    if not visits:
        # Never fetched: fetch it now (the caller's "now" is the earliest it can be).
        return published_at
    last_visit = _aware(visits[-1][0])
    first_visit = _aware(visits[0][0])
    # The first capture counts as a change whatever the caller said; later ones as said.
    later_changes = [_aware(t) for t, changed in visits[1:] if changed]
    if later_changes:
        anchor = later_changes[-1]
    elif published_at is not None and _aware(published_at) <= first_visit - hot_for:
        # Quiet time of an article never seen changing runs from its publication: one
        # found days after it was published is not "fresh" just because we found it.
        anchor = _aware(published_at)
    else:
        # Found while fresh (its hot hours count from our capture), unknown publication,
        # or one after our first capture (a wrong date, or skewed clocks): the first
        # capture is the best we know.
        anchor = first_visit
    quiet = max(last_visit - anchor, timedelta(0))
    # Stop only after following the article ourselves for follow_for: an old article
    # first captured today still gets a few (widely spaced) checks.
    if last_visit - max(anchor, first_visit) >= follow_for:
        return None
    if quiet < hot_for:
        interval = min_interval
    else:
        # Edits seen after the first capture: each makes the article look like a heavy
        # editor's, and slows the growth of its intervals (never below heavy_growth).
        recent = sum(1 for t in later_changes if last_visit - t < remember)
        rate = max(heavy_growth, growth / (1 + recent))
        interval = quiet * rate
        if recent >= busy_changes:
            # A page changing again and again (a developing story, a live page): its
            # next edit is likely within the hour, and edits a step apart are lost.
            interval = min(interval, busy_interval)
    interval = min(max(interval, min_interval), max_interval)
    return last_visit + interval


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


class RevisitConfigError(ValueError):
    """A revisit setting or a source's ``revisit_*`` value is not valid (one line)."""


_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_UNIT = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any, name: str = "duration") -> timedelta:
    """A positive duration: ``"15m"``, ``"2h"``, ``"7d"``, ``"1h30m"`` (units s, m, h, d,
    w), a timedelta, or a number of seconds given as a number (not as text: ``"15"``
    could mean anything).

    Raises:
        RevisitConfigError: naming ``name``, the value and the forms that work.
    """
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        duration = timedelta(seconds=value) if math.isfinite(value) else timedelta(0)
    elif isinstance(value, str) and _DURATION.fullmatch(text := value.strip().lower()):
        duration = timedelta(
            seconds=sum(float(n) * _SECONDS[u] for n, u in _UNIT.findall(text))
        )
    else:
        raise RevisitConfigError(
            f"{name} must be a duration such as 15m, 2h or 7d (units s, m, h, d, w), "
            f"not {value!r}"
        )
    if duration <= timedelta(0):
        raise RevisitConfigError(f"{name} must be longer than zero, not {value!r}")
    return duration


def parse_value(field_name: str, value: Any, name: str | None = None) -> Any:
    """One policy argument (``min_interval``, ``growth`` ...) from a setting or a source.

    Raises:
        RevisitConfigError: naming ``name`` (default: the argument), in one line.
    """
    name = name or field_name
    if field_name not in POLICY_ARGUMENTS:
        raise RevisitConfigError(f"{name}: not a revisit policy setting")
    if field_name == "busy_changes":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            number = None
        else:
            try:
                number = int(value)
            except ValueError:
                number = None
        if number is None or number < 1:
            raise RevisitConfigError(f"{name} must be a whole number of at least 1, not {value!r}")
        return number
    if field_name in ("growth", "heavy_growth"):
        try:
            factor = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            factor = math.nan
        if not (math.isfinite(factor) and factor > 0):
            raise RevisitConfigError(f"{name} must be a positive number, not {value!r}")
        return factor
    return parse_duration(value, name)


@dataclass(frozen=True, slots=True)
class RevisitConfig:
    """The policy's keyword arguments, as read from settings and sources."""

    min_interval: timedelta = MIN_INTERVAL
    max_interval: timedelta = MAX_INTERVAL
    hot_for: timedelta = HOT_FOR
    growth: float = GROWTH
    heavy_growth: float = HEAVY_GROWTH
    follow_for: timedelta = FOLLOW_FOR
    remember: timedelta = REMEMBER
    busy_changes: int = BUSY_CHANGES
    busy_interval: timedelta = BUSY_INTERVAL
    #: Per-source configurations, ``(domains, config)``: an article whose host is one of
    #: the domains (or a subdomain) follows that config (see :meth:`for_url`).
    sources: tuple[tuple[tuple[str, ...], RevisitConfig], ...] = ()

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`next_visit`."""
        return {name: getattr(self, name) for name in POLICY_ARGUMENTS}

    def next_visit(
        self, published_at: datetime | None, visits: Sequence[tuple[datetime, bool]]
    ) -> datetime | None:
        return next_visit(published_at, visits, **self.kwargs())

    def for_url(self, url: str) -> RevisitConfig:
        """The configuration of the article at ``url``: the first source's whose domains
        hold its host, else this one."""
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        for domains, config in self.sources:
            if any(host == d or host.endswith("." + d) for d in domains):
                return config
        return self

    def overridden(
        self, values: Mapping[str, Any], names: Mapping[str, str] | None = None
    ) -> RevisitConfig:
        """A copy with ``values`` (policy argument -> value, see :func:`parse_value`)
        applied; empty values are ignored. ``names`` says what to call each argument in
        an error (a setting's name, a source's key).

        Raises:
            RevisitConfigError: a bad value, or a minimum interval above the maximum.
        """
        names = names or {}
        changes = {
            key: parse_value(key, value, names.get(key))
            for key, value in values.items()
            if value is not None and value != ""
        }
        config = replace(self, sources=(), **changes)
        if config.min_interval > config.max_interval:
            low = names.get("min_interval", "min_interval")
            high = names.get("max_interval", "max_interval")
            raise RevisitConfigError(
                f"{low} ({config.min_interval}) is longer than {high} ({config.max_interval})"
            )
        return config


#: The keyword arguments of :func:`next_visit` that configuration may set.
POLICY_ARGUMENTS = tuple(f.name for f in fields(RevisitConfig) if f.name != "sources")
#: Settings names (``ARCHIVER_REVISIT_<NAME>``: durations such as ``15m``, or factors).
SETTINGS = {f"ARCHIVER_REVISIT_{name.upper()}": name for name in POLICY_ARGUMENTS}


def config_from_settings(settings: Mapping[str, Any] | Callable[[str], Any]) -> RevisitConfig:
    """The policy configuration from Scrapy settings (or any mapping, or a ``get``).

    Raises:
        RevisitConfigError: naming the first bad setting.
    """
    get = settings if callable(settings) and not hasattr(settings, "get") else settings.get
    return RevisitConfig().overridden(
        {name: get(key) for key, name in SETTINGS.items()},
        {name: key for key, name in SETTINGS.items()},
    )
