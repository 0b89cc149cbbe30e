"""The versioning rule, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from archiver.extract import extract
from archiver.storage import Outcome, archive, content_fingerprint, models, validators
from archiver.storage.raw import load_raw

from .helpers import BODY_A, BODY_B, PARAGRAPHS, make_article, make_fetch, page


def versions(session: Session, article_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(models.Version.version, models.Version.text)
        .where(models.Version.article_id == article_id)
        .order_by(models.Version.version)
    )
    return [(r.version, r.text) for r in rows]


def test_first_fetch_makes_article_and_version_1(session: Session) -> None:
    result = archive(session, make_fetch(), make_article())
    assert result.outcome is Outcome.NEW_ARTICLE
    assert result.version == 1
    art = session.get(models.Article, result.article_id)
    assert art.url == "https://www.example-news.com/city/night-buses"
    assert art.site.domain == "example-news.com"
    v = session.scalars(select(models.Version)).one()
    assert v.authors == "Ana Ruiz; Tom Berg"
    assert v.meta["authors"] == ["Ana Ruiz", "Tom Berg"]
    assert v.published_at.isoformat() == "2026-10-30T08:15:00+00:00"
    assert v.text == BODY_A
    fetch_row = session.scalars(select(models.Fetch)).one()
    assert fetch_row.outcome == "new_article"
    assert fetch_row.article_id == art.id and fetch_row.version == 1
    assert fetch_row.raw_capture_id == v.raw_capture_id is not None


def test_same_content_is_unchanged_and_edit_is_new_version(session: Session) -> None:
    first = archive(session, make_fetch(at=0), make_article())
    again = archive(session, make_fetch(at=10), make_article())
    edited = archive(session, make_fetch(at=20), make_article(BODY_B))
    assert [first.outcome, again.outcome, edited.outcome] == [
        Outcome.NEW_ARTICLE, Outcome.UNCHANGED, Outcome.NEW_VERSION,
    ]
    assert again.version == 1 and edited.version == 2
    assert versions(session, first.article_id) == [(1, BODY_A), (2, BODY_B)]
    art = session.get(models.Article, first.article_id)
    session.refresh(art)
    assert art.current_version == 2
    assert art.last_fetched_at.isoformat() == "2026-11-01T12:20:00+00:00"


def test_a_b_a_gives_three_versions(session: Session) -> None:
    outcomes = [
        archive(session, make_fetch(at=i), make_article(body)).outcome
        for i, body in enumerate([BODY_A, BODY_B, BODY_A])
    ]
    assert outcomes == [Outcome.NEW_ARTICLE, Outcome.NEW_VERSION, Outcome.NEW_VERSION]
    assert [v for v, _ in versions(session, 1)] == [1, 2, 3]
    assert session.scalar(text("SELECT version_count FROM article_latest")) == 3


def test_chrome_only_change_of_real_page_is_unchanged(session: Session) -> None:
    """The raw HTML never decides: new header date, related list and ad give no version."""
    url = "https://www.example-news.com/city/night-buses"
    visit1 = page(PARAGRAPHS, header_date="Tuesday, Nov 25, 2025",
                  related=["Mayor opens bridge", "Rain expected"], ad="Buy shoes")
    visit2 = page(PARAGRAPHS, header_date="Wednesday, Nov 26, 2025",
                  related=["Tram strike called off", "Zoo welcomes panda", "Rain expected"],
                  ad="Cheap flights to Rome")
    assert visit1 != visit2
    r1 = archive(session, make_fetch(url, at=0, body=visit1), extract(visit1, url))
    r2 = archive(session, make_fetch(url, at=60, body=visit2), extract(visit2, url))
    assert (r1.outcome, r2.outcome) == (Outcome.NEW_ARTICLE, Outcome.UNCHANGED)

    corrected = page([p.replace("40,000", "14,000") for p in PARAGRAPHS],
                     header_date="Thursday, Nov 27, 2025", related=[], ad="Tea")
    r3 = archive(session, make_fetch(url, at=120, body=corrected), extract(corrected, url))
    assert r3.outcome is Outcome.NEW_VERSION and r3.version == 2
    assert "14,000" in versions(session, r1.article_id)[-1][1]
    # Each version keeps the raw body that produced it.
    raw_ids = session.scalars(select(models.Version.raw_capture_id).order_by(models.Version.version)).all()
    assert load_raw(session, raw_ids[0]) == visit1
    assert load_raw(session, raw_ids[1]) == corrected


def test_whitespace_and_unicode_composition_do_not_make_versions() -> None:
    a = make_article("Café  au lait\n\nis  served.")
    b = make_article("Cafe\u0301 au lait is served.\u200b")
    assert content_fingerprint(a) == content_fingerprint(b)
    assert content_fingerprint(a) != content_fingerprint(make_article("Café au lait is cold."))
    assert content_fingerprint(a) != content_fingerprint(make_article(a.text, title="Other"))
    assert content_fingerprint(a) != content_fingerprint(make_article(a.text, authors=["X"]))


def test_identical_raw_body_is_stored_once(session: Session) -> None:
    body = b"<html>" + b"x" * 50_000 + b"</html>"
    archive(session, make_fetch("https://example-news.com/a", body=body),
            make_article(canonical_url="https://example-news.com/a"))
    archive(session, make_fetch("https://example-news.com/b", body=body),
            make_article(BODY_B, canonical_url="https://example-news.com/b"))
    raw = session.scalars(select(models.RawCapture)).one()
    assert raw.size == len(body) and raw.compressed_size < len(body) / 20
    assert load_raw(session, raw.id) == body
    assert session.scalar(select(func.count()).select_from(models.Version)) == 2


def test_tracking_variants_and_redirects_reach_one_article(session: Session) -> None:
    base = "https://www.example-news.com/city/night-buses"
    r1 = archive(session, make_fetch(base + "?utm_source=x&fbclid=1#top", at=0),
                 make_article(canonical_url=None))
    r2 = archive(session, make_fetch("https://short.example/abc", final_url=base + "?gclid=9", at=1),
                 make_article(canonical_url=None))
    r3 = archive(session, make_fetch("https://EXAMPLE-news.com:443/x", at=2),
                 make_article(canonical_url=base))
    assert r1.article_id == r2.article_id == r3.article_id
    assert [r.outcome for r in (r1, r2, r3)] == [Outcome.NEW_ARTICLE, Outcome.UNCHANGED, Outcome.UNCHANGED]


def test_foreign_canonical_does_not_name_the_article(session: Session) -> None:
    r = archive(session, make_fetch("https://syndicator.example/story/1"),
                make_article(canonical_url="https://www.example-news.com/city/night-buses"))
    assert session.get(models.Article, r.article_id).url == "https://syndicator.example/story/1"


def test_gone_keeps_versions_and_comes_back(session: Session) -> None:
    url = "https://www.example-news.com/city/night-buses"
    first = archive(session, make_fetch(url, at=0), make_article())
    gone = archive(session, make_fetch(url, at=5, status=410, body=b""), None)
    assert gone.outcome is Outcome.GONE and gone.article_id == first.article_id
    assert "410" in gone.reason
    art = session.get(models.Article, first.article_id)
    session.refresh(art)
    assert art.gone_at is not None
    assert session.scalar(text("SELECT gone_at FROM article_latest")) is not None
    assert len(versions(session, first.article_id)) == 1
    session.rollback()  # end the read transaction; archive() runs its own
    back = archive(session, make_fetch(url, at=9), make_article())
    assert back.outcome is Outcome.UNCHANGED
    session.refresh(art)
    assert art.gone_at is None


def test_404_for_unknown_url_is_an_error_not_an_article(session: Session) -> None:
    r = archive(session, make_fetch("https://example-news.com/nope", status=404, body=b""), None)
    assert r.outcome is Outcome.ERROR and r.article_id is None
    assert session.scalar(select(func.count()).select_from(models.Article)) == 0


def test_not_modified_not_article_skipped_and_errors_are_logged(session: Session) -> None:
    url = "https://www.example-news.com/city/night-buses"
    archive(session, make_fetch(url, headers={"etag": '"v1"', "last-modified": "Sat, 31 Oct 2026 10:00:00 GMT"}),
            make_article())
    assert validators(session, url) == {
        "If-None-Match": '"v1"', "If-Modified-Since": "Sat, 31 Oct 2026 10:00:00 GMT"}
    session.rollback()
    nm = archive(session, make_fetch(url, at=3, status=304, body=b""), None)
    assert nm.outcome is Outcome.NOT_MODIFIED and nm.version == 1
    front = archive(session, make_fetch("https://example-news.com/world", at=4), None)
    pdf = archive(session, make_fetch("https://example-news.com/r.pdf", at=5), None,
                  outcome=Outcome.SKIPPED, reason="content type application/pdf is not a web page")
    timeout = archive(session, make_fetch("https://example-news.com/slow", at=6, status=None, body=None,
                                          error="timed out after 30 s"), None)
    server = archive(session, make_fetch("https://example-news.com/boom", at=7, status=500, body=b""), None)
    assert (front.outcome, pdf.outcome, timeout.outcome, server.outcome) == (
        Outcome.NOT_ARTICLE, Outcome.SKIPPED, Outcome.ERROR, Outcome.ERROR)
    rows = session.execute(text("SELECT outcome, reason FROM fetch_log ORDER BY fetched_at")).all()
    assert [r.outcome for r in rows] == [
        "new_article", "not_modified", "not_article", "skipped", "error", "error"]
    assert rows[4].reason == "timed out after 30 s"
    assert rows[5].reason == "HTTP 500"
    assert all(r.reason for r in rows[1:])


def test_writing_the_same_fetch_twice_changes_nothing(session: Session) -> None:
    fetch = make_fetch()
    first = archive(session, fetch, make_article())
    again = archive(session, fetch, make_article())
    assert not first.duplicate and again.duplicate
    assert (again.outcome, again.article_id, again.version) == (Outcome.NEW_ARTICLE, 1, 1)
    assert session.scalar(select(func.count()).select_from(models.Fetch)) == 1
    assert session.scalar(select(func.count()).select_from(models.Version)) == 1


def test_views_have_the_documented_columns(session: Session) -> None:
    archive(session, make_fetch(), make_article())
    latest = session.execute(text("SELECT * FROM article_latest")).mappings().one()
    assert list(latest)[:12] == [
        "article_id", "url", "site", "version", "title", "authors", "published_at", "text",
        "paywalled", "first_seen_at", "last_fetched_at", "version_count"]
    assert latest["site"] == "example-news.com" and latest["version_count"] == 1
    assert not latest["paywalled"]
    versions_row = session.execute(text("SELECT * FROM article_versions")).mappings().one()
    assert list(versions_row)[:10] == [
        "article_id", "url", "version", "captured_at", "title", "authors", "published_at",
        "text", "paywalled", "content_hash"]
    assert versions_row["content_hash"] == content_fingerprint(make_article())
