"""The README's SQL examples run, on SQLite and PostgreSQL, and answer what they say."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from archiver.storage import archive, finish_crawl_run, start_crawl_run

from .storage.helpers import BODY_A, BODY_B, make_article, make_fetch

README = Path(__file__).resolve().parents[1] / "README.md"


def sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", README.read_text(), re.S)


def test_readme_has_three_example_queries() -> None:
    assert len(sql_blocks()) >= 3


def test_readme_queries_run_and_answer(session: Session) -> None:
    run = start_crawl_run(session, "news", {"url": "x"})
    archive(session, make_fetch(at=0), make_article(), crawl_run_id=run)
    archive(session, make_fetch(at=1), make_article(BODY_B, title="New headline"), crawl_run_id=run)
    archive(session, make_fetch("https://example-news.com/other", at=2),
            make_article(BODY_A, canonical_url=None), crawl_run_id=run)
    finish_crawl_run(session, run, "finished", {})
    edited, headlines, outcomes = (session.execute(text(q)).all() for q in sql_blocks()[:3])
    assert [(r.url, r.version_count) for r in edited] == [
        ("https://www.example-news.com/city/night-buses", 2)]
    assert [(r.old_title, r.new_title) for r in headlines] == [
        ("Council extends night buses to northern suburbs", "New headline")]
    assert sorted((r.outcome, r.fetches) for r in outcomes) == [
        ("new_article", 2), ("new_version", 1)]
