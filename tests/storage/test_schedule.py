"""The next visit after every fetch outcome, gone articles, clock skew, and claims."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archiver.storage import Outcome, archive, make_engine, models
from archiver.revisit import MAX_INTERVAL
from archiver.storage.schedule import claim, db_now

from .helpers import BODY_B, make_article, make_fetch

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


def test_clock_skew_makes_an_article_neither_due_forever_nor_never(session: Session) -> None:
    future = make_fetch(at=0)
    future.fetched_at = datetime.now(future.fetched_at.tzinfo) + timedelta(days=365)
    archive(session, future, make_article())
    due = _due_in(session)
    assert due is not None and timedelta(minutes=10) < due <= MAX_INTERVAL
    past = make_fetch(at=60, status=304, body=b"")
    past.fetched_at = datetime(2001, 1, 1, tzinfo=future.fetched_at.tzinfo)
    archive(session, past, None)
    due = _due_in(session)
    assert due is not None and timedelta(minutes=10) < due <= MAX_INTERVAL


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
