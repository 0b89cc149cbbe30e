"""The README's queries on article_changes run on both databases and answer what they say."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from archiver.storage import archive
from tests.test_readme import sql_blocks

from .helpers import BODY_A, BODY_B, make_article, make_fetch

NOTE = "Correction: An earlier version of this article misstated the number of residents."
OTHER = "https://www.example-news.com/city/bike-lanes"


def test_readme_article_changes_queries(session: Session) -> None:
    corrections, kinds, stealth = [q for q in sql_blocks() if "FROM article_changes" in q]
    archive(session, make_fetch(at=0), make_article())
    archive(session, make_fetch(at=10), make_article(BODY_B + "\n\n" + NOTE))
    archive(session, make_fetch(at=20),
            make_article(BODY_B.replace("in March", "in April") + "\n\n" + NOTE))
    other = make_article(canonical_url=OTHER, title="Bike lanes")
    archive(session, make_fetch(OTHER, at=0), other)
    archive(session, make_fetch(OTHER, at=30),
            make_article(BODY_A.replace("officials said.", "officials said"),
                         canonical_url=OTHER, title="Bike lanes"))
    archive(session, make_fetch(OTHER, at=40),
            make_article(BODY_A + "\n\nThe mayor did not comment.", canonical_url=OTHER,
                         title="Bike lanes for the north"))
    with session.begin():
        found = session.execute(text(corrections)).all()
        by_kind = session.execute(text(kinds)).all()
        edits = session.execute(text(stealth)).all()
    assert [(r.version, r.change_classes, r.words_added) for r in found] == [
        (2, "correction,substantive", 13)]
    assert sorted((r.change_classes, r.versions) for r in by_kind) == [
        ("correction,substantive", 1), ("headline,substantive", 1), ("substantive", 1)]
    assert {r.site for r in by_kind} == {"example-news.com"}
    # The unannounced edits, largest first: a paragraph (and the full stop that the
    # trivial version 2 had dropped) added under a new headline, then a changed month.
    assert [(r.url, r.version, r.new_title, r.words_added, r.words_removed)
            for r in edits] == [
        (OTHER, 3, "Bike lanes for the north", 6, 1),
        ("https://www.example-news.com/city/night-buses", 3,
         "Council extends night buses to northern suburbs", 1, 1),
    ]
