"""Limits a hostile publisher can push: URL length, listing size, sitemap-index depth and
links per start page. Each cut or refusal is recorded, and the crawl goes on."""

from __future__ import annotations

import json
import random
import string
import textwrap
import uuid
from pathlib import Path
from typing import Any

from archiver.crawl.feeds import parse_feed
from archiver.crawl.sitemaps import parse_sitemap
from archiver.urls import article_url
from tests.crawl.mockserver import MockServer


def _urlset(urls: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<url><loc>{u.replace('&', '&amp;')}</loc></url>\n" for u in urls)
        + "</urlset>\n"
    ).encode()


def _index(urls: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<sitemap><loc>{u}</loc></sitemap>\n" for u in urls)
        + "</sitemapindex>\n"
    ).encode()


def _serve(server: MockServer, body: bytes) -> str:
    path = f"/limits-{uuid.uuid4().hex[:8]}/sitemap.xml"
    server.documents[path] = body
    return server.url(path)


def test_a_5000_character_url_is_refused_with_a_fetch_row_on_postgres(
    server: MockServer, pg_url: str, crawl: Any, archive_of: Any, tmp_path: Path,
):
    site = server.new_site(n=2, seed=23)
    redirect = server.url(f"/hostile/long-redirect-5000-{uuid.uuid4().hex[:6]}")
    long_url = server.url("/hostile/long?q=") + "x" * (5000 - len(server.url("/hostile/long?q=")))
    listed_long = server.article_url(site, site.articles[1]) + "?q=" + "y" * 5000
    sitemap = _serve(server, _urlset([redirect, listed_long]))

    result = crawl(pg_url, sitemap=sitemap)

    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(pg_url)
    row = archive.fetch(redirect)
    assert row.outcome == "skipped" and row.final_url == long_url
    assert row.reason == "URL too long: 5000 characters (limit 2048)"
    listed = archive.fetch(listed_long[:2048])
    assert listed.outcome == "skipped" and listed.final_url == listed_long
    assert "URL too long" in listed.reason
    assert not any(len(p) > 2048 for p in server.requests), "a long URL was requested"
    assert "spooled" not in result.summary and "2 skipped" in result.summary
    spool = tmp_path / "spool"
    assert not spool.exists() or all(f.stat().st_size == 0 for f in spool.iterdir())


def test_listing_entries_and_sitemap_index_depth_are_cut_and_recorded(
    server: MockServer, sqlite_url: str, crawl: Any, archive_of: Any,
):
    site = server.new_site(n=5, seed=24)
    listing = _serve(server, _urlset([server.article_url(site, a) for a in site.articles]))
    deep_site = server.new_site(n=2, seed=25)
    inner = _serve(server, _index([server.sitemap_url(deep_site)]))
    outer = _serve(server, _index([inner]))

    result = crawl(sqlite_url, sitemap=f"{listing},{outer}", settings={
        "ARCHIVER_MAX_LISTING_ENTRIES": "3", "ARCHIVER_MAX_SITEMAP_DEPTH": "1",
    })

    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    row = archive.fetch(listing)
    assert row.outcome == "error"
    assert row.reason == "more than 3 entries: read the first 3; sitemap: 3 entries"
    assert archive.scalar("SELECT count(*) FROM articles WHERE url LIKE :p",
                          p=f"%{site.prefix}/%") == 3
    assert archive.fetch(outer).outcome == "not_article"
    deep = archive.fetch(inner)
    assert deep.outcome == "error" and "nested deeper than 1: 1 sitemaps not followed" in deep.reason
    assert server.requests_for(deep_site.prefix) == []


def test_links_taken_from_a_start_page_are_limited(
    server: MockServer, sqlite_url: str, crawl: Any, archive_of: Any, tmp_path: Path,
):
    site = server.new_site(n=9, seed=26)
    front = server.url(site.prefix + "/")
    (tmp_path / "sources.toml").write_text(textwrap.dedent(f"""
        [[source]]
        name = "busy-front"
        start_pages = [{json.dumps(front)}]
        article_pattern = '\\.html$'
    """))
    result = crawl(sqlite_url, source="busy-front", settings={
        "ARCHIVER_SOURCES": str(tmp_path / "sources.toml"), "ARCHIVER_MAX_LINKS_PER_PAGE": "2",
    })
    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    row = archive.fetch(front)
    assert row.reason.startswith("start page: 2 article links, 0 pages followed; ")
    assert "more links not taken (limit 2 a page)" in row.reason
    assert archive.scalar("SELECT count(*) FROM articles") == 2


def test_parsers_read_at_most_the_entries_asked_for():
    urls = [f"https://example.com/{i}.html" for i in range(5)]
    sitemap = parse_sitemap(_urlset(urls), max_entries=2)
    assert [e.loc for e in sitemap.entries] == urls[:2]
    assert sitemap.problem == "more than 2 entries: read the first 2"
    text = parse_sitemap("\n".join(urls).encode(), max_entries=4)
    assert len(text.entries) == 4 and text.problem == "more than 4 entries: read the first 4"
    assert parse_sitemap(_urlset(urls), max_entries=5).problem is None
    rss = ("<rss><channel>" + "".join(f"<item><link>{u}</link></item>" for u in urls)
           + "</channel></rss>").encode()
    feed = parse_feed(rss, max_entries=3)
    assert [e.link for e in feed.entries] == urls[:3] and "more than 3" in feed.problem


def test_an_overlong_canonical_never_names_the_article():
    page = "https://example.com/2025/story.html"
    assert article_url(page, page + "?x=" + "a" * 3000) == page
    assert article_url(page, "https://example.com/story") == "https://example.com/story"


def test_a_url_of_any_length_is_archived_with_the_limit_off(
    server: MockServer, pg_url: str, crawl: Any, archive_of: Any,
):
    # With the length limit off, a 5,000-character URL reaches PostgreSQL, whose B-tree
    # index rows are limited to ~2.7 kB: articles and fetches are indexed on its digest
    # (url_sha256, migration 0010), so it is stored whole.
    site = server.new_site(n=2, seed=27)
    rng = random.Random(27)  # not repetitive: PostgreSQL would compress it to fit
    noise = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(5000))
    long_url = server.article_url(site, site.articles[0]) + "?q=" + noise
    ok = server.article_url(site, site.articles[1])
    sitemap = _serve(server, _urlset([long_url, ok]))

    result = crawl(pg_url, sitemap=sitemap, settings={"ARCHIVER_MAX_URL_LENGTH": "0"})

    assert result.returncode == 0, result.log[-3000:]
    assert "spooled" not in result.summary and "0 errors" in result.summary
    archive = archive_of(pg_url)
    assert archive.fetch(long_url).outcome == "new_article"
    assert archive.scalar("SELECT max(length(url)) FROM fetches") == len(long_url)
    assert archive.fetch(ok).outcome == "new_article"


def test_a_row_the_database_refuses_is_an_error_not_an_outage(
    server: MockServer, pg_url: str, crawl: Any, archive_of: Any,
):
    # A rule of the database's own (a CHECK constraint a DBA added) refuses one article's
    # row: an integrity error about that row, not an outage. The crawl records the fetch
    # as an error saying why, archives the rest and is not spooled.
    from sqlalchemy import text

    from archiver.storage.session import make_engine

    site = server.new_site(n=2, seed=28)
    refused = server.article_url(site, site.articles[0])
    ok = server.article_url(site, site.articles[1])
    sitemap = _serve(server, _urlset([refused, ok]))
    assert crawl(pg_url, url=ok).returncode == 0  # the schema is there to constrain
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE articles ADD CONSTRAINT no_refuse_me "
                          f"CHECK (url <> '{refused}')"))
    engine.dispose()

    result = crawl(pg_url, sitemap=sitemap)

    assert result.returncode == 0, result.log[-3000:]
    assert "spooled" not in result.summary and "1 errors" in result.summary
    archive = archive_of(pg_url)
    row = archive.fetch(refused)
    assert row.outcome == "error"
    assert row.reason.startswith("the database refused this fetch: "), row.reason
    assert "no_refuse_me" in row.reason
    assert archive.fetch(ok, archive.last_run()).outcome in ("unchanged", "not_modified")


def test_only_connectivity_errors_are_transient(pg_url: str):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from archiver.storage.errors import is_transient
    from archiver.storage.session import make_engine

    engine = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (v text PRIMARY KEY)"))
        with pytest.raises(DBAPIError) as too_big, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": random.randbytes(4000).hex()})
        assert not is_transient(too_big.value)
    finally:
        engine.dispose()
    closed = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2")
    try:
        with pytest.raises(DBAPIError) as unreachable, closed.connect():
            pass
        assert is_transient(unreachable.value)
    finally:
        closed.dispose()


def test_listings_over_the_size_cap_and_feeds_over_the_entry_count_are_recorded(
    server: MockServer, sqlite_url: str, crawl: Any, archive_of: Any,
):
    import gzip

    site = server.new_site(n=4, seed=29)
    articles = [server.article_url(site, a) for a in site.articles]
    cap = 64 * 1024
    # A sitemap over the download cap, one whose gzip transfer encoding inflates past
    # it (a small decompression bomb), and a feed longer than the entry limit.
    filler = [f"{server.url('/padding/')}{i:06d}-{'p' * 60}.html" for i in range(1200)]
    big = _serve(server, _urlset(filler))
    bomb_path = f"/limits-{uuid.uuid4().hex[:8]}/sitemap-bomb.xml"
    server.documents[bomb_path] = ({"Content-Encoding": "gzip"},
                                   gzip.compress(_urlset(filler) * 4, 9))
    assert len(server.documents[bomb_path][1]) < cap < len(_urlset(filler))
    feed = f"{server.base_url}{site.prefix}/feed.xml"

    result = crawl(sqlite_url, sitemap=f"{big},{server.url(bomb_path)}", feed=feed, settings={
        "DOWNLOAD_MAXSIZE": str(cap), "ARCHIVER_MAX_LISTING_ENTRIES": "2",
    })

    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    for url in (big, server.url(bomb_path)):
        row = archive.fetch(url)
        assert row.outcome == "error" and row.reason.startswith("too large: "), row.reason
    row = archive.fetch(feed)
    assert row.outcome == "error"
    assert row.reason == "more than 2 entries: read the first 2; rss feed: 2 entries"
    assert sum(archive.fetch(u).outcome == "new_article" for u in articles[:2]) == 2
    assert archive.scalar("SELECT count(*) FROM articles") == 2
    assert server.requests_for("/padding/") == []


def test_a_gzipped_sitemap_file_is_inflated_only_up_to_its_limit():
    import gzip

    from archiver.crawl.sitemaps import maybe_gunzip

    body = _urlset([f"https://example.com/{i}.html" for i in range(100)])
    packed = gzip.compress(body)
    assert parse_sitemap(packed).kind == "urlset" and len(parse_sitemap(packed).entries) == 100
    inflated, problem = maybe_gunzip(packed, limit=1000)
    assert len(inflated) == 1000 and problem == "larger than 1000 bytes uncompressed, truncated"
    assert maybe_gunzip(b"\x1f\x8b not gzip")[1].startswith("bad gzip")


def test_redirect_and_meta_refresh_hops_are_limited(
    server: MockServer, sqlite_url: str, crawl: Any, archive_of: Any,
):
    from tests.crawl.mockserver import go_url, refresh_url

    site = server.new_site(n=4, seed=30)
    a, b, c, d = (server.article_url(site, x) for x in site.articles)
    two_redirects = go_url(server, go_url(server, a))
    three_redirects = go_url(server, go_url(server, go_url(server, b)))
    two_refreshes = refresh_url(server, refresh_url(server, c))
    three_refreshes = refresh_url(server, refresh_url(server, refresh_url(server, d)))
    sitemap = _serve(server, _urlset([two_redirects, three_redirects, two_refreshes,
                                      three_refreshes]))

    result = crawl(sqlite_url, sitemap=sitemap, settings={"REDIRECT_MAX_TIMES": "2"})

    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    for url, final in ((two_redirects, a), (two_refreshes, c)):
        row = archive.fetch(url)
        assert (row.outcome, row.final_url) == ("new_article", final)
    for url, never in ((three_redirects, b), (three_refreshes, d)):
        row = archive.fetch(url)
        assert row.outcome == "error" and row.reason.startswith(
            "too many redirects: max redirections reached"), row.reason  # no loop
        assert server.requests_for(never.removeprefix(server.base_url)) == []


def test_urls_of_any_length_are_one_article_each_on_both_databases(db_url: str, session):
    # The digest keeps URL identity whatever the length, on SQLite and PostgreSQL alike:
    # two 5,000-character URLs that differ in their last character are two articles,
    # and the same URL again is the same article.
    from sqlalchemy import text

    from archiver.storage import archive
    from archiver.storage.urlkey import url_sha256
    from tests.storage.helpers import BODY_A, BODY_B, make_article, make_fetch

    rng = random.Random(5000)
    stem = "https://example.com/story?q=" + "".join(
        rng.choice(string.ascii_letters) for _ in range(5000 - 29))
    first, second = stem + "a", stem + "b"
    assert len(first) == 5000
    one = archive(session, make_fetch(first, at=0), make_article(BODY_A, canonical_url=None))
    two = archive(session, make_fetch(second, at=1), make_article(BODY_B, canonical_url=None))
    again = archive(session, make_fetch(first, at=2), make_article(BODY_A, canonical_url=None))
    assert one.article_id != two.article_id and again.article_id == one.article_id
    rows = session.execute(text("SELECT url, url_sha256 FROM articles ORDER BY id")).all()
    assert [(r.url, r.url_sha256) for r in rows] == [
        (first, url_sha256(first)), (second, url_sha256(second))]
