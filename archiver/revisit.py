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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

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

    def kwargs(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def next_visit(
        self, published_at: datetime | None, visits: Sequence[tuple[datetime, bool]]
    ) -> datetime | None:
        return next_visit(published_at, visits, **self.kwargs())

    def overridden(self, values: Mapping[str, Any]) -> RevisitConfig:
        """A copy with ``values`` applied: durations in seconds (numbers), or timedeltas;
        unknown or empty keys are ignored. Raises ValueError on a bad value."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            if values.get(f.name) in (None, ""):
                continue
            raw = values[f.name]
            if f.name == "busy_changes":
                value: Any = int(raw)
                if value < 1:
                    raise ValueError(f"revisit busy_changes must be at least 1, not {raw!r}")
            elif f.name in ("growth", "heavy_growth"):
                value = float(raw)
                if value <= 0:
                    raise ValueError(f"revisit {f.name} must be positive, not {raw!r}")
            else:
                value = raw if isinstance(raw, timedelta) else timedelta(seconds=float(raw))
                if value <= timedelta(0):
                    raise ValueError(f"revisit {f.name} must be positive, not {raw!r}")
            changes[f.name] = value
        cfg = RevisitConfig(**{**self.kwargs(), **changes})
        if cfg.min_interval > cfg.max_interval:
            raise ValueError("revisit min_interval is longer than max_interval")
        return cfg


#: Settings names (``ARCHIVER_REVISIT_<NAME>``, seconds or factors) read by the crawl.
SETTINGS = {f"ARCHIVER_REVISIT_{f.name.upper()}": f.name for f in fields(RevisitConfig)}


def config_from_settings(settings: Mapping[str, Any] | Any) -> RevisitConfig:
    """The policy configuration from Scrapy settings (or any mapping)."""
    get = settings.get
    return RevisitConfig().overridden({name: get(key) for key, name in SETTINGS.items()})
