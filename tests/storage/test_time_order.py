"""History keeps time's order whatever order writes arrive in, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archiver.crawl.spool import SpoolWriter, replay
from archiver.storage import Outcome, archive, make_engine, make_sessionmaker, models

from .helpers import BODY_A, BODY_B, make_article, make_fetch

BODY_C = BODY_A.replace("in March", "in April")
URL = "https://www.example-news.com/city/night-buses"


def history(session: Session, url: str = URL) -> list[tuple[int, str, int]]:
    """(version, body letter, minutes after T0) in version order, checked against the
    views: numbers 1..n in capture order, the newest capture is the current one."""
    session.rollback()
    letters = {BODY_A: "A", BODY_B: "B", BODY_C: "C"}
    rows = session.execute(text(
        "SELECT version, text, captured_at FROM article_versions WHERE url = :u "
        "ORDER BY version"), {"u": url}).all()
    t0 = make_fetch().fetched_at
    out = [(r.version, letters[r.text], _minutes(r.captured_at, t0)) for r in rows]
    assert [v for v, _, _ in out] == list(range(1, len(out) + 1))
    assert [m for _, _, m in out] == sorted(m for _, _, m in out)
    latest = session.execute(text(
        "SELECT version, text, version_count, last_changed_at FROM article_latest "
        "WHERE url = :u"), {"u": url}).one()
    assert (latest.version, latest.version_count) == (len(out), len(out))
    assert letters[latest.text] == out[-1][1]
    assert _minutes(latest.last_changed_at, t0) == out[-1][2]
    session.rollback()
    return out


def _minutes(value, t0) -> int:
    if isinstance(value, str):  # SQLite views give text
        from datetime import datetime
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=t0.tzinfo)
    return int((value - t0).total_seconds() // 60)


def fetch_versions(session: Session) -> list[tuple[int, str, int]]:
    t0 = make_fetch().fetched_at
    rows = session.execute(
        select(models.Fetch.fetched_at, models.Fetch.outcome, models.Fetch.version)
        .order_by(models.Fetch.fetched_at)
    ).all()
    session.rollback()
    return [(_minutes(r.fetched_at, t0), r.outcome, r.version) for r in rows]


def test_older_spool_replayed_after_a_newer_crawl(db_url: str, tmp_path) -> None:
    spool = SpoolWriter(tmp_path / "old.jsonl")
    spool.write(make_fetch(at=10), make_article(BODY_A))  # the database was down then
    spool.close()
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            archive(session, make_fetch(at=20), make_article(BODY_B))  # the next crawl
            report = replay(tmp_path / "old.jsonl", db_url)
            assert report.loaded == 1
            assert history(session) == [(1, "A", 10), (2, "B", 20)]
            assert fetch_versions(session) == [(10, "new_version", 1), (20, "new_article", 2)]
            # The next crawl finds B again: unchanged, no phantom edit.
            again = archive(session, make_fetch(at=30), make_article(BODY_B))
            assert (again.outcome, again.version) == (Outcome.UNCHANGED, 2)
            first_seen = session.scalar(select(models.Article.first_seen_at))
            session.rollback()
            assert _minutes(first_seen, make_fetch().fetched_at) == 10
    finally:
        engine.dispose()


def test_late_capture_compared_with_the_version_current_at_its_time(session: Session) -> None:
    archive(session, make_fetch(at=0), make_article(BODY_A))
    archive(session, make_fetch(at=20), make_article(BODY_B))
    late_same = archive(session, make_fetch(at=10), make_article(BODY_A))
    assert (late_same.outcome, late_same.version) == (Outcome.UNCHANGED, 1)
    late_next = archive(session, make_fetch(at=15), make_article(BODY_B))
    assert (late_next.outcome, late_next.version) == (Outcome.UNCHANGED, 2)
    assert "earlier sighting of version 2" in late_next.reason
    assert history(session) == [(1, "A", 0), (2, "B", 20)]


def test_late_change_is_inserted_at_its_time_and_renumbers(session: Session) -> None:
    archive(session, make_fetch(at=0), make_article(BODY_A))
    archive(session, make_fetch(at=20), make_article(BODY_C))
    archive(session, make_fetch(at=30), make_article(BODY_C))
    late = archive(session, make_fetch(at=10), make_article(BODY_B))
    assert (late.outcome, late.version) == (Outcome.NEW_VERSION, 2)
    assert history(session) == [(1, "A", 0), (2, "B", 10), (3, "C", 20)]
    # The fetches that named C's old number follow it.
    assert fetch_versions(session) == [
        (0, "new_article", 1), (10, "new_version", 2), (20, "new_version", 3),
        (30, "unchanged", 3),
    ]


def test_content_that_came_back_after_a_late_change_is_restored(session: Session) -> None:
    # A at 0 and again at 20 (written first); B was on the page at 10, written last.
    archive(session, make_fetch(at=0), make_article(BODY_A))
    archive(session, make_fetch(at=20), make_article(BODY_A))
    archive(session, make_fetch(at=30), make_article(BODY_A))
    late = archive(session, make_fetch(at=10), make_article(BODY_B))
    assert (late.outcome, late.version) == (Outcome.NEW_VERSION, 2)
    assert history(session) == [(1, "A", 0), (2, "B", 10), (3, "A", 20)]
    assert fetch_versions(session) == [
        (0, "new_article", 1), (10, "new_version", 2), (20, "new_version", 3),
        (30, "unchanged", 3),
    ]


def test_late_change_between_older_versions_restores_before_the_next(session: Session) -> None:
    archive(session, make_fetch(at=0), make_article(BODY_A))
    archive(session, make_fetch(at=20), make_article(BODY_A))
    archive(session, make_fetch(at=40), make_article(BODY_C))
    archive(session, make_fetch(at=10), make_article(BODY_B))
    assert history(session) == [(1, "A", 0), (2, "B", 10), (3, "A", 20), (4, "C", 40)]


def test_earlier_sighting_of_the_first_version(session: Session) -> None:
    archive(session, make_fetch(at=20), make_article(BODY_A))
    late = archive(session, make_fetch(at=10), make_article(BODY_A))
    assert (late.outcome, late.version) == (Outcome.UNCHANGED, 1)
    first_seen = session.scalar(select(models.Article.first_seen_at))
    session.rollback()
    assert _minutes(first_seen, make_fetch().fetched_at) == 10


def test_capture_older_than_the_first_version(session: Session) -> None:
    archive(session, make_fetch(at=20), make_article(BODY_B))
    late = archive(session, make_fetch(at=10), make_article(BODY_A))
    assert (late.outcome, late.version) == (Outcome.NEW_VERSION, 1)
    assert history(session) == [(1, "A", 10), (2, "B", 20)]


def test_overlapping_writers_the_slower_holding_the_older_capture(db_url: str) -> None:
    """Two crawl processes fetch the same articles; the one that fetched first writes at
    the same moment as the other or later. Whoever wins, the newest capture is current."""
    articles = 20
    urls = [f"https://www.example-news.com/city/story-{i}" for i in range(articles)]
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            for url in urls:
                archive(session, make_fetch(url, at=0), make_article(BODY_A, canonical_url=url))
    finally:
        engine.dispose()
    barrier = threading.Barrier(2)

    def writer(older: bool) -> None:
        eng = make_engine(db_url)
        sessions = make_sessionmaker(eng)
        try:
            for i, url in enumerate(urls):
                barrier.wait(timeout=60)
                # The slower writer: every other article it starts after the other wrote.
                if older and i % 2:
                    barrier.wait(timeout=60)
                body, at = (BODY_B, 10) if older else (BODY_C, 20)
                with sessions() as session:
                    archive(session, make_fetch(url, at=at),
                            make_article(body, canonical_url=url))
                if not older and i % 2:
                    barrier.wait(timeout=60)
        finally:
            eng.dispose()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(writer, [True, False]))
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            for url in urls:
                assert history(session, url) == [(1, "A", 0), (2, "B", 10), (3, "C", 20)]
    finally:
        engine.dispose()
