"""`-a site=` (robots.txt), `-a source=` (a sources file) and `-a feed=` crawls."""

from __future__ import annotations

import textwrap


def test_site_discovers_sitemaps_in_robots_txt(server, sqlite_url, crawl, archive_of):
    site = server.new_site(n=8, seed=11)
    server.robots_sites = [site.prefix]
    try:
        result = crawl(sqlite_url, site=server.base_url + "/",
                       url=server.url("/hostile/private-page"))
    finally:
        server.robots_sites = None
    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    assert archive.scalar("SELECT count(*) FROM articles WHERE url LIKE :p",
                          p=f"%{site.prefix}/%") == 8
    robots = archive.fetch(server.url("/robots.txt"))
    assert robots.outcome == "not_article" and "1 sitemap" in robots.reason
    # robots.txt is obeyed: the disallowed page was never requested.
    assert "/hostile/private-page" not in server.requests


def test_source_with_start_pages_pattern_and_depth(server, sqlite_url, crawl, archive_of, tmp_path):
    site = server.new_site(n=9, seed=12)
    first_section = site.articles[0].section
    (tmp_path / "sources.toml").write_text(textwrap.dedent(f"""
        [[source]]
        name = "fixture"
        domains = ["127.0.0.1"]
        start_pages = ["{server.base_url}{site.prefix}/{first_section}/"]
        article_pattern = '{site.prefix}/[a-z]+/\\d{{4}}/'
        depth = 1
    """))
    result = crawl(sqlite_url, source="fixture",
                   settings={"ARCHIVER_SOURCES": str(tmp_path / "sources.toml")})
    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    # The start page lists one section's articles; its navigation (depth 1) the others.
    assert archive.scalar("SELECT count(*) FROM articles WHERE url LIKE :p",
                          p=f"%{site.prefix}/%") == 9
    start = archive.fetch(f"{server.base_url}{site.prefix}/{first_section}/")
    assert start.outcome == "not_article" and "start page" in start.reason


def test_unknown_source_is_a_clear_error(server, sqlite_url, crawl):
    from tests.crawl.conftest import REPO

    result = crawl(sqlite_url, source="nope", settings={"ARCHIVER_SOURCES": str(REPO / "sources.toml")})
    assert result.returncode != 0
    assert "no source named 'nope'" in result.log and "example-news" in result.log


def test_feed_with_publication_metadata(server, sqlite_url, crawl, archive_of):
    site = server.new_site(n=5, seed=13)
    result = crawl(sqlite_url, feed=f"{server.base_url}{site.prefix}/feed.xml")
    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    assert archive.scalar("SELECT count(*) FROM articles WHERE url LIKE :p",
                          p=f"%{site.prefix}/%") == 5
    assert "5 new articles" in result.summary
