"""The revisit crawl: archived articles fetched again on their schedule, without listings."""

from __future__ import annotations

import pytest

from archiver.spiders.news import NewsSpider, UsageError
from tests.crawl.mockserver import MockServer


def test_revisit_takes_due_or_all_only() -> None:
    with pytest.raises(UsageError, match="revisit must be one of due, all, not 'some'"):
        NewsSpider(revisit="some")
    # A revisit crawl narrows with a bare domain; it needs nothing else to crawl.
    assert NewsSpider(revisit="due", site="example.com").revisit == "due"


def test_revisits_catch_corrections_no_listing_shows(server: MockServer, db_url, crawl, archive_of):
    site = server.new_site(n=8, seed=9, name="Revisit Daily")
    sitemap = server.sitemap_url(site)
    archive = archive_of(db_url)
    first = crawl(db_url, sitemap=sitemap)
    assert first.returncode == 0, first.log[-3000:]
    assert archive.outcomes(archive.last_run()).get("new_article") == 8
    assert archive.scalar("SELECT count(*) FROM articles WHERE next_visit_at IS NULL") == 0

    # The site corrects three articles and stops listing them.
    corrected = site.articles[:3]
    site.state = 2
    site.corrected = {a.slug for a in corrected}
    site.articles = site.articles[3:]
    listing = crawl(db_url, sitemap=sitemap)
    assert listing.returncode == 0, listing.log[-3000:]
    assert archive.outcomes(archive.last_run()).get("new_version", 0) == 0

    again = crawl(db_url, revisit="all")
    assert again.returncode == 0, again.log[-3000:]
    run = archive.last_run()
    outcomes = archive.outcomes(run)
    assert outcomes.get("new_version") == 3, outcomes
    assert sum(outcomes.values()) == 8  # every archived article, once
    changed = archive.rows(
        "SELECT url FROM fetch_log WHERE crawl_run_id = :run AND outcome = 'new_version'",
        run=run,
    )
    assert sorted(r.url.rsplit("/", 1)[-1] for r in changed) == sorted(
        f"{a.slug}.html" for a in corrected
    )

    # Every article was just fetched: nothing is due.
    due = crawl(db_url, revisit="due")
    assert due.returncode == 0, due.log[-3000:]
    assert archive.outcomes(archive.last_run()) == {}
