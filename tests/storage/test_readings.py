"""Readings: an extractor upgrade makes no version, and every reading is kept."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archiver.storage import Outcome, archive, make_engine, migrate, models
from archiver.storage.archive import Reread, RereadNeeded

from .helpers import BODY_A, BODY_B, make_article, make_fetch

#: The running extractor's reading differs from the old one's (a decoded title, say).
UPGRADED_TITLE = "Council extends night buses to the northern suburbs"


def _views(session: Session, sql: str, **params: object) -> list:
    with session.begin():
        return list(session.execute(text(sql), params).all())


def test_upgrade_rereads_and_makes_no_version(session: Session) -> None:
    first = archive(session, make_fetch(at=0), make_article())
    upgraded = make_article(title=UPGRADED_TITLE, extractor_version="test/2")

    with pytest.raises(RereadNeeded) as needed:
        archive(session, make_fetch(at=10), upgraded, can_reread=True)
    assert needed.value.version == 1 and needed.value.extractor_version == "test/1"
    raw_id = needed.value.raw_capture_id

    # The running extractor re-reads version 1's capture the same way it reads the page.
    reread = Reread(version=1, raw_capture_id=raw_id, article=upgraded)
    again = archive(session, make_fetch(at=10), upgraded, reread=reread, can_reread=True)
    assert again.outcome is Outcome.UNCHANGED and again.version == 1
    assert "re-read by test/2" in again.reason

    latest = _views(session, "SELECT title, version_count, extractor_version FROM article_latest")
    assert [tuple(r) for r in latest] == [(UPGRADED_TITLE, 1, "test/2")]
    readings = _views(
        session,
        "SELECT extractor_version, is_newest, title FROM version_readings ORDER BY read_at",
    )
    assert [(r.extractor_version, bool(r.is_newest), r.title) for r in readings] == [
        ("test/1", False, make_article().title),
        ("test/2", True, UPGRADED_TITLE),
    ]
    # The next fetch read by the same extractor compares directly: unchanged, no re-read.
    third = archive(session, make_fetch(at=20), upgraded, can_reread=True)
    assert third.outcome is Outcome.UNCHANGED and third.article_id == first.article_id


def test_real_edit_across_an_upgrade_is_one_version(session: Session) -> None:
    archive(session, make_fetch(at=0), make_article())
    edited = make_article(BODY_B, title=UPGRADED_TITLE, extractor_version="test/2")
    old_reread = make_article(title=UPGRADED_TITLE, extractor_version="test/2")
    with pytest.raises(RereadNeeded) as needed:
        archive(session, make_fetch(at=10), edited, can_reread=True)
    reread = Reread(1, needed.value.raw_capture_id, old_reread)
    result = archive(session, make_fetch(at=10), edited, reread=reread, can_reread=True)
    assert result.outcome is Outcome.NEW_VERSION and result.version == 2
    rows = _views(
        session, "SELECT version, title, text, unverified_change FROM article_versions "
        "ORDER BY version",
    )
    # Version 1 now shows its upgraded reading too; the change is the publisher's edit.
    assert [(r.version, r.title, r.text, bool(r.unverified_change)) for r in rows] == [
        (1, UPGRADED_TITLE, BODY_A, False),
        (2, UPGRADED_TITLE, BODY_B, False),
    ]


def test_no_capture_to_reread_is_said_and_flagged(session: Session) -> None:
    archive(session, make_fetch(at=0, body=None), make_article())
    upgraded = make_article(title=UPGRADED_TITLE, extractor_version="test/2")
    result = archive(session, make_fetch(at=10), upgraded, can_reread=True)
    assert result.outcome is Outcome.NEW_VERSION
    assert "no raw capture to re-read" in result.reason
    with session.begin():
        fetch = session.scalars(
            select(models.Fetch).where(models.Fetch.outcome == "new_version")
        ).one()
        assert fetch.reason == result.reason
    flags = _views(session, "SELECT version, unverified_change FROM article_versions "
                   "ORDER BY version")
    assert [(r.version, bool(r.unverified_change)) for r in flags] == [(1, False), (2, True)]


def test_same_extractor_reading_again_is_idempotent(session: Session) -> None:
    archive(session, make_fetch(at=0), make_article())
    upgraded = make_article(title=UPGRADED_TITLE, extractor_version="test/2")
    with pytest.raises(RereadNeeded) as needed:
        archive(session, make_fetch(at=10), upgraded, can_reread=True)
    reread = Reread(1, needed.value.raw_capture_id, upgraded)
    archive(session, make_fetch(at=10), upgraded, reread=reread, can_reread=True)
    archive(session, make_fetch(at=20), upgraded, reread=reread, can_reread=True)
    assert len(_views(session, "SELECT * FROM version_readings")) == 2


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("empty_pg_url")


def test_migration_upgrades_an_archive_of_the_previous_schema(empty_url: str) -> None:
    """An archive written by the schema before readings (0002) upgrades in place with
    nothing lost, and downgrades again."""
    migrate.upgrade(empty_url, "0002")
    engine = make_engine(empty_url)
    t0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, domain, first_seen_at) VALUES (1, 'a.test', :t)"),
                         {"t": t0})
            conn.execute(text(
                "INSERT INTO articles (id, site_id, url, first_seen_at, last_fetched_at, "
                "last_changed_at, current_version, current_hash) "
                "VALUES (1, 1, 'https://a.test/x', :t, :t, :t, 1, 'h1')"), {"t": t0})
            conn.execute(text(
                "INSERT INTO versions (id, article_id, version, captured_at, title, text, "
                "paywalled, paywall_evidence, content_hash, extractor_version, metadata) "
                "VALUES (1, 1, 1, :t, 'Old title', 'Old text', :f, '[]', 'h1', 'old/1', '{}')"),
                {"t": t0, "f": False})
            conn.execute(text(
                "INSERT INTO fetches (id, uid, url, fetched_at, outcome, article_id, version, "
                "headers) VALUES (1, 'u1', 'https://a.test/x', :t, 'new_article', 1, 1, '{}')"),
                {"t": t0})
            conn.execute(text(
                "INSERT INTO fetches (id, uid, url, fetched_at, outcome, headers) "
                "VALUES (2, 'u2', 'https://a.test/', :t, 'not_article', '{}')"), {"t": t0})

        migrate.upgrade(empty_url)
        with engine.connect() as conn:
            latest = conn.execute(text(
                "SELECT title, text, version_count, extractor_version, unverified_change "
                "FROM article_latest")).one()
            assert (latest.title, latest.text, latest.version_count,
                    latest.extractor_version, bool(latest.unverified_change)) == (
                "Old title", "Old text", 1, "old/1", False)
            readings = conn.execute(text(
                "SELECT extractor_version, is_newest, read_at FROM version_readings")).all()
            assert [(r.extractor_version, bool(r.is_newest)) for r in readings] == [
                ("old/1", True)]
            kinds = conn.execute(text("SELECT uid, kind FROM fetches ORDER BY uid")).all()
            assert [tuple(k) for k in kinds] == [("u1", "article"), ("u2", None)]
        migrate.check(empty_url)

        migrate.downgrade(empty_url, "0002")
        with engine.connect() as conn:
            row = conn.execute(text("SELECT title, text, version_count FROM article_latest")).one()
            assert tuple(row) == ("Old title", "Old text", 1)
            assert conn.execute(text("SELECT count(*) FROM fetches")).scalar() == 2
    finally:
        engine.dispose()
