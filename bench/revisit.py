"""The revisit policy beside NewsDiffs's schedule, on simulated edit traces.

    .venv/bin/python bench/revisit.py [--articles N] [--seed S] [--shifted] [--no-hours]
                                      [--block tune|held-out|held-out-2|all]

Both schedules are driven through the same signature as ``archiver.revisit.next_visit``
(``published_at``, ``[(fetched_at, changed), ...]``) on the same traces, for 45 days
after publication, and the table shows per schedule: fetches per article, versions
caught (a version is caught when some fetch sees it before the next edit replaces it),
edits lost (two edits between visits: the earlier one is never seen), and the median
and 90th-percentile detection delay (edit to the fetch that sees it) of caught versions.
The last columns compare the policy with NewsDiffs on the same trace: fetches (x its
count), versions caught (% of its count), median delay (x its median), and "of ND %", the
share of the very versions NewsDiffs catches that the policy catches too. Under each trace
a verdict line per policy row checks the issue's targets: fetch x <= 0.25, caught >= 99%,
median x <= 1.2.

Two rows of the policy per trace: ``archiver`` is ``next_visit(published_at, visits)``
as the issue's signature calls it, every hour alike; ``archiver+h`` is what a running
archive does, with the newsroom's working hours (``edit_hours``) learned as
archiver/storage/schedule.py learns them from the fetch log: from the revisits of the
same newsroom's past two months (other articles, other seeds), the first followed with
every hour alike, the second on the hours the first taught. ``--no-hours`` leaves the
``archiver+h`` rows out (the run takes half as long).

"Caught" counts versions, as the targets do, and is not "of ND %": two schedules of the
same density but another phase catch different versions in a burst (edits minutes apart),
so the versions of one are not a subset of the other's. ``--shifted`` adds NewsDiffs's
own schedule started 0-15 minutes later as a reference: it catches ~100% as many versions
as NewsDiffs but only 90-100% of the same ones (95.1% on ``mixed``).

Three blocks, so that the figures say how the policy does on traces it was not fitted to:

* **tune**: the traces the policy's defaults were chosen on (seed ``S``). ``shifts`` was
  added to it to tune the learned hours (how they are fitted, their floor and prior): a
  newsroom publishing by day and editing only 8:00-21:00.
* **held-out**: other newsrooms, drawn with other seeds (``S + 1000`` ...) *and* other
  parameters: other edit-rate mixes, a day/night cycle of publication and editing hours,
  longer bursts. The policy was never tuned on these; they were written before the last
  round of tuning and looked at only to report (changing the policy because of them would
  make them a tuning block: add new ones instead).
* **held-out 2**: written after the last tuning round and before the policy was first run
  on them (seed ``S + 2000``): new newsrooms, and the held-out ones drawn again.
  ``roundclock`` was added after that first run, the policy unchanged (see below).

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
* ``shifts`` (tune): the mixed newsroom publishing 7:00-23:00 (most 8:00-18:00), editing
  only 8:00-21:00 (an edit outside waits for 8:00), found up to 60 minutes after
  publication.
* Held-out ``newsroom2``: 50% light, 25% early, 15% late, 10% heavy, with every kind's
  parameters moved (fewer, later early edits; later, rarer corrections; heavier bursts).
* Held-out ``dayshift``: the mixed newsroom publishing mostly 6:00-20:00 (morning and
  evening peaks) and editing only 7:00-23:00 (a night-time edit waits for the morning),
  found up to 60 minutes after publication.
* Held-out ``bursty``: the mixed newsroom with longer bursts (continuation 0.65, mean
  wait 20 min) and 15% heavy articles.
* Held-out 2 ``gentle``: no heavy editors (60% light, 30% early, 10% late), where an
  age-based rule is enough. ``liveblog``: the mixed newsroom with 25% heavy articles, 8
  bursts each, continuation 0.6. ``corrects``: 45% late articles, 70% of them corrected
  (median 2 days, sigma 1.4). ``nightdesk``: the mixed newsroom editing only 6:00-22:00,
  found up to 90 minutes after publication; as written it publishes everything at
  midnight, so every article's early edits wait for 6:00. ``roundclock``: the same
  publishing round the clock (the newsroom nightdesk was meant to be).

Targets (issue 9), for the newsroom mixes (``mixed`` and the held-out blocks; the single
kinds show where the policy spends and loses): at most 0.25x NewsDiffs's fetches, >= 99%
of the versions NewsDiffs catches, median delay <= 1.2x NewsDiffs's.

Last run (``--articles 2000 --seed 1``; defaults in archiver/revisit.py, tuned on the
tune block with seeds 1 and 2; NewsDiffs rows, versions, p90 and verdict lines left out)::

    trace      schedule   fetch/art caught  lost med min  fetch x caught % med x of ND % verdict
    tune, seed 1
    shifts     archiver        34.2   3194   924     7.0     0.20    100.8  0.82    96.5 meets
    shifts     archiver+h      32.5   3255   863     6.3     0.19    102.7  0.73    95.0 meets
    early      archiver        33.5   3199   206     7.4     0.21    100.0  0.90    99.3 meets
    early      archiver+h      33.5   3199   206     7.4     0.21    100.0  0.90    99.3 meets
    late       archiver        40.1   3966   214    10.3     0.21     99.6  1.06    98.9 meets
    late       archiver+h      40.1   3966   214    10.3     0.21     99.6  1.06    98.9 meets
    heavy      archiver        68.0  17747  5244     5.0     0.33    102.2  0.71    93.1 misses fetch
    heavy      archiver+h      68.0  17747  5244     5.0     0.33    102.2  0.71    93.1 misses fetch
    light      archiver        25.3    566     0   135.0     0.16    100.0 10.49   100.0 misses med
    light      archiver+h      25.3    566     0   135.0     0.16    100.0 10.49   100.0 misses med
    mixed      archiver        34.9   3791   623     6.5     0.20    101.0  0.79    96.6 meets
    mixed      archiver+h      34.9   3791   623     6.5     0.20    101.0  0.79    96.6 meets
    held-out, seed 1001
    newsroom2  archiver        31.7   2671   477     6.8     0.19    100.2  0.83    95.9 meets
    newsroom2  archiver+h      31.7   2671   477     6.8     0.19    100.2  0.83    95.9 meets
    dayshift   archiver        34.4   3421   736     6.6     0.20    100.3  0.78    96.3 meets
    dayshift   archiver+h      33.4   3466   690     6.2     0.19    101.6  0.73    94.6 meets
    bursty     archiver        37.3   5365  1712     5.4     0.21    103.0  0.73    94.1 meets
    bursty     archiver+h      37.3   5365  1712     5.4     0.21    103.0  0.73    94.1 meets
    held-out 2, seed 2001
    gentle     archiver        29.1   1672    90     9.8     0.18    100.1  1.05    99.5 meets
    gentle     archiver+h      29.1   1672    90     9.8     0.18    100.1  1.05    99.5 meets
    liveblog   archiver        42.2   8597  2748     5.0     0.23    103.5  0.73    92.8 meets
    liveblog   archiver+h      42.2   8597  2748     5.0     0.23    103.5  0.73    92.8 meets
    corrects   archiver        37.7   3727   406     8.8     0.20    100.0  0.96    97.7 meets
    corrects   archiver+h      37.7   3727   406     8.8     0.20    100.0  0.96    97.7 meets
    nightdesk  archiver        35.2   2119  2914    39.4     0.20     91.2  3.66    89.3 misses caught+med
    nightdesk  archiver+h      35.2   2119  2914    39.4     0.20     91.2  3.66    89.3 misses caught+med
    newsroom2  archiver        32.1   2791   458     6.8     0.19     99.0  0.83    94.9 meets
    newsroom2  archiver+h      32.1   2791   458     6.8     0.19     99.0  0.83    94.9 meets
    dayshift   archiver        34.2   3354   768     6.8     0.20    101.3  0.84    96.4 meets
    dayshift   archiver+h      33.3   3404   717     6.2     0.19    102.8  0.76    95.0 meets
    bursty     archiver        36.5   5209  1609     5.3     0.21    103.8  0.73    94.1 meets
    bursty     archiver+h      36.5   5209  1609     5.3     0.21    103.8  0.73    94.1 meets
    roundclock archiver        33.6   2710  1504     8.6     0.19     96.6  0.99    92.8 misses caught
    roundclock archiver+h      29.3   2924  1290     5.7     0.17    104.2  0.65    92.8 meets
    held-out 3, seed 3001
    newsroom3  archiver        33.5   3439   585     6.5     0.20    101.0  0.80    95.7 meets
    newsroom3  archiver+h      33.5   3414   610     6.7     0.20    100.2  0.83    94.4 meets
    smallsite  archiver        30.3   2168   311     7.4     0.18    100.7  0.86    97.2 meets
    smallsite  archiver+h      30.3   2168   311     7.4     0.18    100.7  0.86    97.2 meets
    evening    archiver        34.2   3293   954     6.7     0.20    101.6  0.81    96.8 meets
    evening    archiver+h      32.5   3355   893     6.0     0.19    103.5  0.72    94.7 meets
    morning    archiver        35.8   3710  1076     6.8     0.20    100.7  0.83    96.3 meets
    morning    archiver+h      33.5   3784  1000     5.8     0.19    102.7  0.71    93.8 meets
    held-out 4, seed 4001
    flat4      archiver        34.1   3679   692     6.2     0.20    101.3  0.75    96.1 meets
    flat4      archiver+h      34.1   3679   692     6.2     0.20    101.3  0.75    96.1 meets
    midnight4  archiver        33.4   2794   389     7.8     0.19     99.9  0.90    96.5 meets
    midnight4  archiver+h      33.4   2794   389     7.8     0.19     99.9  0.90    96.5 meets
    office4    archiver        34.0   3097  1320     7.1     0.19     99.8  0.82    95.7 meets
    office4    archiver+h      31.7   3213  1204     5.8     0.18    103.5  0.67    95.4 meets
    longday4   archiver        35.0   3133  1698     7.7     0.20     97.4  0.92    93.2 misses caught
    longday4   archiver+h      31.1   3400  1431     5.6     0.18    105.7  0.66    93.3 meets

The policy alone (``archiver``, the issue's signature): every newsroom mix but the two
that stop editing at night and publish round the clock or at midnight (``roundclock``,
``nightdesk``) and one of four held-out-4 newsrooms (``longday4``, 97.4%) meets the three
targets, at 0.18-0.23x NewsDiffs's fetches. Over seeds 2-4 (1002-1004 ...) the fetch ratio
moves by less than 0.01 and the share caught by 1-2 points: ``shifts``, ``mixed``,
``early``, ``late``, ``dayshift``, ``bursty``, ``gentle``, ``liveblog``, ``corrects``,
``newsroom3``, ``evening`` and ``morning`` meet the targets on every seed (worst 99.6%
caught); ``newsroom2`` not on every seed (98.1-99.6%); ``roundclock`` (97.3-98.2%) and
``nightdesk`` (90.3-91.4%, median 3.8x) on none: their overnight edits land together in
the first minutes of the morning shift, hours after the article went quiet, when the
policy checks it hours apart and NewsDiffs every 30 minutes.

With the newsroom's learned hours (``archiver+h``, what the crawl runs), every newsroom
mix but ``nightdesk`` meets the targets. Newsrooms with hours catch 1.2-8 points more
for 3-12% fewer fetches (``shifts`` 102.7%, ``dayshift`` 101.6 and 102.8, ``roundclock``
104.2, ``evening`` 103.5, ``morning`` 102.7, ``office4`` 103.5, ``longday4`` 105.7; over
seeds 2-4 ``roundclock`` 104.5-104.9%, ``shifts`` 101.7-103.1, ``evening`` 103.0-104.6,
``morning`` 101.9-104.0). Newsrooms without hours learn none (their hours explain the
log no better than chance) or none worth much (``newsroom3`` 100.2% instead of 101.0;
100.0-101.6 over seeds 2-4); newsrooms whose articles all appear at the same hour (the
tune block's, ``nightdesk``, ``smallsite``, ``midnight4`` ...) learn none, since their
articles' age says the hour: ``nightdesk`` stays at 91.2%. How the learned hours came
to be: a first version (age bands twice as long each, no significance test, no check of
the hours of publication) helped newsrooms with hours as much, but was noise elsewhere
(``newsroom2`` 97.4%, ``newsroom3`` 99.6%) and, with finer bands, put ``nightdesk``'s
morning edits on the night (80.6%), which the check of publication hours answers.
Held-out 3 was run once on the first version; held-out 4 was written before the second
and run on it before and after that check (which changes only newsrooms publishing at
one hour: ``midnight4`` learned no hours either way). ``nightdesk`` and ``roundclock``
have been looked at through every round since: they are no longer held out.

The previous policy (15-minute checks for 3 h after every change, then 0.8x the quiet
time, half-hourly for articles with three changes in a day) on the same traces:
tune ``mixed`` 0.24 / 99.1% / 1.05; held-out newsroom2 0.22 / 98.5 / 1.08, dayshift 0.23
/ 98.9 / 1.04, bursty 0.26 / 99.0 / 1.05; held-out 2 nightdesk 0.22 / 88.2 / 3.22,
roundclock 0.23 / 96.1 / 1.20, the others 0.20-0.30x and 98.2-99.8%. ``heavy`` alone
(only live pages) costs 0.33x, and ``light``'s lone edits (median 6 h after publication,
widely spread) are all caught, but late.
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
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver.revisit import EditHours, next_visit

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
    "shifts": replace(
        MIXED, discover_min=60.0, edit_hours=(8, 21),
        publish_hours=(0, 0, 0, 0, 0, 0, 0, 1, 4, 6, 6, 5, 4, 4, 5, 5, 4, 4, 3, 3, 2, 1, 1, 0),
    ),
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
#: Written after the policy's last tuning round, before it was run on them: new newsrooms,
#: and the held-out ones drawn again with another seed.
HELD_OUT_2: dict[str, Newsroom] = {
    "gentle": Newsroom(mix=(0.6, 0.3, 0.1, 0.0)),
    "liveblog": replace(MIXED, mix=(0.35, 0.25, 0.15, 0.25), heavy_bursts=8.0, burst_p=0.6),
    "corrects": Newsroom(
        mix=(0.3, 0.2, 0.45, 0.05), late_p=0.7, late_median_h=48.0, late_sigma=1.4,
    ),
    "nightdesk": replace(MIXED, discover_min=90.0, edit_hours=(6, 22)),
    **HELD_OUT,
    # Added after the first run of this block, the policy unchanged: nightdesk publishes
    # everything at midnight (publish_hours unset); this one publishes round the clock.
    "roundclock": replace(
        MIXED, discover_min=90.0, edit_hours=(6, 22), publish_hours=(1,) * 24,
    ),
}
#: Written after the learned hours were first run on held-out 2, before the variants then
#: tried on the tuning block (finer age bands, a significance test; neither kept), and run
#: once after them (seed ``S + 3000``).
HELD_OUT_3: dict[str, Newsroom] = {
    # A newsroom without hours, publishing round the clock, edits sparser than mixed's.
    "newsroom3": Newsroom(
        mix=(0.45, 0.3, 0.15, 0.1), discover_min=45.0, early_n=1.7, early_median_h=1.2,
        late_p=0.35, late_median_h=90.0, publish_hours=(1,) * 24,
    ),
    # A small site: most articles never edited, a few hundred changes a month.
    "smallsite": Newsroom(mix=(0.6, 0.25, 0.1, 0.05), discover_min=60.0),
    # An evening paper: publishes 10:00-23:00, edits only from noon to midnight.
    "evening": replace(
        MIXED, discover_min=45.0, edit_hours=(12, 24),
        publish_hours=(0,) * 10 + (2, 3, 4, 4, 4, 4, 5, 5, 5, 4, 3, 3, 2, 1),
    ),
    # A morning edition: most articles appear 4:00-7:00, the desk edits 6:00-20:00.
    "morning": replace(
        MIXED, mix=(0.35, 0.3, 0.25, 0.1), discover_min=30.0, edit_hours=(6, 20),
        publish_hours=(0, 0, 0, 0, 6, 8, 6, 2) + (1,) * 12 + (0,) * 4,
    ),
}
#: Written after held-out 3's run, before the significance test and finer age bands were
#: put into the learned hours, and run once after that (seed ``S + 4000``).
HELD_OUT_4: dict[str, Newsroom] = {
    # Without hours: one publishing round the clock, one everything at midnight.
    "flat4": Newsroom(
        mix=(0.5, 0.25, 0.15, 0.1), early_n=2.5, early_median_h=0.8, discover_min=40.0,
        publish_hours=(1,) * 24,
    ),
    "midnight4": Newsroom(
        mix=(0.55, 0.25, 0.12, 0.08), early_median_h=2.0, late_median_h=150.0,
        heavy_bursts=5.0, burst_p=0.55,
    ),
    # With hours: an office desk (edits 9:00-18:00), and a long day (5:00-21:00).
    "office4": replace(
        MIXED, discover_min=40.0, edit_hours=(9, 18),
        publish_hours=(0,) * 7 + (2, 4, 5, 5, 5, 4, 4, 4, 4, 3, 3, 2) + (0,) * 5,
    ),
    "longday4": replace(
        MIXED, mix=(0.4, 0.25, 0.2, 0.15), discover_min=60.0, edit_hours=(5, 21),
        publish_hours=(1,) * 24,
    ),
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
    #: Revisits (after the first capture) and whether each found a change: what the
    #: archive's fetch log records.
    revisits: list[tuple[datetime, datetime, datetime, bool]] = field(default_factory=list)
    #: Per article, the indexes of the versions caught (to compare two schedules).
    seen: list[set[int]] = field(default_factory=list)

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
        caught: set[int] = set()
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
                caught.add(seen + new - 1)
                seen += new
            res.revisits.append((visits[0][0], visits[-1][0], nxt, bool(new)))
            visits.append((nxt, bool(new)))
            res.fetches += 1
        # Edits after the last visit are neither caught nor counted lost.
        res.versions += len(edits)
        res.seen.append(caught)
    return res


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def shifted_newsdiffs(
    published_at: datetime | None, visits: Sequence[tuple[datetime, bool]]
) -> datetime | None:
    """NewsDiffs's schedule started 0-15 minutes later (the offset drawn from the capture
    time): the same policy, another phase. Only a reference for the "of ND's" column."""
    if len(visits) == 1:
        offset = random.Random(visits[0][0].isoformat()).random()
        return visits[0][0] + offset * timedelta(minutes=15)
    return newsdiffs(published_at, visits)


#: The issue's targets, against NewsDiffs on the same trace.
MAX_FETCH_X = 0.25
MIN_CAUGHT_PCT = 99.0
MAX_MEDIAN_X = 1.2


def verdict(fetch_x: float, caught_pct: float, median_x: float) -> str:
    """One line: each target, its figure, ok or MISS, and the overall verdict."""
    # Three decimals: a figure rounded onto its limit must not read as passing or failing.
    checks = [
        ("fetch x", f"{fetch_x:.3f}", "<=", f"{MAX_FETCH_X}", fetch_x <= MAX_FETCH_X),
        ("caught", f"{caught_pct:.2f}%", ">=", f"{MIN_CAUGHT_PCT:g}%",
         caught_pct >= MIN_CAUGHT_PCT),
        ("median x", f"{median_x:.3f}", "<=", f"{MAX_MEDIAN_X}", median_x <= MAX_MEDIAN_X),
    ]
    parts = [f"{name} {value} {op} {limit} {'ok' if good else 'MISS'}"
             for name, value, op, limit, good in checks]
    missed = [name for name, *_, good in checks if not good]
    overall = "meets the targets" if not missed else "MISSES " + ", ".join(missed)
    return "verdict: " + "; ".join(parts) + f": {overall}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--block", default="all",
        choices=("tune", "held-out", "held-out-2", "held-out-3", "held-out-4", "all"),
    )
    ap.add_argument(
        "--shifted", action="store_true",
        help="also run NewsDiffs started 0-15 minutes later (a reference for 'of ND's')",
    )
    ap.add_argument(
        "--no-hours", action="store_true",
        help="leave out the policy run with the newsroom's learned hours (archiver+h)",
    )
    args = ap.parse_args(argv)
    head = (
        f"{'trace':10} {'schedule':10} {'fetch/art':>9} {'versions':>9} {'caught':>7} "
        f"{'lost':>6} {'med min':>8} {'p90 min':>8}   {'fetch x':>7} {'caught %':>8} "
        f"{'med x':>6} {'of ND %':>7}"
    )
    blocks = []
    if args.block in ("tune", "all"):
        blocks.append(("tune", TUNE, 0))
    if args.block in ("held-out", "all"):
        blocks.append(("held-out (not tuned on)", HELD_OUT, 1000))
    if args.block in ("held-out-2", "all"):
        blocks.append(("held-out 2 (written after tuning, not tuned on)", HELD_OUT_2, 2000))
    if args.block in ("held-out-3", "all"):
        blocks.append(("held-out 3 (written after held-out 2's run, run once)", HELD_OUT_3, 3000))
    if args.block in ("held-out-4", "all"):
        blocks.append(("held-out 4 (written after held-out 3's run)", HELD_OUT_4, 4000))
    for title, rooms, offset in blocks:
        print(f"{title}: seed {args.seed + offset}, {args.articles} articles per trace")
        print(head)
        print("-" * len(head))
        for name, room in rooms.items():
            trace = make_trace(name, room, args.articles, args.seed + offset)
            base = simulate(newsdiffs, trace)
            rows = [("newsdiffs", base), ("archiver", simulate(next_visit, trace))]
            if not args.no_hours:
                # The site's hours as its archive knows them: learned from the revisits
                # made on its past two months (the same newsroom, other articles), as
                # archiver/storage/schedule.py learns them from the fetch log: two
                # months before, every hour alike; the month before, on those hours.
                hours = None
                for month in (2, 1):
                    seed = -month * 100_000 - args.seed - offset
                    past = make_trace(name, room, args.articles, seed)
                    policy = partial(next_visit, edit_hours=hours)
                    hours = EditHours.learned(simulate(policy, past).revisits)
                rows.append(("archiver+h", simulate(partial(next_visit, edit_hours=hours), trace)))
            if args.shifted:
                rows.append(("newsdiffs+", simulate(shifted_newsdiffs, trace)))
            for label, r in rows:
                line = (
                    f"{name:10} {label:10} {r.fetches / r.articles:9.1f} {r.versions:9d} "
                    f"{r.caught:7d} {r.lost:6d} {r.median():8.1f} {_pct(r.delays, 0.9):8.1f}"
                )
                if r is not base:
                    both = sum(len(a & b) for a, b in zip(r.seen, base.seen))
                    line += (
                        f"   {r.fetches / base.fetches:7.2f} "
                        f"{100 * r.caught / max(1, base.caught):8.1f} "
                        f"{r.median() / base.median():6.2f} "
                        f"{100 * both / max(1, base.caught):7.1f}"
                    )
                print(line)
            for label, ours in rows[1:]:
                if label.startswith("archiver"):
                    fetch_x = ours.fetches / base.fetches
                    caught_pct = 100 * ours.caught / max(1, base.caught)
                    median_x = ours.median() / base.median()
                    print(f"{'':10} {label:10} {verdict(fetch_x, caught_pct, median_x)}")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
