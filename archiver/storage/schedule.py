"""Revisit scheduling in the database: set each article's next visit, and claim due ones.

After every fetch of an article, whatever its outcome, :func:`after_fetch` runs in the
archiving transaction and stores ``articles.next_visit_at`` from the revisit policy
(archiver/revisit.py) fed with the article's fetch log. Revisit crawls take due articles
with :func:`claim`, which leases them so that two crawls never fetch the same article.

Clocks: fetch times come from the crawling machine, due times are compared with the
database's clock. So the policy's answer is stored as an *interval* added to the
database's clock, clamped to ``[min_interval, max_interval]`` of the policy: a crawler
whose clock is skewed can make an article neither due again at once (forever) nor
pushed out of reach (never).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Row, and_, or_, select, text, update

from archiver.revisit import EditHours, RevisitConfig
from archiver.storage import models
from archiver.storage.upsert import insert_or_update

Articles = models.Article.__table__
Fetches = models.Fetch.__table__
Versions = models.Version.__table__
Sites = models.Site.__table__
SiteHoursTable = models.SiteEditHours.__table__

#: Outcomes of a fetch that made a version: "changed" in the policy's terms.
_CHANGED = (models.Outcome.NEW_ARTICLE.value, models.Outcome.NEW_VERSION.value)
#: Outcomes of a fetch that read an article's page and found it as it was: with the
#: changed ones, what teaches a site's hours.
_READ = (models.Outcome.UNCHANGED.value, models.Outcome.NOT_MODIFIED.value)
#: How many fetches a gone article gets after it went, and how far apart: then dropped.
GONE_CHECKS = (timedelta(days=1), timedelta(days=3), timedelta(days=7))
#: How long a claim holds if the crawl that made it dies.
DEFAULT_LEASE = timedelta(hours=1)


def db_now(conn: Connection) -> datetime:
    """The database's clock, timezone-aware (UTC)."""
    if conn.dialect.name == "postgresql":
        value = conn.scalar(text("SELECT now()"))
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
    value = conn.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


class SiteHours:
    """Each site's working hours (:class:`archiver.revisit.EditHours`), learned from its
    fetch log and kept in ``site_hours`` for ``ttl``, so that every crawl process uses
    one fit and a site is learned again at most every few hours.

    What a site's revisits found over the last ``window``: for each two fetches in a row
    of one of its articles that read the page (a first capture, a new version,
    unchanged, not modified: errors say nothing), the hours between them and whether
    the second found a change. A site with fewer than 48 changes in that window has no
    hours yet (every hour alike).
    """

    def __init__(
        self, window: timedelta = timedelta(days=30), ttl: timedelta = timedelta(hours=6)
    ) -> None:
        self.window = window
        self.ttl = ttl

    def get(self, conn: Connection, site_id: int, now: datetime) -> EditHours | None:
        """The site's hours as stored, learned again (and stored, in the caller's
        transaction) when older than ``ttl`` or dated after ``now`` (a skewed clock)."""
        row = conn.execute(
            select(SiteHoursTable.c.weights, SiteHoursTable.c.learned_at)
            .where(SiteHoursTable.c.site_id == site_id)
        ).first()
        if row is not None and now - self.ttl <= _utc(row.learned_at) <= now:
            return EditHours(row.weights) if row.weights else None
        gaps = list(self.revisits(conn, site_id, now))
        hours = EditHours.learned(gaps)
        values = dict(
            site_id=site_id,
            weights=list(hours.weights) if hours is not None else None,
            changes=sum(1 for *_, changed in gaps if changed),
            learned_at=now,
        )
        conn.execute(insert_or_update(conn, SiteHoursTable, ["site_id"], values))
        return hours

    def learn(self, conn: Connection, site_id: int, now: datetime) -> EditHours | None:
        """The site's hours from its fetch log (nothing stored)."""
        return EditHours.learned(self.revisits(conn, site_id, now))

    def revisits(
        self, conn: Connection, site_id: int, now: datetime
    ) -> Iterator[tuple[datetime, datetime, datetime, bool]]:
        """The site's revisits in the window (see :meth:`EditHours.learned`)."""
        rows = conn.execute(
            select(
                Fetches.c.article_id, Fetches.c.fetched_at, Fetches.c.outcome,
                Articles.c.first_seen_at,
            )
            .join(Articles, Articles.c.id == Fetches.c.article_id)
            .where(
                Articles.c.site_id == site_id,
                Fetches.c.fetched_at >= now - self.window,
                Fetches.c.outcome.in_(_READ + _CHANGED),
            )
            .order_by(Fetches.c.article_id, Fetches.c.fetched_at, Fetches.c.id)
        )
        return _revisits(rows)


def _revisits(rows: Iterable[Row]) -> Iterator[tuple[datetime, datetime, datetime, bool]]:
    """``(born, since, until, changed)`` for each two reads in a row of one article, from
    its reads in order (see :meth:`EditHours.learned`)."""
    previous = None
    for row in rows:
        at = _utc(row.fetched_at)
        if previous is not None and previous.article_id == row.article_id:
            since = _utc(previous.fetched_at)
            if at > since:
                yield _utc(row.first_seen_at), since, at, row.outcome in _CHANGED
        previous = row


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


#: The default of :func:`after_fetch`: hours learned from 30 days, kept 6 hours.
SITE_HOURS = SiteHours()


def after_fetch(
    conn: Connection,
    article_id: int,
    fetched_at: datetime,
    config: RevisitConfig | None = None,
    site_hours: SiteHours | None = SITE_HOURS,
) -> datetime | None:
    """Store the article's next visit after a fetch (in the caller's transaction, with
    the article row locked by it or not: the update is one statement), release its claim,
    and return the time stored (None: no longer followed). ``site_hours``: the sites'
    working hours (default: kept in ``site_hours``, learned from the fetch log every 6
    hours); None, or the config's ``learn_hours`` off: every hour alike."""
    config = config or RevisitConfig()
    row = conn.execute(
        select(Articles.c.url, Articles.c.site_id, Articles.c.gone_at, Versions.c.published_at)
        .select_from(Articles)
        .outerjoin(
            Versions,
            and_(
                Versions.c.article_id == Articles.c.id,
                Versions.c.version == Articles.c.current_version,
            ),
        )
        .where(Articles.c.id == article_id)
    ).first()
    if row is None:
        return None
    config = config.for_url(row.url)  # a [[source]]'s revisit_* values, if it sets any
    history = conn.execute(
        select(Fetches.c.fetched_at, Fetches.c.outcome)
        .where(Fetches.c.article_id == article_id)
        .order_by(Fetches.c.fetched_at, Fetches.c.id)
    ).all()
    # A crawler clock ahead of the database's would make the article look older than it
    # is (and dropped): no time from the future counts.
    now = db_now(conn)
    visits = [(min(f.fetched_at, now), f.outcome in _CHANGED) for f in history]
    if not visits or visits[-1][0] < min(fetched_at, now):
        visits.append((min(fetched_at, now), False))
    visits.sort(key=lambda v: v[0])
    last = visits[-1][0]
    published_at = None if row.published_at is None else min(row.published_at, now)
    if row.gone_at is not None:
        checks = sum(
            1
            for f in history
            if f.outcome == models.Outcome.GONE.value and f.fetched_at >= row.gone_at
        )
        interval = GONE_CHECKS[checks - 1] if 0 < checks <= len(GONE_CHECKS) else None
    else:
        hours = None
        if site_hours is not None and config.learn_hours:
            hours = site_hours.get(conn, row.site_id, now)
        nxt = config.next_visit(published_at, visits, edit_hours=hours)
        interval = None if nxt is None else nxt - last
    due = None
    if interval is not None:
        interval = min(max(interval, config.min_interval), config.max_interval)
        due = now + interval
    conn.execute(
        update(Articles)
        .where(Articles.c.id == article_id)
        .values(next_visit_at=due, claimed_until=None)
    )
    return due


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    url: str
    #: The lease: the claim is this crawl's while ``claimed_until`` holds this value.
    until: datetime


def claim(
    conn: Connection,
    *,
    due_only: bool = True,
    limit: int | None = None,
    domains: Sequence[str] = (),
    lease: timedelta = DEFAULT_LEASE,
) -> list[Claimed]:
    """Claim articles for a revisit crawl, oldest due first, and lease them.

    ``due_only``: only articles whose next visit has come (else every article, the
    unscheduled last). ``domains``: only these sites (``sites.domain``, without ``www.``).
    Articles another crawl holds under an unexpired lease are skipped. The race: two
    crawls claiming at once. On PostgreSQL the candidate rows are locked with ``FOR
    UPDATE SKIP LOCKED`` (the other crawl takes the next ones instead of waiting) and the
    lease is set in the same statement; on SQLite the statement runs under the write lock
    every transaction takes (``BEGIN IMMEDIATE``), so claims are serialised. The caller
    commits.
    """
    now = db_now(conn)
    until = now + lease
    candidates = select(Articles.c.id).where(
        or_(Articles.c.claimed_until.is_(None), Articles.c.claimed_until <= now)
    )
    if due_only:
        candidates = candidates.where(Articles.c.next_visit_at <= now)
    if domains:
        site_ids = select(Sites.c.id).where(
            Sites.c.domain.in_([d.lower().removeprefix("www.") for d in domains])
        )
        candidates = candidates.where(Articles.c.site_id.in_(site_ids))
    candidates = candidates.order_by(
        Articles.c.next_visit_at.is_(None), Articles.c.next_visit_at, Articles.c.id
    )
    if limit is not None:
        candidates = candidates.limit(limit)
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    rows = conn.execute(
        update(Articles)
        .where(Articles.c.id.in_(candidates.scalar_subquery()))
        .values(claimed_until=until)
        .returning(Articles.c.id, Articles.c.url, Articles.c.next_visit_at)
    ).all()
    # RETURNING does not keep the subquery's order.
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r.next_visit_at or far, r.id))
    return [Claimed(r.id, r.url, until) for r in rows]


@dataclass(frozen=True, slots=True)
class Settled:
    """What a revisit crawl's end did with the claims no fetch had released."""

    released: int
    rescheduled: int


def settle(
    conn: Connection,
    claimed: Sequence[Claimed],
    answered: Collection[int],
    config: RevisitConfig | None = None,
) -> Settled:
    """At a revisit crawl's end, the claims it still holds (``claimed_until`` is still
    its lease: no fetch released it, and no other crawl took the article after the lease
    ran out). An article the crawl never got an answer for (the crawl was stopped, or
    ended before reaching it) is released, so it is due again at once, not after the
    lease; one it got an answer for that was archived under another article (its page
    now redirects to another) gets its next visit as after any fetch. The caller commits.
    """
    held = []
    for start in range(0, len(claimed), 1000):  # bounded IN lists
        held += conn.execute(
            select(Articles.c.id, Articles.c.claimed_until).where(
                Articles.c.id.in_([c.id for c in claimed[start:start + 1000]])
            )
        ).all()
    leases = {c.id: c.until for c in claimed}
    mine = [r.id for r in held if r.claimed_until is not None
            and _same_instant(r.claimed_until, leases[r.id])]
    answered_ids = [i for i in mine if i in answered]
    now = db_now(conn)
    for article_id in answered_ids:
        after_fetch(conn, article_id, now, config)
    release(conn, [i for i in mine if i not in answered])
    return Settled(len(mine) - len(answered_ids), len(answered_ids))


def _same_instant(a: datetime, b: datetime) -> bool:
    # SQLite hands back naive UTC datetimes, PostgreSQL aware ones.
    return (a if a.tzinfo else a.replace(tzinfo=UTC)) == (b if b.tzinfo else b.replace(tzinfo=UTC))


def release(conn: Connection, article_ids: Sequence[int]) -> None:
    """Give claimed articles back (a crawl that stops before fetching them)."""
    ids = list(article_ids)
    for start in range(0, len(ids), 1000):
        conn.execute(
            update(Articles)
            .where(Articles.c.id.in_(ids[start:start + 1000]))
            .values(claimed_until=None)
        )
