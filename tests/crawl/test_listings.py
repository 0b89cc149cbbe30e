"""Sitemaps, feeds, robots.txt and sources files, parsed without a crawl."""

from __future__ import annotations

import gzip
import textwrap
import time

import pytest

from archiver.crawl.feeds import parse_feed
from archiver.crawl.sitemaps import parse_sitemap, sitemaps_from_robots
from archiver.crawl.sources import SourcesError, get_source, load_sources
from tests.crawl.mockserver import BILLION_LAUGHS

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://example.com/2025/03/01/bank.html</loc>
    <lastmod>2025-03-01T12:30:00+01:00</lastmod>
    <news:news>
      <news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2025-03-01T12:05:00+01:00</news:publication_date>
      <news:title>Central bank holds rates</news:title>
    </news:news>
  </url>
  <url><loc>https://example.com/2025/03/02/ferry.html</loc><lastmod>2025-03-02</lastmod></url>
  <url><loc>javascript:alert(1)</loc></url>
</urlset>
"""


def test_news_sitemap_keeps_publication_date_title_and_lastmod():
    sitemap = parse_sitemap(NEWS_SITEMAP)
    assert sitemap.kind == "urlset" and sitemap.problem is None
    first, second = sitemap.entries
    assert first.loc == "https://example.com/2025/03/01/bank.html"
    assert first.news_title == "Central bank holds rates"
    assert first.news_publication_date.isoformat() == "2025-03-01T12:05:00+01:00"
    assert first.lastmod.isoformat() == "2025-03-01T12:30:00+01:00"
    assert first.meta()["news_title"] == "Central bank holds rates"
    assert second.lastmod.isoformat() == "2025-03-02T00:00:00+00:00"
    assert second.news_title is None


def test_sitemap_index_gzipped_and_text_sitemaps():
    index = gzip.compress(
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://example.com/a.xml</loc></sitemap>"
        b"<sitemap><loc>https://example.com/b.xml.gz</loc></sitemap></sitemapindex>"
    )
    parsed = parse_sitemap(index)
    assert parsed.is_index and [e.loc for e in parsed.entries] == [
        "https://example.com/a.xml", "https://example.com/b.xml.gz"]
    text = parse_sitemap(b"https://example.com/1.html\n\nnot a url\nhttps://example.com/2.html\n")
    assert text.kind == "text" and len(text.entries) == 2


def test_truncated_sitemap_yields_what_was_read_and_says_so():
    parsed = parse_sitemap(NEWS_SITEMAP[: NEWS_SITEMAP.index(b"<url><loc>https://example.com/2025/03/02")+ 40])
    assert parsed.problem and "malformed" in parsed.problem
    assert [e.loc for e in parsed.entries][:1] == ["https://example.com/2025/03/01/bank.html"]


def test_billion_laughs_is_not_expanded():
    start = time.process_time()
    parsed = parse_sitemap(BILLION_LAUGHS)
    assert time.process_time() - start < 5  # a guard against a hang, not a timing assertion
    assert all(len(e.loc) < 1000 for e in parsed.entries)
    assert all("lollol" not in e.loc for e in parsed.entries)


@pytest.mark.parametrize("body", [b"", b"   ", b"<html><body>no</body></html>", b"\x1f\x8bnot gzip",
                                  b"<<<>>>", b"\x00\x01\x02"])
def test_garbage_is_a_problem_not_an_exception(body):
    parsed = parse_sitemap(body)
    assert parsed.entries == [] and parsed.problem or parsed.kind == "text"
    feed = parse_feed(body)
    assert feed.entries == [] and feed.problem


def test_rss_and_atom_feeds():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
      <item><title>One</title><link>https://example.com/one.html</link>
        <pubDate>Sat, 01 Mar 2025 12:05:00 +0100</pubDate></item>
      <item><title>Guid only</title><guid isPermaLink="true">https://example.com/two.html</guid></item>
      <item><title>Relative</title><link>/three.html</link></item>
    </channel></rss>"""
    feed = parse_feed(rss, base_url="https://example.com/rss.xml")
    assert feed.kind == "rss"
    assert [e.link for e in feed.entries] == [
        "https://example.com/one.html", "https://example.com/two.html", "https://example.com/three.html"]
    assert feed.entries[0].published.isoformat() == "2025-03-01T12:05:00+01:00"

    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
      <entry><title>A</title><link rel="self" href="https://example.com/api/a"/>
        <link rel="alternate" type="text/html" href="https://example.com/a.html"/>
        <published>2025-03-01T10:00:00Z</published><updated>2025-03-02T10:00:00Z</updated></entry>
    </feed>"""
    feed = parse_feed(atom)
    assert feed.kind == "atom" and feed.entries[0].link == "https://example.com/a.html"
    assert feed.entries[0].updated.isoformat() == "2025-03-02T10:00:00+00:00"


def test_sitemaps_from_robots():
    robots = b"User-agent: *\nDisallow: /x\nSitemap: https://a.example/s1.xml\nsitemap:https://a.example/s2.xml\n"
    assert sitemaps_from_robots(robots) == ["https://a.example/s1.xml", "https://a.example/s2.xml"]


def test_sources_file(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(textwrap.dedent("""
        [[source]]
        name = "gazette"
        domains = ["gazette.example"]
        sitemaps = ["https://www.gazette.example/sitemap.xml"]
        start_pages = ["https://www.gazette.example/world/"]
        article_pattern = '/\\d{4}/\\d{2}/'
        depth = 1
    """))
    source = get_source(path, "gazette")
    assert source.allows("https://www.gazette.example/a") and not source.allows("https://evil.example/")
    assert source.is_article_url("https://www.gazette.example/2025/03/x.html")
    with pytest.raises(SourcesError, match="no source named 'nope'.*known: gazette"):
        get_source(path, "nope")
    path.write_text('[[source]]\nname = "x"\ndepth = -1\n')
    with pytest.raises(SourcesError, match="depth"):
        load_sources(path)
    with pytest.raises(SourcesError, match="not found"):
        load_sources(tmp_path / "missing.toml")


def test_shipped_example_sources_file_loads():
    from pathlib import Path

    sources = load_sources(Path(__file__).resolve().parents[2] / "sources.toml")
    assert "example-news" in sources
