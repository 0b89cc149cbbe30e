"""The revisit policy beside NewsDiffs's schedule, on simulated edit traces.

    .venv/bin/python bench/revisit.py [--articles N] [--seed S] [--block tune|held-out|all]

Both schedules are driven through the same signature as ``archiver.revisit.next_visit``
(``published_at``, ``[(fetched_at, changed), ...]``) on the same traces, for 45 days
after publication, and the table shows per schedule: fetches per article, versions
caught (a version is caught when some fetch sees it before the next edit replaces it),
edits lost (two edits between visits: the earlier one is never seen), and the median
and 90th-percentile detection delay (edit to the fetch that sees it) of caught versions.
The last three columns compare the policy with NewsDiffs on the same trace.

Two blocks, so that the figures say how the policy does on traces it was not fitted to:

* **tune**: the traces the policy's defaults were chosen on (seed ``S``).
* **held-out**: other newsrooms, drawn with other seeds (``S + 1000`` ...) *and* other
  parameters: other edit-rate mixes, a day/night cycle of publication and editing hours,
  longer bursts. The policy was never tuned on these; they were written before the last
  round of tuning and looked at only to report (changing the policy because of them would
  make them a tuning block: add new ones instead).

Assumptions (all times after publication; a newsroom's articles are a mix of kinds):

* Discovery: a listing crawl captures the article a uniform 0-``discover`` minutes after
  publication (30 in the tune block); edits before the first capture are part of the
  first version, for both schedules. Publication time is known (``published_at``).
* ``early`` kind: edits come mostly within hours: Poisson(2) edits per article, lognormal
  times with median 1 h (sigma 1.3), so a few drift to days.
* ``late`` kind: the early pattern plus a late correction for 40% of articles, lognormal
  with median 3 days (sigma 1.0), i.e. days to weeks later.
* ``heavy`` kind: developing stories and live pages: Poisson(6) bursts starting at
  lognormal times with median 2 h (sigma 1.5); each edit is followed by another one with
  probability 0.5 after an exponential wait (mean 30 min): edits come in bursts.
* ``light`` kind: 70% of articles are never edited; the others get one edit, median 6 h
  (sigma 2.0).
* ``mixed``: a newsroom's mix: 40% light, 30% early, 20% late, 10% heavy.
* Held-out ``newsroom2``: 50% light, 25% early, 15% late, 10% heavy, with every kind's
  parameters moved (fewer, later early edits; later, rarer corrections; heavier bursts).
* Held-out ``dayshift``: the mixed newsroom publishing mostly 6:00-20:00 (morning and
  evening peaks) and editing only 7:00-23:00 (a night-time edit waits for the morning),
  found up to 60 minutes after publication.
* Held-out ``bursty``: the mixed newsroom with longer bursts (continuation 0.65, mean
  wait 20 min) and 15% heavy articles.

Targets (issue 9), for ``mixed`` and the held-out block: at most 0.25x NewsDiffs's
fetches, >= 99% of the versions NewsDiffs catches, median delay <= 1.2x NewsDiffs's.

Last run (``--articles 2000 --seed 1``; defaults in archiver/revisit.py)::

    tune: seed 1, 2000 articles per trace
    trace     schedule  fetch/art  versions  caught   lost  med min  p90 min   fetch x caught %  med x
    --------------------------------------------------------------------------------------------------
    early     newsdiffs     162.6      3405    3200    205      8.3     14.6
    early     archiver       40.3      3405    3190    215      8.7     46.6      0.25     99.7   1.04
    late      newsdiffs     193.1      4185    3982    203      9.7     56.6
    late      archiver       48.2      4185    3958    224     10.8   1072.5      0.25     99.4   1.11
    heavy     newsdiffs     204.0     22991   17363   5628      7.1     14.1
    heavy     archiver       93.8     22991   17061   5930      7.1     14.3      0.46     98.3   1.01
    light     newsdiffs     161.2       566     566      0     12.9     89.4
    light     archiver       27.2       566     565      0     92.9   1416.7      0.17     99.8   7.21
    mixed     newsdiffs     172.1      4414    3754    660      8.3     20.5
    mixed     archiver       42.0      4414    3720    694      8.7    101.9      0.24     99.1   1.05

    held-out (not tuned on): seed 1001, 2000 articles per trace
    trace     schedule  fetch/art  versions  caught   lost  med min  p90 min   fetch x caught %  med x
    --------------------------------------------------------------------------------------------------
    newsroom2 newsdiffs     166.3      3148    2665    483      8.1     18.9
    newsroom2 archiver       37.1      3148    2626    522      8.8    113.6      0.22     98.5   1.08
    dayshift  newsdiffs     173.4      4158    3412    746      8.5     22.2
    dayshift  archiver       40.7      4158    3374    784      8.8    184.6      0.23     98.9   1.04
    bursty    newsdiffs     174.6      7077    5211   1866      7.4     14.9
    bursty    archiver       45.7      7077    5159   1918      7.7     29.4      0.26     99.0   1.05

Where it falls short: ``mixed`` meets the three targets; the held-out block does not
quite: it keeps to 0.22-0.26x of NewsDiffs's fetches and 1.04-1.08x its median delay,
but catches 98.5-99.0% of its versions (``bursty`` at 0.26x), the loss being the first
edits of new bursts after hours of quiet, which NewsDiffs's 30-minute checks through the
first day catch. ``heavy`` alone costs 0.46x for 98.3%, and ``light`` (one edit, median
6 h after publication, widely spread) is caught in full but late (the policy has already
spaced its visits by an hour or more when such an edit arrives). The held-out block was
looked at twice, after the last two tuning rounds; neither round used it.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver.revisit import next_visit

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
HORIZON = timedelta(days=45)
HORIZON_H = HORIZON / timedelta(hours=1)
Policy = Callable[[datetime | None, Sequence[tuple[datetime, bool]]], datetime | None]


def newsdiffs(
    published_at: datetime | None, visits: Sequence[tuple[datetime, bool]]
) -> datetime | None:
    """NewsDiffs: every 15 min for 3 h after the last change, 30 min to 1 day, 2 h to 1
    week, daily to 30 days, weekly after."""
    if not visits:
        return published_at
    last = visits[-1][0]
    last_change = next((t for t, c in reversed(visits) if c), visits[0][0])
    age = last - last_change
    if age < timedelta(hours=3):
        step = timedelta(minutes=15)
    elif age < timedelta(days=1):
        step = timedelta(minutes=30)
    elif age < timedelta(days=7):
        step = timedelta(hours=2)
    elif age < timedelta(days=30):
        step = timedelta(days=1)
    else:
        step = timedelta(days=7)
    return last + step


# --- traces --------------------------------------------------------------------------


@dataclass(frozen=True)
class Article:
    published: datetime
    discovered: float  # hours after publication
    edits: tuple[float, ...]  # hours after publication, sorted, all after discovery


@dataclass(frozen=True)
class Newsroom:
    """How one newsroom publishes and edits (see the module docstring)."""

    mix: tuple[float, float, float, float] = (0.4, 0.3, 0.2, 0.1)  # light early late heavy
    discover_min: float = 30.0
    early_n: float = 2.0
    early_median_h: float = 1.0
    early_sigma: float = 1.3
    late_p: float = 0.4
    late_median_h: float = 72.0
    late_sigma: float = 1.0
    heavy_bursts: float = 6.0
    heavy_median_h: float = 2.0
    heavy_sigma: float = 1.5
    burst_p: float = 0.5
    burst_wait_h: float = 0.5
    light_p: float = 0.3
    light_median_h: float = 6.0
    light_sigma: float = 2.0
    #: Hours of the day (UTC) the newsroom publishes in, with weights; None: any time.
    publish_hours: tuple[float, ...] | None = None
    #: Editing hours [start, end); an edit outside them waits for the next start.
    edit_hours: tuple[int, int] | None = None

    def edits(self, rng: random.Random) -> list[float]:
        r, kind = rng.random(), 3
        for i, share in enumerate(self.mix):
            if r < share:
                kind = i
                break
            r -= share
        return [self._light, self._early, self._late, self._heavy][kind](rng)

    def _early(self, rng: random.Random) -> list[float]:
        return [_lognormal(rng, self.early_median_h, self.early_sigma)
                for _ in range(_poisson(rng, self.early_n))]

    def _late(self, rng: random.Random) -> list[float]:
        edits = self._early(rng)
        if rng.random() < self.late_p:
            edits.append(_lognormal(rng, self.late_median_h, self.late_sigma))
        return edits

    def _heavy(self, rng: random.Random) -> list[float]:
        edits = []
        for _ in range(_poisson(rng, self.heavy_bursts)):
            t = _lognormal(rng, self.heavy_median_h, self.heavy_sigma)
            edits.append(t)
            while rng.random() < self.burst_p:
                t += rng.expovariate(1 / self.burst_wait_h)
                edits.append(t)
        return edits

    def _light(self, rng: random.Random) -> list[float]:
        if rng.random() < self.light_p:
            return [_lognormal(rng, self.light_median_h, self.light_sigma)]
        return []


def _lognormal(rng: random.Random, median_h: float, sigma: float) -> float:
    return median_h * math.exp(rng.gauss(0, sigma))


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth: small lambdas only.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _in_hours(published: datetime, t: float, hours: tuple[int, int]) -> float:
    """``t`` hours after ``published``, moved to the next editing hour if outside them."""
    at = published + timedelta(hours=t)
    start, end = hours
    if start <= at.hour < end:
        return t
    morning = at.replace(hour=start, minute=0, second=0, microsecond=0)
    if at.hour >= end:
        morning += timedelta(days=1)
    # A few minutes into the shift, in the order the edits were queued.
    return (morning - published) / timedelta(hours=1) + (t % 1) / 4


MIXED = Newsroom()
TUNE: dict[str, Newsroom] = {
    "early": Newsroom(mix=(0, 1, 0, 0)),
    "late": Newsroom(mix=(0, 0, 1, 0)),
    "heavy": Newsroom(mix=(0, 0, 0, 1)),
    "light": Newsroom(mix=(1, 0, 0, 0)),
    "mixed": MIXED,
}
HELD_OUT: dict[str, Newsroom] = {
    "newsroom2": Newsroom(
        mix=(0.5, 0.25, 0.15, 0.1), early_n=1.5, early_median_h=1.5, early_sigma=1.1,
        late_p=0.3, late_median_h=120.0, late_sigma=1.2, heavy_bursts=4.0,
        heavy_median_h=3.0, heavy_sigma=1.2, burst_p=0.55, burst_wait_h=0.4,
        light_p=0.25, light_median_h=4.0, light_sigma=1.5,
    ),
    "dayshift": replace(
        MIXED, discover_min=60.0, edit_hours=(7, 23),
        publish_hours=(0, 0, 0, 0, 0, 1, 3, 6, 8, 7, 6, 5, 5, 5, 4, 4, 5, 6, 6, 4, 2, 1, 0, 0),
    ),
    "bursty": replace(MIXED, mix=(0.35, 0.3, 0.2, 0.15), burst_p=0.65, burst_wait_h=1 / 3),
}


def make_trace(name: str, room: Newsroom, n: int, seed: int) -> list[Article]:
    rng = random.Random(f"{name}:{seed}")
    out = []
    for _ in range(n):
        published = EPOCH
        if room.publish_hours is not None:
            hour = rng.choices(range(24), weights=room.publish_hours)[0]
            published = EPOCH + timedelta(hours=hour + rng.random())
        discovered = rng.uniform(0, room.discover_min / 60)
        edits = room.edits(rng)
        if room.edit_hours is not None:
            edits = [_in_hours(published, e, room.edit_hours) for e in edits]
        kept = sorted(e for e in edits if discovered < e < HORIZON_H)
        out.append(Article(published, discovered, tuple(kept)))
    return out


# --- simulation ----------------------------------------------------------------------


@dataclass
class Result:
    fetches: int = 0
    articles: int = 0
    versions: int = 0  # edits made (versions after the first)
    caught: int = 0
    lost: int = 0
    delays: list[float] = field(default_factory=list)  # minutes

    def median(self) -> float:
        return statistics.median(self.delays) if self.delays else math.nan


def simulate(policy: Policy, articles: Sequence[Article]) -> Result:
    res = Result(articles=len(articles))
    for art in articles:
        end = art.published + HORIZON
        edits = [art.published + timedelta(hours=h) for h in art.edits]
        visits: list[tuple[datetime, bool]] = [
            (art.published + timedelta(hours=art.discovered), True)
        ]
        res.fetches += 1
        seen = 0  # edits seen so far (index of the next unseen edit)
        while True:
            nxt = policy(art.published, visits)
            if nxt is None or nxt > end:
                break
            nxt = max(nxt, visits[-1][0] + timedelta(seconds=1))
            # Edits between the last visit and this one: only the newest is seen.
            new = 0
            while seen + new < len(edits) and edits[seen + new] <= nxt:
                new += 1
            if new:
                res.caught += 1
                res.lost += new - 1
                res.delays.append((nxt - edits[seen + new - 1]) / timedelta(minutes=1))
                seen += new
            visits.append((nxt, bool(new)))
            res.fetches += 1
        # Edits after the last visit are neither caught nor counted lost.
        res.versions += len(edits)
    return res


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--block", choices=("tune", "held-out", "all"), default="all")
    args = ap.parse_args(argv)
    head = (
        f"{'trace':9} {'schedule':9} {'fetch/art':>9} {'versions':>9} {'caught':>7} "
        f"{'lost':>6} {'med min':>8} {'p90 min':>8}   {'fetch x':>7} {'caught %':>8} {'med x':>6}"
    )
    blocks = []
    if args.block in ("tune", "all"):
        blocks.append(("tune", TUNE, 0))
    if args.block in ("held-out", "all"):
        blocks.append(("held-out (not tuned on)", HELD_OUT, 1000))
    for title, rooms, offset in blocks:
        print(f"{title}: seed {args.seed + offset}, {args.articles} articles per trace")
        print(head)
        print("-" * len(head))
        for name, room in rooms.items():
            trace = make_trace(name, room, args.articles, args.seed + offset)
            base = simulate(newsdiffs, trace)
            ours = simulate(next_visit, trace)
            for label, r in (("newsdiffs", base), ("archiver", ours)):
                line = (
                    f"{name:9} {label:9} {r.fetches / r.articles:9.1f} {r.versions:9d} "
                    f"{r.caught:7d} {r.lost:6d} {r.median():8.1f} {_pct(r.delays, 0.9):8.1f}"
                )
                if r is ours:
                    line += (
                        f"   {ours.fetches / base.fetches:7.2f} "
                        f"{100 * ours.caught / max(1, base.caught):8.1f} "
                        f"{ours.median() / base.median():6.2f}"
                    )
                print(line)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
