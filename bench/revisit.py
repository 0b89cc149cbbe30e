"""The revisit policy beside NewsDiffs's schedule, on simulated edit traces.

    .venv/bin/python bench/revisit.py [--articles N] [--seed S]

Both schedules are driven through the same signature as ``archiver.revisit.next_visit``
(``published_at``, ``[(fetched_at, changed), ...]``) on the same traces, for 45 days
after publication, and the table shows per schedule: fetches per article, versions
caught (a version is caught when some fetch sees it before the next edit replaces it),
edits lost (two edits between visits: the earlier one is never seen), and the median
and 90th-percentile detection delay (edit to the fetch that sees it) of caught versions.

Assumptions, one trace each (all times after publication; every trace mixes articles):

* Discovery: a listing crawl captures the article 0-30 minutes after publication
  (uniform); edits before the first capture are part of the first version, for both.
* ``early``: edits come mostly within hours: Poisson(2) edits per article, lognormal
  times with median 1 h (sigma 1.3), so a few drift to days.
* ``late``: the early pattern plus a late correction for 40% of articles, lognormal with
  median 3 days (sigma 1.0), i.e. days to weeks later.
* ``heavy``: developing stories and live pages: Poisson(6) edits with median 2 h
  (sigma 1.5), each edit followed by another one with probability 0.5 after an
  exponential wait (mean 30 min): edits come in bursts.
* ``light``: 70% of articles are never edited; the others get one edit, median 6 h
  (sigma 2.0).
* ``mixed``: a newsroom's mix: 40% light, 30% early, 20% late, 10% heavy.

Aim (issue 9): on a trace not tuned on, at most 0.25x NewsDiffs's fetches, >= 99% of the
versions NewsDiffs catches, median delay <= 1.2x NewsDiffs's.

Last run (``--articles 1000 --seed 1``; defaults in archiver/revisit.py)::

    trace   schedule  fetch/art  versions  caught   lost  med min  p90 min   fetch x caught %  med x
    ------------------------------------------------------------------------------------------------
    early   newsdiffs     163.1      1781    1668    113      8.1     14.7
    early   archiver       40.5      1781    1664    117      8.4     41.7      0.25     99.8   1.04
    late    newsdiffs     191.1      2134    2009    125      9.6     50.4
    late    archiver       46.8      2134    1995    139     10.4    880.6      0.24     99.3   1.08
    heavy   newsdiffs     200.9     11542    8650   2892      7.1     14.1
    heavy   archiver       75.1     11542    8438   3104      7.1     14.4      0.37     97.5   1.01
    light   newsdiffs     160.7       272     272      0     11.9     66.6
    light   archiver       28.4       272     272      0    103.3   1244.2      0.18    100.0   8.68
    mixed   newsdiffs     172.0      2400    2032    368      8.3     18.6
    mixed   archiver       41.2      2400    1997    403      8.8    101.6      0.24     98.3   1.07

Where it falls short: ``heavy`` (bursts of edits all day) costs 0.37x and catches 97.5%,
and ``light`` (one edit, median 6 h after publication, widely spread) is caught in full
but late (the policy has already spaced its visits by hours when such an edit arrives).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver.revisit import next_visit

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
HORIZON = timedelta(days=45)
Policy = Callable[[datetime | None, Sequence[tuple[datetime, bool]]], datetime | None]


def newsdiffs(
    published_at: datetime | None, visits: Sequence[tuple[datetime, bool]]
) -> datetime | None:
    """NewsDiffs: every 15 min for 3 h after the last change, 30 min to 1 day, 2 h to 1
    week, daily to 30 days, weekly after."""
    if not visits:
        return published_at
    last = visits[-1][0]
    last_change = max(t for t, c in visits if c) if any(c for _, c in visits) else visits[0][0]
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
    discovered: float  # hours after publication
    edits: tuple[float, ...]  # hours after publication, sorted, all after discovery


def _lognormal_hours(rng: random.Random, median_h: float, sigma: float) -> float:
    return median_h * math.exp(rng.gauss(0, sigma))


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth: small lambdas only.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _early(rng: random.Random) -> list[float]:
    return [_lognormal_hours(rng, 1.0, 1.3) for _ in range(_poisson(rng, 2))]


def _late(rng: random.Random) -> list[float]:
    edits = _early(rng)
    if rng.random() < 0.4:
        edits.append(_lognormal_hours(rng, 72.0, 1.0))
    return edits


def _heavy(rng: random.Random) -> list[float]:
    edits = []
    for _ in range(_poisson(rng, 6)):
        t = _lognormal_hours(rng, 2.0, 1.5)
        edits.append(t)
        while rng.random() < 0.5:
            t += rng.expovariate(2.0)  # mean 30 minutes
            edits.append(t)
    return edits


def _light(rng: random.Random) -> list[float]:
    return [_lognormal_hours(rng, 6.0, 2.0)] if rng.random() < 0.3 else []


def _mixed(rng: random.Random) -> list[float]:
    r = rng.random()
    kind = _light if r < 0.4 else _early if r < 0.7 else _late if r < 0.9 else _heavy
    return kind(rng)


TRACES: dict[str, Callable[[random.Random], list[float]]] = {
    "early": _early,
    "late": _late,
    "heavy": _heavy,
    "light": _light,
    "mixed": _mixed,
}


def make_trace(kind: str, n: int, seed: int) -> list[Article]:
    rng = random.Random(f"{kind}:{seed}")
    out = []
    for _ in range(n):
        discovered = rng.uniform(0, 0.5)
        edits = sorted(
            e for e in TRACES[kind](rng) if discovered < e < HORIZON / timedelta(hours=1)
        )
        out.append(Article(discovered, tuple(edits)))
    return out


# --- simulation ----------------------------------------------------------------------


@dataclass
class Result:
    fetches: int = 0
    articles: int = 0
    versions: int = 0  # edits made (versions after the first)
    caught: int = 0
    lost: int = 0
    delays: list[float] | None = None  # minutes


def simulate(policy: Policy, articles: Sequence[Article]) -> Result:
    res = Result(articles=len(articles), delays=[])
    end = EPOCH + HORIZON
    for art in articles:
        edits = [EPOCH + timedelta(hours=h) for h in art.edits]
        visits: list[tuple[datetime, bool]] = [(EPOCH + timedelta(hours=art.discovered), True)]
        res.fetches += 1
        seen = 0  # edits seen so far (index of the next unseen edit)
        while True:
            nxt = policy(EPOCH, visits)
            if nxt is None or nxt > end:
                break
            nxt = max(nxt, visits[-1][0] + timedelta(seconds=1))
            # Edits between the last visit and this one: only the newest is seen.
            new = [e for e in edits[seen:] if e <= nxt]
            if new:
                res.caught += 1
                res.lost += len(new) - 1
                res.delays.append((nxt - new[-1]) / timedelta(minutes=1))
                seen += len(new)
            visits.append((nxt, bool(new)))
            res.fetches += 1
        res.versions += len(edits)
        res.lost += 0  # edits after the last visit are neither caught nor counted lost
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
    args = ap.parse_args(argv)
    head = (
        f"{'trace':7} {'schedule':9} {'fetch/art':>9} {'versions':>9} {'caught':>7} "
        f"{'lost':>6} {'med min':>8} {'p90 min':>8}   {'fetch x':>7} {'caught %':>8} {'med x':>6}"
    )
    print(head)
    print("-" * len(head))
    for kind in TRACES:
        trace = make_trace(kind, args.articles, args.seed)
        base = simulate(newsdiffs, trace)
        ours = simulate(next_visit, trace)
        for name, r in (("newsdiffs", base), ("archiver", ours)):
            line = (
                f"{kind:7} {name:9} {r.fetches / r.articles:9.1f} {r.versions:9d} "
                f"{r.caught:7d} {r.lost:6d} {statistics.median(r.delays or [math.nan]):8.1f} "
                f"{_pct(r.delays or [], 0.9):8.1f}"
            )
            if r is ours:
                line += (
                    f"   {ours.fetches / base.fetches:7.2f} "
                    f"{100 * ours.caught / max(1, base.caught):8.1f} "
                    f"{statistics.median(ours.delays or [math.nan]) / statistics.median(base.delays or [math.nan]):6.2f}"
                )
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
