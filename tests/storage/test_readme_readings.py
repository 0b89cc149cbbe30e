"""The README's queries on readings and extraction health run on both databases."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from archiver.storage import archive
from archiver.storage.archive import Reread, RereadNeeded
from tests.test_readme import sql_blocks

from .helpers import make_article, make_fetch


def test_readme_reading_and_health_queries(session: Session) -> None:
    blocks = {q.split("FROM ")[1].split()[0]: q for q in sql_blocks()}
    archive(session, make_fetch(at=0), make_article())
    upgraded = make_article(title="A fuller headline", extractor_version="test/2")
    try:
        archive(session, make_fetch(at=1), upgraded, can_reread=True)
    except RereadNeeded as needed:
        reread = Reread(1, needed.raw_capture_id, upgraded)
    archive(session, make_fetch(at=1), upgraded, reread=reread, can_reread=True)
    with session.begin():
        earlier = session.execute(text(blocks["version_readings"])).all()
        flagged = session.execute(text(blocks["site_extraction_health"])).all()
    assert [(r.version, r.extractor_version, r.title) for r in earlier] == [
        (1, "test/1", make_article().title)]
    assert flagged == []  # one fetch per site is no baseline to flag against
