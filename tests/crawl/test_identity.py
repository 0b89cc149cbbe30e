"""Article identity in whole crawls: a loopback site whose pages make every common
canonical mistake (root, section front, the listing, one canonical for two stories,
conflicting or broken tags, a two-page article) beside pages that rightly share one
(AMP and print copies, a redirect). Two identical crawls: the second adds nothing."""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.crawl.mockserver import make_articles

STORIES = make_articles(17, seed=16)


class Pages(ThreadingHTTPServer):
    """Serves ``pages``: path (with query) -> (status, headers, body)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages: dict[str, tuple[int, dict[str, str], bytes]] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Pages

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        status, headers, body = self.server.pages.get(
            self.path, (404, {"Content-Type": "text/plain"}, b"not found"))
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def site() -> Iterator[Pages]:
    server = Pages()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def page(i: int, head: str = "", paragraphs: tuple[str, ...] | None = None) -> bytes:
    story = STORIES[i]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs or story.paragraphs)
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                     "headline": story.title, "datePublished": story.published.isoformat()})
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(story.title)}</title>{head}"
        f'<script type="application/ld+json">{ld}</script></head>'
        f"<body><header><a href='/'>Home</a></header><article>"
        f"<h1>{html.escape(story.title)}</h1>{body}</article><footer>Footer</footer>"
        f"</body></html>"
    ).encode()


def canonical(url: str) -> str:
    return f'<link rel="canonical" href="{html.escape(url)}">'


def build(site: Pages, prefix: str) -> tuple[str, dict[str, str]]:
    """Publish the pages under ``prefix``; returns the sitemap URL and paths by name."""
    base, news = site.base, f"{prefix}/news/2025"
    paths: dict[str, str] = {}
    html_ok = {"Content-Type": "text/html; charset=utf-8"}

    def add(name: str, path: str, body: bytes) -> None:
        paths[name] = path
        site.pages[path] = (200, html_ok, body)

    for i in range(3):
        add(f"root{i}", f"{news}/root-{i}.html", page(i, canonical(base + "/")))
    for i in range(3, 6):
        add(f"section{i}", f"{news}/section-{i}.html", page(i, canonical(f"{base}{prefix}/news/")))
    sitemap = f"{prefix}/sitemap.xml"
    for i in (6, 7):
        add(f"listing{i}", f"{news}/listed-{i}.html", page(i, canonical(base + sitemap)))
    for i in (8, 9):
        add(f"shared{i}", f"{news}/shared-{i}.html", page(i, canonical(f"{base}{news}/the-story.html")))
    # One article, four ways in: itself, its AMP copy, its print copy, an old URL.
    article = f"{news}/copied.html"
    add("copied", article, page(10, canonical(base + article)))
    add("amp", f"{prefix}/amp/news/2025/copied.html", page(10, canonical(base + article)))
    add("print", f"{news}/copied.html/print", page(10, canonical(article)))  # relative
    paths["old"] = f"{news}/old-copied.html"
    site.pages[paths["old"]] = (301, {"Location": base + article}, b"")
    # A two-page article: page 2 says so and names page 1 as canonical.
    long = f"{news}/long.html"
    add("page1", long, page(11, canonical(base + long) + f'<link rel="next" href="{long}?page=2">'))
    add("page2", long + "?page=2", page(11, canonical(base + long) + f'<link rel="prev" href="{long}">',
                                        paragraphs=STORIES[12].paragraphs))
    # Its other continuation says so only by rel=prev (no page number in the URL).
    add("part2", f"{news}/long-continued.html",
        page(11, canonical(base + long) + f'<link rel="prev" href="{long}">',
             paragraphs=STORIES[16].paragraphs))
    # Conflicting and broken tags.
    add("two", f"{news}/two-canonicals.html",
        page(13, canonical(f"{base}{news}/a.html") + canonical(f"{base}{news}/b.html")))
    add("domain", f"{news}/og-domain.html", page(14, f'<meta property="og:url" content="{base}">'))
    add("broken", f"{news}/broken.html", page(15, canonical("http://127.0.0.1:99999/x") +
                                              f'<meta property="og:url" content="ftp://x/{prefix}">'))
    urls = "".join(f"<url><loc>{html.escape(base + p)}</loc></url>" for p in paths.values())
    site.pages[sitemap] = (200, {"Content-Type": "application/xml"}, (
        '<?xml version="1.0" encoding="UTF-8"?><urlset '
        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>').encode())
    return base + sitemap, {k: base + v for k, v in paths.items()}


def test_wrong_canonicals_never_merge_and_copies_do(site: Pages, db_url, crawl, archive_of,
                                                     request) -> None:
    prefix = "/" + request.node.callspec.id
    sitemap, urls = build(site, prefix)
    archive = archive_of(db_url)
    first = crawl(db_url, sitemap=sitemap)
    assert first.returncode == 0, first.log[-3000:]
    fetch = {name: archive.fetch(url) for name, url in urls.items()}

    def article_url(name: str) -> str:
        return archive.scalar("SELECT url FROM articles WHERE id = :id", id=fetch[name].article_id)

    def reason(name: str) -> str:
        return fetch[name].reason or ""

    refused = {"root0": "site root", "section3": "section above the page",
               "listing6": "listing that linked", "page2": "page 2 of a multi-page",
               "part2": "a later page of a multi-page",
               "two": "name different URLs", "domain": "site root", "broken": "malformed"}
    for name, why in refused.items():
        assert fetch[name].outcome == "new_article", (name, fetch[name].reason)
        assert why in reason(name), (name, reason(name))
        assert article_url(name) == urls[name].split("#")[0], name
    # Every story is its own article, one version each; the copies joined theirs.
    distinct = {n for n in urls if n not in ("amp", "print", "old")}
    ids = {fetch[n].article_id for n in distinct}
    assert len(ids) == len(distinct) == 17
    assert {fetch[n].article_id for n in ("copied", "amp", "print", "old")} == {
        fetch["copied"].article_id}
    assert article_url("amp") == urls["copied"]
    shared = [fetch[n] for n in ("shared8", "shared9")]
    assert sorted(f.outcome for f in shared) == ["new_article", "new_article"]
    assert any("canonical names another article" in (f.reason or "") for f in shared)
    # Two unrelated pages claim one URL: it names neither.
    assert (article_url("shared8"), article_url("shared9")) == (urls["shared8"], urls["shared9"])
    mine = f"%{prefix}/%"
    assert archive.scalar("SELECT count(*) FROM articles WHERE url LIKE :p", p=mine) == 17
    versions = "SELECT count(*) FROM article_versions WHERE url LIKE :p"
    assert archive.scalar(versions, p=mine) == 17

    second = crawl(db_url, sitemap=sitemap)
    assert second.returncode == 0, second.log[-3000:]
    outcomes = archive.outcomes(archive.last_run())
    assert outcomes.get("new_article", 0) == outcomes.get("new_version", 0) == 0, outcomes
    assert archive.scalar(versions, p=mine) == 17
    for name in urls:
        assert archive.fetch(urls[name]).article_id == fetch[name].article_id, name
