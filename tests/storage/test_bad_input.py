"""Bad input gets stored safely or refused clearly; nothing is lost."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archiver.extract import Article, extract
from archiver.storage import Outcome, archive, models

from .helpers import BODY_A, make_article, make_fetch


def test_nul_bytes_are_removed_everywhere(session: Session) -> None:
    art = make_article(
        BODY_A.replace("council", "coun\x00cil"),
        title="Night\x00 buses",
        authors=["Ana\x00 Ruiz"],
        description="d\x00",
        site_name="Ex\x00ample",
        metadata={"tags": ["a\x00b"], "k\x00": "v\x00"},
    )
    fetch = make_fetch("https://example-news.com/a\x00b", headers={"x-odd": "v\x00"})
    result = archive(session, fetch, art)
    assert result.outcome is Outcome.NEW_ARTICLE
    v = session.scalars(select(models.Version)).one()
    assert "\x00" not in v.text + v.title + v.authors + v.description + v.site_name
    assert "coun cil" not in v.text and "council" in v.text
    assert v.meta["tags"] == ["ab"] and v.meta["k"] == "v"
    row = session.scalars(select(models.Fetch)).one()
    assert row.url == "https://example-news.com/ab" and row.headers["x-odd"] == "v"


def test_titles_and_author_lists_of_any_length_are_stored_whole(session: Session) -> None:
    title = "Breaking: " + "a very long headline " * 800
    authors = [f"Reporter Number {i} of the Investigations Desk" for i in range(300)]
    archive(session, make_fetch(), make_article(title=title, authors=authors))
    v = session.scalars(select(models.Version)).one()
    assert v.title == title and len(title) > 16_000
    assert v.authors.split("; ") == authors


def test_impossible_dates_become_null_never_a_crash(session: Session) -> None:
    # An extreme but valid datetime whose UTC conversion overflows.
    edge = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5)))
    naive = datetime(2026, 3, 1, 9, 0)
    result = archive(session, make_fetch(), make_article(published_at=edge, modified_at=naive))
    assert result.outcome is Outcome.NEW_ARTICLE
    v = session.scalars(select(models.Version)).one()
    assert v.published_at is None
    assert v.modified_at == naive.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("raw", ["2021-02-30T25:61:00Z", "0000-00-00", "2021-13-01", "yesterday"])
def test_page_with_impossible_meta_date_extracts_without_date(raw: str) -> None:
    html = (
        f"<html><head><meta property='article:published_time' content='{raw}'>"
        "<title>T</title></head><body><article><h1>T</h1>"
        + "<p>" + "Words of a real article body go here and on. " * 20 + "</p>"
        + "</article></body></html>"
    )
    art = extract(html, "https://example-news.com/x")
    assert isinstance(art, Article)
    assert art.published_at is None
