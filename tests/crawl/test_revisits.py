"""The revisit crawl: archived articles fetched again on their schedule, without listings."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archiver.spiders.news import NewsSpider, UsageError
from tests.crawl.conftest import Archive, crawl_command, crawl_env
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


def test_bad_revisit_arguments_and_settings_are_one_line_before_the_crawl(
    sqlite_url: str, crawl, tmp_path: Path
) -> None:
    bad_mode = crawl(sqlite_url, revisit="some")
    assert bad_mode.returncode == 2, bad_mode.log[-2000:]
    assert bad_mode.log.strip().endswith("revisit must be one of due, all, not 'some'")
    assert "Traceback" not in bad_mode.log

    no_unit = crawl(sqlite_url, settings={"ARCHIVER_REVISIT_MIN_INTERVAL": "15"}, revisit="due")
    assert no_unit.returncode == 2, no_unit.log[-2000:]
    assert "ARCHIVER_REVISIT_MIN_INTERVAL must be a duration such as 15m" in no_unit.log
    assert "Traceback" not in no_unit.log

    sources = tmp_path / "revisit-sources.toml"
    sources.write_text(
        '[[source]]\nname = "slow"\ndomains = ["slow.example"]\n'
        'revisit_min_interval = "30d"\n'
    )
    too_long = crawl(sqlite_url, settings={"ARCHIVER_SOURCES": str(sources)}, revisit="due")
    assert too_long.returncode == 2, too_long.log[-2000:]
    assert "source 'slow': revisit_min_interval (30 days, 0:00:00) is longer than" in too_long.log
    assert "Traceback" not in too_long.log
    # Nothing was crawled: no crawl run row.
    archive = Archive(sqlite_url)
    try:
        assert archive.scalar("SELECT count(*) FROM crawl_runs") == 0
    finally:
        archive.close()


def test_a_stopped_revisit_crawl_gives_back_what_it_did_not_fetch(
    server: MockServer, db_url: str, crawl, archive_of
) -> None:
    site = server.new_site(n=10, seed=19, name="Stopped Daily")
    archive = archive_of(db_url)
    first = crawl(db_url, sitemap=server.sitemap_url(site))
    assert first.returncode == 0, first.log[-3000:]
    # Every article is claimed in one batch; the crawl stops after two pages.
    stopped = crawl(
        db_url,
        settings={"CLOSESPIDER_PAGECOUNT": "2", "CONCURRENT_REQUESTS": "1"},
        revisit="all",
    )
    assert stopped.returncode == 0, stopped.log[-3000:]
    fetched = sum(archive.outcomes(archive.last_run()).values())
    assert 0 < fetched < 10, fetched
    assert archive.scalar("SELECT count(*) FROM articles WHERE claimed_until IS NOT NULL") == 0
    assert "released, due again now" in stopped.log
    # Not held back by a lease: the next crawl takes every article at once.
    again = crawl(db_url, revisit="all")
    assert again.returncode == 0, again.log[-3000:]
    assert sum(archive.outcomes(archive.last_run()).values()) == 10


def test_a_source_revisit_policy_schedules_its_articles(
    server: MockServer, sqlite_url: str, crawl, archive_of, tmp_path: Path
) -> None:
    """A [[source]]'s revisit_max_interval wins over the setting for its articles."""
    site = server.new_site(n=3, seed=29, name="Source Policy Daily")
    host = urlsplit(server.sitemap_url(site)).hostname
    sources = tmp_path / "policy-sources.toml"
    sources.write_text(
        f'[[source]]\nname = "policy"\ndomains = ["{host}"]\n'
        f'sitemaps = ["{server.sitemap_url(site)}"]\n'
        'revisit_min_interval = "1h"\nrevisit_max_interval = "1h"\n'
    )
    archive = archive_of(sqlite_url)
    settings = {"ARCHIVER_SOURCES": str(sources), "ARCHIVER_REVISIT_MIN_INTERVAL": "2h",
                "ARCHIVER_REVISIT_MAX_INTERVAL": "2h"}
    result = crawl(sqlite_url, settings=settings, source="policy")
    assert result.returncode == 0, result.log[-3000:]
    waits = archive.rows(
        "SELECT (julianday(next_visit_at) - julianday(last_fetched_at)) * 24 AS hours "
        "FROM articles"
    )
    assert len(waits) == 3
    # Scheduled on the database's clock just after the fetch: one hour, not two.
    assert all(0.9 < w.hours < 1.1 for w in waits), waits


@pytest.mark.postgres
def test_two_concurrent_revisit_crawls_fetch_each_article_once(
    server: MockServer, pg_url: str, crawl, archive_of, tmp_path: Path
) -> None:
    """Two ``revisit=all`` crawls at once on PostgreSQL, claiming three articles at a
    time: between them every article is fetched, and none twice."""
    site = server.new_site(n=12, seed=39, name="Concurrent Daily")
    archive = archive_of(pg_url)
    first = crawl(pg_url, sitemap=server.sitemap_url(site))
    assert first.returncode == 0, first.log[-3000:]
    before = archive.last_run()
    settings = {"ARCHIVER_REVISIT_BATCH": "3", "CONCURRENT_REQUESTS": "2"}
    # Two jobs (the same job twice would be skipped by its lock) over the same articles:
    # every archived one, and those of the site's host.
    scopes = [{"revisit": "all"}, {"revisit": "all", "site": server.base_url}]
    procs = [
        subprocess.Popen(crawl_command(scope, settings), env=crawl_env(pg_url, tmp_path / f"spool{i}"),
                         cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
        for i, scope in enumerate(scopes)
    ]
    logs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [log[-2000:] for log in logs]
    fetched = archive.rows(
        "SELECT url, count(*) AS n FROM fetch_log WHERE crawl_run_id > :run GROUP BY url",
        run=before,
    )
    assert len(fetched) == 12
    assert all(r.n == 1 for r in fetched), fetched
    assert archive.scalar("SELECT count(*) FROM articles WHERE claimed_until IS NOT NULL") == 0
