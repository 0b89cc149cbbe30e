"""The next visit after every fetch outcome, gone articles, clock skew, and claims."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from archiver.revisit import MAX_INTERVAL, MIN_INTERVAL, RevisitConfig
from archiver.storage import Outcome, archive, make_engine, models
from archiver.storage.schedule import SiteHours, after_fetch, claim, db_now, settle

from .helpers import BODY_A, BODY_B, make_article, make_fetch

URL = "https://www.example-news.com/city/night-buses"


def _row(session: Session) -> models.Article:
    session.expire_all()
    with session.begin():
        return session.scalars(select(models.Article)).one()


def _due_in(session: Session) -> timedelta | None:
    row = _row(session)
    if row.next_visit_at is None:
        return None
    with session.begin():
        return row.next_visit_at - db_now(session.connection())


def test_every_outcome_sets_the_next_visit(session: Session) -> None:
    # The article is found days after its publication: not watched every 15 minutes.
    assert archive(session, make_fetch(), make_article()).outcome is Outcome.NEW_ARTICLE
    first = _due_in(session)
    assert first is not None and timedelta(hours=12) < first <= MAX_INTERVAL
    outcomes = [
        (make_fetch(at=60), make_article(), Outcome.UNCHANGED),
        (make_fetch(at=120, status=304, body=b""), None, Outcome.NOT_MODIFIED),
        (make_fetch(at=180, status=503, body=b"", meta={"kind": "article"}), None, Outcome.ERROR),
        (make_fetch(at=240), make_article(BODY_B), Outcome.NEW_VERSION),
    ]
    for fetch, art, expected in outcomes:
        # A stale schedule, so that each outcome visibly writes a new one.
        with session.begin():
            session.execute(update(models.Article).values(next_visit_at=None))
        assert archive(session, fetch, art).outcome is expected
        assert _due_in(session) is not None, expected
    # A change brings the article back under close watch.
    changed = _due_in(session)
    assert changed is not None and changed <= timedelta(minutes=15)


def test_a_gone_article_is_checked_a_few_times_then_dropped(session: Session) -> None:
    archive(session, make_fetch(), make_article())
    dues = []
    for i in range(4):
        result = archive(session, make_fetch(at=60 * (i + 1), status=410, body=b""), None)
        assert result.outcome is Outcome.GONE
        dues.append(_due_in(session))
    assert [d is not None for d in dues] == [True, True, True, False]
    assert dues[0] < dues[1] < dues[2]  # type: ignore[operator]
    # It comes back, even with a 304: no longer gone, and followed again.
    result = archive(session, make_fetch(at=600, status=304, body=b""), None)
    assert result.outcome is Outcome.NOT_MODIFIED
    assert _row(session).gone_at is None and _due_in(session) is not None


@pytest.mark.parametrize("answer", ["unchanged", "new_version", "not_modified"])
def test_a_gone_article_that_answers_again_is_no_longer_gone(
    session: Session, answer: str
) -> None:
    archive(session, make_fetch(), make_article())
    archive(session, make_fetch(at=60, status=404, body=b""), None)
    assert _row(session).gone_at is not None
    fetch, article = {
        "unchanged": (make_fetch(at=120), make_article()),
        "new_version": (make_fetch(at=120), make_article(BODY_B)),
        "not_modified": (make_fetch(at=120, status=304, body=b""), None),
    }[answer]
    assert archive(session, fetch, article).outcome.value == answer
    row = _row(session)
    assert row.gone_at is None
    # Followed by the policy again, not by the gone article's last checks.
    assert _due_in(session) is not None


def test_clock_skew_makes_an_article_neither_due_forever_nor_never(session: Session) -> None:
    future = make_fetch(at=0)
    future.fetched_at = datetime.now(future.fetched_at.tzinfo) + timedelta(days=365)
    archive(session, future, make_article())
    due = _due_in(session)
    assert due is not None and MIN_INTERVAL - timedelta(seconds=30) < due <= MAX_INTERVAL
    past = make_fetch(at=60, status=304, body=b"")
    past.fetched_at = datetime(2001, 1, 1, tzinfo=future.fetched_at.tzinfo)
    archive(session, past, None)
    due = _due_in(session)
    assert due is not None and MIN_INTERVAL - timedelta(seconds=30) < due <= MAX_INTERVAL


def test_claims_take_due_articles_once(session: Session) -> None:
    for i in range(3):
        archive(
            session,
            make_fetch(f"https://example-news.com/a{i}"),
            make_article(canonical_url=None, title=f"Title {i}"),
        )
    archive(
        session,
        make_fetch("https://other-news.org/b"),
        make_article(canonical_url=None, title="Other"),
    )
    with session.begin():
        conn = session.connection()
        assert claim(conn) == []  # nothing due yet
        now = db_now(conn)
        for i, url in enumerate(["https://example-news.com/a2", "https://example-news.com/a0"]):
            session.execute(
                update(models.Article)
                .where(models.Article.url == url)
                .values(next_visit_at=now - timedelta(hours=i + 1))
            )
    with session.begin():
        first = claim(session.connection(), limit=1)
    assert [c.url for c in first] == ["https://example-news.com/a0"]  # oldest due first
    with session.begin():
        second = claim(session.connection())
    assert [c.url for c in second] == ["https://example-news.com/a2"]  # a0 is leased
    with session.begin():
        assert claim(session.connection()) == []
        everything = claim(session.connection(), due_only=False, domains=["example-news.com"])
    assert sorted(c.url for c in everything) == ["https://example-news.com/a1"]
    with session.begin():
        other = claim(session.connection(), due_only=False, domains=["www.other-news.org"])
    assert [c.url for c in other] == ["https://other-news.org/b"]


def test_clocks_of_several_crawl_machines_keep_every_article_within_reach(
    session: Session,
) -> None:
    """Fetches written by machines whose clocks disagree (a day ahead, a day behind, a
    year behind), in turn: every next visit stays within the policy's bounds of the
    database's clock, so the article is never due at once forever nor pushed out."""
    archive(session, make_fetch(), make_article())
    real = datetime.now(make_fetch().fetched_at.tzinfo)
    for i, skew in enumerate([timedelta(days=1), -timedelta(days=1), -timedelta(days=365),
                              timedelta(days=1), timedelta(0)]):
        fetch = make_fetch(at=60 * (i + 1), status=304, body=b"")
        fetch.fetched_at = real + skew
        archive(session, fetch, None)
        due = _due_in(session)
        assert due is not None and timedelta(minutes=10) < due <= MAX_INTERVAL, skew
    # Claims compare with the database's clock too: due an hour ago there is due.
    with session.begin():
        conn = session.connection()
        session.execute(update(models.Article).values(
            next_visit_at=db_now(conn) - timedelta(hours=1)))
    with session.begin():
        assert [c.url for c in claim(session.connection())] == [URL]


def _claim_all(session: Session, n: int) -> list:
    for i in range(n):
        archive(
            session,
            make_fetch(f"https://example-news.com/s{i}"),
            make_article(canonical_url=None, title=f"Title {i}"),
        )
    with session.begin():
        conn = session.connection()
        due = db_now(conn) - timedelta(minutes=5)
        session.execute(update(models.Article).values(next_visit_at=due))
    with session.begin():
        return claim(session.connection())


def test_claims_a_crawl_did_not_fetch_are_due_again_at_once(session: Session) -> None:
    claimed = _claim_all(session, 3)
    fetched, unanswered, redirected = claimed
    # One was fetched (its fetch released the claim and set its next visit).
    archive(session, make_fetch(fetched.url, at=30), make_article(canonical_url=None,
                                                                   title="Title 0"))
    with session.begin():
        settled = settle(session.connection(), claimed, answered={fetched.id, redirected.id})
    assert (settled.released, settled.rescheduled) == (1, 1)
    session.expire_all()
    with session.begin():
        rows = {a.id: a for a in session.scalars(select(models.Article))}
        now = db_now(session.connection())
    assert all(a.claimed_until is None for a in rows.values())
    # Not reached: due now (as before the claim), for the next crawl to take at once.
    assert rows[unanswered.id].next_visit_at < now
    # Answered but archived under another article (a redirect): scheduled, not due
    # again forever.
    assert rows[redirected.id].next_visit_at > now
    assert rows[fetched.id].next_visit_at > now
    with session.begin():
        assert [c.url for c in claim(session.connection())] == [unanswered.url]


def test_a_crawl_end_leaves_alone_claims_another_crawl_took_since(session: Session) -> None:
    """A lease that ran out and another crawl's claim since: the first crawl's end must
    not release the second's."""
    claimed = _claim_all(session, 1)
    with session.begin():
        session.execute(update(models.Article).values(claimed_until=None))
    with session.begin():
        again = claim(session.connection(), lease=timedelta(hours=2))
    assert [c.id for c in again] == [claimed[0].id]
    with session.begin():
        settled = settle(session.connection(), claimed, answered=set())
    assert (settled.released, settled.rescheduled) == (0, 0)
    assert _row(session).claimed_until is not None


@pytest.mark.postgres
def test_two_revisit_crawls_never_claim_the_same_article(pg_url: str) -> None:
    """Two crawls claiming at once on PostgreSQL: the second skips the rows the first
    holds locked (SKIP LOCKED) and, once the first commits, its leased rows."""
    engine = make_engine(pg_url)
    try:
        with Session(engine) as session:
            for i in range(6):
                archive(
                    session,
                    make_fetch(f"https://example-news.com/c{i}"),
                    make_article(canonical_url=None, title=f"Title {i}"),
                )
            with session.begin():
                session.execute(
                    update(models.Article).values(
                        next_visit_at=db_now(session.connection()) - timedelta(minutes=1)
                    )
                )
        with engine.connect() as a, engine.connect() as b:
            with a.begin():
                first = claim(a, limit=4)
                with b.begin():
                    second = claim(b)  # while the first crawl's rows are locked
            with b.begin():
                third = claim(b)  # after the first committed its leases
        ids = [c.id for c in first + second + third]
        assert len(first) == 4 and len(second) == 2 and third == []
        assert len(set(ids)) == 6
    finally:
        engine.dispose()


def _site_that_edits_by_day(session: Session, articles: int) -> int:
    """``articles`` stories of one site over the last three weeks, published at every
    hour, revisited every 70 minutes for a day: fetches from 8:00 to 20:00 (UTC) find a
    change, the others none. Returns the site's id."""
    start = (datetime.now(UTC) - timedelta(days=21)).replace(minute=0, second=0, microsecond=0)
    for a in range(articles):
        url = f"https://www.example-news.com/city/story-{a}"
        published = start + a * timedelta(hours=7)
        text = BODY_A
        for k in range(20):
            at = published + k * timedelta(minutes=70)
            if k and 8 <= at.hour < 20:
                text = f"{text}\n\nUpdate {k}: the council answered."
            fetch = replace(make_fetch(url, meta={"kind": "article"}), fetched_at=at)
            archive(session, fetch, make_article(text, canonical_url=url, published_at=published))
    with session.begin():
        return session.scalars(select(models.Article.site_id)).first()


def test_a_sites_working_hours_are_learned_from_its_fetch_log(session: Session) -> None:
    site = _site_that_edits_by_day(session, 24)
    with session.begin():
        conn = session.connection()
        now = db_now(conn)
        changes = session.scalar(
            select(func.count()).where(models.Fetch.outcome == Outcome.NEW_VERSION.value))
        assert changes >= 48
        learned = SiteHours().learn(conn, site, now)
        assert learned is not None
        day, night = learned.weights[9:19], learned.weights[:7] + learned.weights[21:]
        assert min(day) > 2 * max(night)
        # The window is the last 30 days: a month later the site has no hours yet.
        assert SiteHours().learn(conn, site, now + timedelta(days=40)) is None
        # Kept in site_hours for every crawl process: the crawl stored what the site's
        # first fetch taught (nothing yet), and keeps it for the ttl (6 hours).
        first = session.get(models.SiteEditHours, site)
        assert first is not None and first.weights is None and first.changes == 0
        hours = SiteHours()
        assert hours.get(conn, site, now) is None
        # Older than that, learned again.
        later = now + timedelta(hours=7)
        assert hours.get(conn, site, later).weights == pytest.approx(learned.weights)
        session.expire_all()
        stored = session.get(models.SiteEditHours, site)
        assert stored.learned_at == later and stored.changes == changes
        # The README's query for it.
        readme = (Path(__file__).parents[2] / "README.md").read_text()
        query = re.search(r"`(SELECT s\.domain, h\.weights.*?)`", readme)
        assert query is not None
        assert [(r.domain, r.changes) for r in conn.execute(text(query[1]))] == [
            ("example-news.com", changes)]
        conn.execute(update(models.SiteEditHours).values(weights=[1.0] * 24))
        assert hours.get(conn, site, later + timedelta(hours=5)).weights == (1.0,) * 24
        assert hours.get(conn, site, later + timedelta(hours=7)).weights == pytest.approx(
            learned.weights)
        # An article last seen quiet at night: its wait runs on the site's clock.
        last_fetches = session.execute(
            select(models.Fetch.article_id, func.max(models.Fetch.fetched_at))
            .group_by(models.Fetch.article_id)
        ).all()
        article, last = next((a, t) for a, t in last_fetches if not 2 <= t.hour < 22)
        plain = after_fetch(conn, article, last, site_hours=None)
        by_hours = after_fetch(conn, article, last, site_hours=hours)
        assert plain is not None and by_hours is not None
        assert abs(plain - by_hours) > timedelta(minutes=1)
        # ARCHIVER_REVISIT_LEARN_HOURS=off (or a source's revisit_learn_hours = false).
        # (Each due time is the database's clock plus the wait: SQLite's clock moves
        # between statements.)
        off = after_fetch(conn, article, last, RevisitConfig(learn_hours=False), hours)
        assert off is not None and abs(off - plain) < timedelta(seconds=5)


def test_a_site_with_few_changes_has_every_hour_alike(session: Session) -> None:
    site = _site_that_edits_by_day(session, 4)
    with session.begin():
        conn = session.connection()
        assert SiteHours().learn(conn, site, db_now(conn)) is None
        # Stored as such, so that it is not learned again at every fetch.
        assert SiteHours().get(conn, site, db_now(conn) + timedelta(hours=7)) is None
        session.expire_all()
        stored = session.get(models.SiteEditHours, site)
        assert stored is not None and stored.weights is None and 0 < stored.changes < 48
