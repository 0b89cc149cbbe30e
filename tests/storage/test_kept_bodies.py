"""Bodies of possible articles judged not_article are kept, bounded in time, and read
again by `archiver reextract` narrowed to a site, a time range or latest versions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from archiver.crawl.extractors import Readers
from archiver.ops.reextract import reextract
from archiver.storage import Outcome, archive, models
from archiver.storage.raw import prune_kept_bodies

from .helpers import BODY_B, PARAGRAPHS, T0, make_article, make_fetch, page

ARTICLE = {"kind": "article"}


def _raw_count(session: Session) -> int:
    with session.begin():
        return session.scalar(select(func.count()).select_from(models.RawCapture))


def test_not_article_body_kept_only_when_asked_and_pruned_after_retention(
    session: Session,
) -> None:
    kept = archive(session, make_fetch("https://a.test/1", at=0, body=b"<p>teaser one</p>",
                                       meta=ARTICLE),
                   None, keep_body=True, reason="too short")
    listing = archive(session, make_fetch("https://a.test/", at=0, body=b"<p>front</p>"), None)
    assert kept.outcome is listing.outcome is Outcome.NOT_ARTICLE
    assert _raw_count(session) == 1
    # The same body kept again later, and also captured by a version: deduplicated.
    archive(session, make_fetch("https://a.test/1", at=60 * 24 * 10,
                                body=b"<p>teaser one</p>", meta=ARTICLE), None, keep_body=True)
    archive(session, make_fetch("https://a.test/2", at=0, body=b"<p>teaser two</p>",
                                meta=ARTICLE), None, keep_body=True)
    archive(session, make_fetch("https://a.test/3", at=0, body=b"<p>teaser two</p>"),
            make_article(canonical_url="https://a.test/3"))
    assert _raw_count(session) == 2

    # Retention five days after T0: both old kept fetches forget their bodies; "teaser
    # one" stays for the newer fetch, "teaser two" for the version.
    assert prune_kept_bodies(session, T0 + timedelta(days=5)) == 0
    with session.begin():
        rows = session.execute(text(
            "SELECT fetched_at, raw_capture_id FROM fetches WHERE outcome = 'not_article' "
            "AND kind = 'article' ORDER BY fetched_at, url")).all()
    assert [r.raw_capture_id is None for r in rows] == [True, True, False]
    # Later still, the last kept body goes; the version's stays.
    assert prune_kept_bodies(session, T0 + timedelta(days=20)) == 1
    assert _raw_count(session) == 1


def test_reextract_narrowed_by_site_time_and_latest(session: Session, db_url: str) -> None:
    def body(n: int) -> bytes:
        return page(PARAGRAPHS, header_date=f"day {n}", related=["x"], ad=f"ad {n}")

    for n, url in enumerate(["https://www.one.test/a", "https://two.test/b"]):
        canonical = {"canonical_url": url}
        archive(session, make_fetch(url, at=n, body=body(n)), make_article(**canonical))
        archive(session, make_fetch(url, at=100 + n, body=body(n + 10)),
                make_article(BODY_B, **canonical))
    builtin = Readers()
    # The helper pages' canonical link differs from these URLs: readings change.
    only_one = reextract(db_url, readers=builtin, site="one.test", dry_run=True, workers=1)
    assert only_one.totals["read"] == 2 and set(only_one.sites) == {"one.test"}
    latest = reextract(db_url, readers=builtin, latest_only=True, dry_run=True, workers=1)
    assert latest.totals["read"] == 2 and set(latest.sites) == {"one.test", "two.test"}
    early = reextract(db_url, readers=builtin, until=T0 + timedelta(minutes=50),
                      dry_run=True, workers=1)
    assert early.totals["read"] == 2
    done = reextract(db_url, readers=builtin, site="two.test", workers=1)
    assert done.totals["read"] == 2
    again = reextract(db_url, readers=builtin, workers=1)
    assert again.totals["read"] == 2 and set(again.sites) == {"one.test"}


def test_capture_that_no_longer_decompresses_is_an_error_and_changes_nothing(
    session: Session, db_url: str
) -> None:
    url = "https://one.test/a"
    archive(session, make_fetch(url, body=page(PARAGRAPHS, header_date="d", related=[], ad="")),
            make_article(canonical_url=url))
    with session.begin():
        session.execute(text("UPDATE raw_captures SET body = :junk"), {"junk": b"not zstd"})
        before = session.execute(text("SELECT title, text, extractor_version "
                                      "FROM article_latest")).one()
    report = reextract(db_url, readers=Readers(), workers=1)
    assert report.totals["read"] == 1 and report.totals["errors"] == 1
    with session.begin():
        after = session.execute(text("SELECT title, text, extractor_version "
                                     "FROM article_latest")).one()
        assert session.scalar(text("SELECT count(*) FROM readings")) == 0
    assert after == before


def test_progress_total_counts_what_a_narrowed_run_reads(session: Session, db_url: str) -> None:
    from archiver.ops.reextract import count_captures

    for n, url in enumerate(["https://one.test/a", "https://two.test/b"]):
        archive(session, make_fetch(url, at=n), make_article(canonical_url=url))
    archive(session, make_fetch("https://one.test/c", at=5, body=b"<p>teaser</p>",
                                meta=ARTICLE), None, keep_body=True)
    assert count_captures(db_url) == 3
    assert count_captures(db_url, site="one.test") == 2
    assert count_captures(db_url, since=T0 + timedelta(minutes=1)) == 2
    assert count_captures(db_url, until=T0 + timedelta(minutes=1), latest_only=True) == 1
