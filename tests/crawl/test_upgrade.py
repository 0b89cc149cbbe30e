"""An extractor upgrade makes no version: whole crawls with an extractor plugged in through
ARCHIVER_EXTRACTOR, against the loopback server, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.crawl.conftest import REPO, CrawlResult, crawl_command, crawl_env
from tests.crawl.mockserver import MockServer
from tests.crawl.plugged import EXTRACTOR_VERSION

UPGRADED = "tests.crawl.plugged:upgraded"


@pytest.fixture
def plugged_crawl(tmp_path: Path) -> Any:
    """``crawl(db_url, extractor=..., settings=..., **args)``, with the tests importable
    in the crawl and its workers."""

    def run(db_url: str, extractor: str | None = None, settings: dict[str, str] | None = None,
            **args: str) -> CrawlResult:
        extra = {"PYTHONPATH": str(REPO)}
        if extractor:
            extra["ARCHIVER_EXTRACTOR"] = extractor
        proc = subprocess.run(
            crawl_command(args, settings),
            env=crawl_env(db_url, tmp_path / "spool", **extra),
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )
        return CrawlResult(proc.returncode, proc.stderr)

    return run


def test_upgrade_makes_no_version_and_a_real_edit_makes_one(
    server: MockServer, db_url: str, plugged_crawl: Any, archive_of: Any
) -> None:
    site = server.new_site(n=12, seed=14)
    sitemap = server.sitemap_url(site)
    archive = archive_of(db_url)

    first = plugged_crawl(db_url, sitemap=sitemap)
    assert first.returncode == 0, first.log[-3000:]
    assert archive.outcomes(archive.last_run())["new_article"] == 12
    titles = dict(archive.rows("SELECT url, title FROM article_latest"))

    # A new extractor release, and a change of the pages' chrome only.
    site.state = 2
    second = plugged_crawl(db_url, extractor=UPGRADED, sitemap=sitemap)
    assert second.returncode == 0, second.log[-3000:]
    outcomes = archive.outcomes(archive.last_run())
    assert outcomes == {"unchanged": 12, "not_article": 1}, outcomes
    latest = archive.rows("SELECT url, title, version_count, extractor_version FROM article_latest")
    assert {r.version_count for r in latest} == {1}
    changed = {r.url for r in latest if r.title != titles[r.url]}
    assert 2 <= len(changed) <= 10  # the upgrade read about half the titles differently
    for r in latest:
        if r.url in changed:
            # The views show the upgraded reading; the earlier one stays queryable.
            assert r.title == titles[r.url] + " (full headline)"
            assert r.extractor_version == EXTRACTOR_VERSION
        else:
            assert r.title == titles[r.url]
    # Every reading was brought up to date (unchanged pages too); the earlier readings
    # stay queryable.
    assert {r.extractor_version for r in latest} == {EXTRACTOR_VERSION}
    earlier = archive.rows("SELECT url, title FROM version_readings WHERE NOT is_newest")
    assert sorted((r.url, r.title) for r in earlier) == sorted(titles.items())

    # Real corrections after the upgrade: exactly one new version per corrected article.
    site.state = 3
    site.corrected = {a.slug for a in site.articles[:4]}
    third = plugged_crawl(db_url, extractor=UPGRADED, sitemap=sitemap)
    assert third.returncode == 0, third.log[-3000:]
    outcomes = archive.outcomes(archive.last_run())
    assert outcomes.get("new_version") == 4 and outcomes.get("unchanged") == 8, outcomes
    assert archive.scalar("SELECT count(*) FROM versions") == 16
    assert archive.scalar(
        "SELECT count(*) FROM article_versions WHERE unverified_change") == 0


def test_real_edit_in_the_upgrade_crawl_is_one_version(
    server: MockServer, db_url: str, plugged_crawl: Any, archive_of: Any
) -> None:
    """The first crawl after the upgrade meets corrected pages: measured against the
    re-read previous text, each is exactly one version, and is a publisher's edit."""
    site = server.new_site(n=6, seed=15)
    sitemap = server.sitemap_url(site)
    archive = archive_of(db_url)
    assert plugged_crawl(db_url, sitemap=sitemap).returncode == 0
    site.state = 3
    site.corrected = {site.articles[0].slug, site.articles[1].slug}
    upgraded = plugged_crawl(db_url, extractor=UPGRADED, sitemap=sitemap)
    assert upgraded.returncode == 0, upgraded.log[-3000:]
    outcomes = archive.outcomes(archive.last_run())
    assert outcomes.get("new_version") == 2 and outcomes.get("unchanged") == 4, outcomes
    # Both versions of each corrected article are the upgraded extractor's readings.
    rows = archive.rows(
        "SELECT version, extractor_version FROM article_versions WHERE article_id IN "
        "(SELECT article_id FROM article_latest WHERE version_count = 2)"
    )
    assert sorted(r.version for r in rows) == [1, 1, 2, 2]
    assert {r.extractor_version for r in rows} == {EXTRACTOR_VERSION}
    # Measured against the re-read text, not a reading nobody can vouch for.
    assert archive.scalar(
        "SELECT count(*) FROM article_versions WHERE unverified_change") == 0
    # Every version 1 keeps the reading it had before the upgrade.
    assert archive.scalar(
        "SELECT count(*) FROM version_readings WHERE NOT is_newest AND version = 1") == 6


@pytest.mark.parametrize(("path", "message"), [
    ("no.such.module:extract", "module 'no.such.module' does not import"),
    ("tests.crawl.plugged:missing", "has no 'missing'"),
    ("tests.crawl.plugged:not_callable", "'not_callable' is not callable"),
])
def test_bad_extractor_setting_is_one_line_before_the_crawl(
    server: MockServer, sqlite_url: str, plugged_crawl: Any, archive_of: Any,
    path: str, message: str,
) -> None:
    site = server.new_site(n=2, seed=16)
    done = plugged_crawl(sqlite_url, extractor=path, sitemap=server.sitemap_url(site))
    # One line and exit status 2 (usage/configuration error), checked before Scrapy starts.
    assert done.returncode == 2, done.log[-3000:]
    line = f"scrapy crawl: error: ARCHIVER_EXTRACTOR: extractor {path!r}: "
    assert done.log.startswith(line) and message in done.log, done.log[-3000:]
    assert len(done.log.strip().splitlines()) == 1, done.log[-3000:]
    assert archive_of(sqlite_url).scalar("SELECT count(*) FROM fetches") == 0
    assert not server.requests_for(site.prefix)


@pytest.mark.parametrize(("path", "reason"), [
    ("tests.crawl.plugged:raises", "raised RuntimeError: parser bug"),
    ("tests.crawl.plugged:wrong_type", "returned dict, not an Article or None"),
])
def test_extractor_failing_on_pages_is_an_outcome(
    server: MockServer, sqlite_url: str, plugged_crawl: Any, archive_of: Any,
    path: str, reason: str,
) -> None:
    site = server.new_site(n=3, seed=17)
    done = plugged_crawl(sqlite_url, extractor=path, sitemap=server.sitemap_url(site))
    assert done.returncode == 0, done.log[-3000:]
    archive = archive_of(sqlite_url)
    rows = archive.rows("SELECT outcome, reason FROM fetch_log WHERE url LIKE '%.html'")
    assert len(rows) == 3
    assert all(r.outcome == "error" and reason in r.reason for r in rows), rows
    assert archive.scalar("SELECT count(*) FROM versions") == 0


def test_source_declares_its_extractor_and_rules(
    server: MockServer, sqlite_url: str, plugged_crawl: Any, archive_of: Any, tmp_path: Path
) -> None:
    site = server.new_site(n=2, seed=18)
    urls = [server.article_url(site, a) for a in site.articles]
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nname = "fixture"\n'
        f"urls = {urls!r}\n".replace("'", '"')
        + f'extractor = "{UPGRADED}"\n'
        'drop = ["div.article-body p:first-child"]\n'
    )
    done = plugged_crawl(sqlite_url, source="fixture")
    assert done.returncode == 0, done.log[-3000:]
    rows = archive_of(sqlite_url).rows("SELECT url, text, extractor_version FROM article_latest")
    assert len(rows) == 2
    for row, article in zip(sorted(rows), sorted(site.articles, key=lambda a: urls[site.articles.index(a)])):
        assert row.extractor_version == EXTRACTOR_VERSION
        assert article.paragraphs[0][:40] not in row.text  # dropped by the source's rule
        assert article.paragraphs[1][:40] in row.text
