"""Versions record their change classes where they are written, re-read and reordered, and
the article_changes view lists them (SQLite and PostgreSQL); migration 0011 classifies an
archive of the previous schema."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from archiver.crawl.extractors import Readers
from archiver.ops.reextract import reextract
from archiver.storage import archive, make_engine, migrate
from archiver.storage.archive import Reread, RereadNeeded
from archiver.storage.urlkey import url_sha256

from .helpers import BODY_A, BODY_B, PARAGRAPHS, make_article, make_fetch, page

URL = "https://www.example-news.com/city/night-buses"
NOTE = "Correction: An earlier version of this article misstated the number of residents."


def changes(session: Session) -> list[tuple[int, str, int, int]]:
    session.rollback()
    rows = session.execute(text(
        "SELECT version, change_classes, words_added, words_removed FROM article_changes "
        "WHERE url = :u ORDER BY version"), {"u": URL}).all()
    session.rollback()
    return [tuple(r) for r in rows]


def test_each_new_version_records_its_change(session: Session) -> None:
    archive(session, make_fetch(at=0), make_article())
    archive(session, make_fetch(at=10), make_article(BODY_B + "\n\n" + NOTE))
    archive(session, make_fetch(at=20), make_article(BODY_B + "\n\n" + NOTE, title="Fewer riders"))
    archive(session, make_fetch(at=30), make_article())  # back to A
    archive(session, make_fetch(at=40), make_article())  # unchanged: no row
    note_words = len(NOTE.split())
    assert changes(session) == [
        (2, "correction,substantive", 1 + note_words, 1),
        (3, "headline", 0, 0),
        (4, "headline,substantive,revert", 1, 1 + note_words),
    ]
    session.rollback()
    row = session.execute(text(
        "SELECT old_title, new_title, site, captured_at FROM article_changes "
        "WHERE version = 3")).one()
    assert (row.old_title, row.new_title, row.site) == (
        make_article().title, "Fewer riders", "example-news.com")
    first = session.execute(text(
        "SELECT change_classes, words_added FROM versions WHERE version = 1")).one()
    assert tuple(first) == (None, None)


def test_late_capture_reclassifies_the_versions_after_it(session: Session) -> None:
    archive(session, make_fetch(at=0), make_article())
    archive(session, make_fetch(at=20), make_article(title="A new headline"))
    assert changes(session) == [(2, "headline", 0, 0)]
    # A capture made at minute 10, written late: B's body, the old title.
    archive(session, make_fetch(at=10), make_article(BODY_B))
    assert changes(session) == [
        (2, "substantive", 1, 1),
        (3, "headline,substantive", 1, 1),
    ]


def test_late_capture_makes_a_revert_of_a_later_version(session: Session) -> None:
    """A, then C: a late B between them makes A, B, ... and a capture of A after C
    is a revert once B sits in history."""
    archive(session, make_fetch(at=0), make_article())
    archive(session, make_fetch(at=10), make_article(BODY_B))
    archive(session, make_fetch(at=30), make_article())
    assert [c[1] for c in changes(session)] == ["substantive", "substantive,revert"]
    late = BODY_A.replace("in March", "in April")
    archive(session, make_fetch(at=5), make_article(late))
    # A, A', B, A: the last is still A again after B, and A' -> B is no revert.
    assert [c[1] for c in changes(session)] == [
        "substantive", "substantive", "substantive,revert"]


def test_a_new_reading_of_the_current_version_reclassifies_it(session: Session) -> None:
    archive(session, make_fetch(at=0), make_article())
    archive(session, make_fetch(at=10), make_article(BODY_B))
    assert changes(session) == [(2, "substantive", 1, 1)]
    upgraded = make_article(BODY_B, title="A fuller headline", extractor_version="test/2")
    with pytest.raises(RereadNeeded) as needed:
        archive(session, make_fetch(at=20), upgraded, can_reread=True)
    reread = Reread(2, needed.value.raw_capture_id, upgraded)
    archive(session, make_fetch(at=20), upgraded, reread=reread, can_reread=True)
    assert changes(session) == [(2, "headline,substantive", 1, 1)]


def test_reextract_reclassifies_with_the_newest_readings(db_url: str) -> None:
    """Stored readings with different titles made v2 a headline change; the running
    extractor reads the same headline in both captures, so it no longer is."""
    from archiver.storage import make_sessionmaker

    engine = make_engine(db_url)
    try:
        sessions = make_sessionmaker(engine)
        pages = [page(PARAGRAPHS, header_date="Mon", related=["x"], ad="ad 1"),
                 page(BODY_B.split("\n\n"), header_date="Tue", related=["y"], ad="ad 2")]
        with sessions() as session:
            archive(session, make_fetch(at=0, body=pages[0]), make_article(title="Old"))
            archive(session, make_fetch(at=10, body=pages[1]),
                    make_article(BODY_B, title="New"))
            assert [c[1] for c in changes(session)] == ["headline,substantive"]
        report = reextract(db_url, readers=Readers(), workers=1)
        assert report.totals["read"] == 2 and not report.interrupted
        with sessions() as session:
            assert [c[1:] for c in changes(session)] == [("substantive", 1, 1)]
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("empty_pg_url")


def test_migration_classifies_an_archive_of_the_previous_schema(empty_url: str) -> None:
    """Versions written before 0011 (A, B, A of one article, one version of another) are
    classified by the migration; downgrading removes the columns and the view again."""
    migrate.upgrade(empty_url, "0010")
    engine = make_engine(empty_url)
    t0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    texts = [(1, 1, BODY_A, "Title", "h1"), (1, 2, BODY_B, "Title", "h2"),
             (1, 3, BODY_A, "Title", "h1"), (2, 1, BODY_A, "Other", "h9")]
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO sites (id, domain, first_seen_at) VALUES (1, 'a.test', :t)"),
                {"t": t0})
            for article_id, count in ((1, 3), (2, 1)):
                conn.execute(text(
                    "INSERT INTO articles (id, site_id, url, url_sha256, first_seen_at, "
                    "last_fetched_at, last_changed_at, current_version, current_hash) "
                    "VALUES (:id, 1, :url, :digest, :t, :t, :t, :n, 'h')"),
                    {"id": article_id, "url": f"https://a.test/{article_id}", "t": t0,
                     "digest": url_sha256(f"https://a.test/{article_id}"), "n": count})
            for article_id, number, body, title, digest in texts:
                conn.execute(text(
                    "INSERT INTO versions (article_id, version, captured_at, title, text, "
                    "paywalled, paywall_evidence, content_hash, extractor_version, metadata) "
                    "VALUES (:a, :n, :t, :title, :body, :f, '[]', :h, 'old/1', '{}')"),
                    {"a": article_id, "n": number, "t": t0 + timedelta(hours=number),
                     "title": title, "body": body, "f": False, "h": digest})

        migrate.upgrade(empty_url, "0011")
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT url, version, change_classes, words_added, words_removed, old_title, "
                "new_title FROM article_changes ORDER BY url, version")).all()
        assert [tuple(r) for r in rows] == [
            ("https://a.test/1", 2, "substantive", 1, 1, "Title", "Title"),
            ("https://a.test/1", 3, "substantive,revert", 1, 1, "Title", "Title"),
        ]
        migrate.upgrade(empty_url)
        migrate.check(empty_url)

        migrate.downgrade(empty_url, "0010")
        columns = {c["name"] for c in inspect(engine).get_columns("versions")}
        assert not columns & {"change_classes", "words_added", "words_removed"}
        assert "article_changes" not in inspect(engine).get_view_names()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM versions")).scalar() == 4
    finally:
        engine.dispose()
