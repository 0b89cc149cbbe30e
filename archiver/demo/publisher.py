"""A publisher site served from loopback: the demo's site, and the test suite's.

Pages are rendered from article data so the site can be put in another *state*: the
chrome (today's date, related and most-read lists, ad slots) changes with ``state``,
as it does on real sites between two visits, while an article's content changes only
when it is in ``corrected``. Responses carry an ``ETag`` (of the body) and a
``Last-Modified`` (of the article) and answer conditional requests with 304.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

SITE_DIR = resources.files("archiver.demo") / "site"


@dataclass(frozen=True, slots=True)
class DemoArticle:
    slug: str
    section: str
    title: str
    author: str
    published: datetime
    paragraphs: tuple[str, ...]
    #: (index of the paragraph replaced, its corrected text, the correction note)
    correction: tuple[int, str, str] | None = None

    @property
    def path(self) -> str:
        d = self.published
        return f"/{self.section}/{d:%Y/%m/%d}/{self.slug}.html"


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""


def load_articles(text: str | None = None) -> list[DemoArticle]:
    """The bundled demo articles (``site/articles.toml``)."""
    if text is None:
        text = (SITE_DIR / "articles.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    out = []
    for a in data["article"]:
        correction = a.get("correction")
        out.append(
            DemoArticle(
                slug=a["slug"],
                section=a["section"],
                title=a["title"],
                author=a["author"],
                published=datetime.fromisoformat(a["published"]).astimezone(timezone.utc),
                paragraphs=tuple(a["paragraphs"]),
                correction=(
                    (correction["paragraph"], correction["text"], correction["note"])
                    if correction else None
                ),
            )
        )
    return out


@dataclass
class Publisher:
    """One site: its articles, what state its chrome is in, which articles are corrected.

    ``prefix`` puts the site under a path (``/site-a``) so that one server can hold many.
    """

    name: str
    articles: list[DemoArticle]
    prefix: str = ""
    tagline: str = "News and analysis"
    state: int = 1
    corrected: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.by_path = {self.prefix + a.path: a for a in self.articles}

    # --- pages ----------------------------------------------------------------------------

    def today(self) -> datetime:
        latest = max(a.published for a in self.articles)
        return latest + timedelta(days=self.state)

    def article_text(self, article: DemoArticle) -> tuple[list[str], str | None]:
        paragraphs = list(article.paragraphs)
        note = None
        if article.slug in self.corrected and article.correction:
            index, text, note = article.correction
            paragraphs[index] = text
        return paragraphs, note

    def modified(self, article: DemoArticle) -> datetime:
        if article.slug in self.corrected and article.correction:
            return article.published + timedelta(days=1)
        return article.published

    def _chrome_lists(self, current: DemoArticle | None) -> tuple[list[DemoArticle], list[DemoArticle]]:
        others = [a for a in self.articles if a is not current]
        if not others:
            return [], []
        k = self.state % len(others)
        rotated = others[k:] + others[:k]
        return rotated[:3], list(reversed(rotated))[:4]

    def _page(self, base: str, title: str, main: str, current: DemoArticle | None,
              head: str = "") -> str:
        related, most_read = self._chrome_lists(current)
        rel = "".join(
            f'<li><a href="{base}{self.prefix}{a.path}">{html.escape(a.title)}</a></li>'
            for a in related
        )
        top = "".join(
            f'<li><a href="{base}{self.prefix}{a.path}">{html.escape(a.title)}</a></li>'
            for a in most_read
        )
        sections = sorted({a.section for a in self.articles})
        nav = "".join(
            f'<a href="{base}{self.prefix}/{s}/">{s.title()}</a> ' for s in sections
        )
        s = self.state
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)} | {html.escape(self.name)}</title>
{head}
<link rel="alternate" type="application/rss+xml" href="{base}{self.prefix}/feed.xml">
<script>window.__ads = {{"slot": "top-{s}", "rev": {s * 7919 % 1000}}};</script>
</head>
<body>
<header class="site-header">
  <div class="brand"><a href="{base}{self.prefix}/">{html.escape(self.name)}</a></div>
  <div class="tagline">{html.escape(self.tagline)}</div>
  <div class="date">{self.today():%A, %b %d, %Y}</div>
  <nav>{nav}</nav>
</header>
<div class="ad" id="ad-top-{s}">Advertisement · slot {s * 31 % 97}</div>
<main>
{main}
</main>
<aside class="related"><h2>Related Articles</h2><ul>{rel}</ul></aside>
<aside class="most-read"><h2>Most read today</h2><ol>{top}</ol></aside>
<div class="ad" id="ad-bottom-{s}">Advertisement · campaign {s * 53 % 101}</div>
<footer>
  <p>&copy; {self.today():%Y} {html.escape(self.name)}. All rights reserved.</p>
  <p class="build">Page built {self.today():%Y-%m-%dT%H:%M}Z · edition {s}</p>
</footer>
</body>
</html>
"""

    def render_article(self, article: DemoArticle, base: str) -> str:
        paragraphs, note = self.article_text(article)
        url = f"{base}{self.prefix}{article.path}"
        modified = self.modified(article)
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "author": [{"@type": "Person", "name": article.author}],
            "datePublished": article.published.isoformat(),
            "dateModified": modified.isoformat(),
            "mainEntityOfPage": url,
            "publisher": {"@type": "Organization", "name": self.name},
        }
        head = f"""<link rel="canonical" href="{url}">
<meta property="og:url" content="{url}">
<meta property="og:type" content="article">
<meta property="og:title" content="{html.escape(article.title)}">
<meta property="og:site_name" content="{html.escape(self.name)}">
<meta name="author" content="{html.escape(article.author)}">
<meta property="article:published_time" content="{article.published.isoformat()}">
<script type="application/ld+json">{json.dumps(ld)}</script>"""
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        correction = f'<p class="correction"><em>Correction: {html.escape(note)}</em></p>' if note else ""
        main = f"""<article>
  <h1>{html.escape(article.title)}</h1>
  <p class="byline">By <span class="author">{html.escape(article.author)}</span>,
    <time datetime="{article.published.isoformat()}">{article.published:%B %d, %Y}</time></p>
  <div class="article-body">
{body}
{correction}
  </div>
</article>"""
        return self._page(base, article.title, main, article, head)

    def render_section(self, section: str, base: str) -> str:
        items = "".join(
            f'<li><a href="{base}{self.prefix}{a.path}">{html.escape(a.title)}</a> '
            f"<span>{a.published:%b %d}</span></li>"
            for a in self.articles if a.section == section
        )
        main = f'<h1>{html.escape(section.title())}</h1><ul class="teasers">{items}</ul>'
        return self._page(base, section.title(), main, None)

    def render_sitemap(self, base: str) -> str:
        urls = []
        for a in self.articles:
            urls.append(
                f"<url><loc>{base}{self.prefix}{a.path}</loc>"
                f"<lastmod>{self.modified(a).isoformat()}</lastmod>"
                f"<news:news><news:publication><news:name>{html.escape(self.name)}</news:name>"
                f"<news:language>en</news:language></news:publication>"
                f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
                f"<news:title>{html.escape(a.title)}</news:title></news:news></url>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            + "\n".join(urls) + "\n</urlset>\n"
        )

    def render_feed(self, base: str) -> str:
        items = "".join(
            f"<item><title>{html.escape(a.title)}</title><link>{base}{self.prefix}{a.path}</link>"
            f"<guid>{base}{self.prefix}{a.path}</guid>"
            f"<pubDate>{format_datetime(a.published)}</pubDate></item>\n"
            for a in self.articles
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{html.escape(self.name)}</title><link>{base}{self.prefix}/</link>"
            f"<description>{html.escape(self.tagline)}</description>\n{items}</channel></rss>\n"
        )

    # --- HTTP -----------------------------------------------------------------------------

    def respond(self, path: str, base: str, headers: Any) -> Response | None:
        """The response for ``path``, or None if it is not this site's."""
        p = self.prefix
        if not path.startswith(p + "/"):
            return None
        rest = path[len(p):]
        if rest == "/sitemap.xml":
            return _ok(self.render_sitemap(base), "application/xml")
        if rest in ("/feed.xml", "/rss.xml"):
            return _ok(self.render_feed(base), "application/rss+xml")
        if rest == "/":
            return _ok(self.render_section(self.articles[0].section, base), "text/html; charset=utf-8")
        if rest.strip("/") in {a.section for a in self.articles} and rest.endswith("/"):
            return _ok(self.render_section(rest.strip("/"), base), "text/html; charset=utf-8")
        article = self.by_path.get(path)
        if article is None:
            return None
        if article.slug in self.gone:
            return Response(410, {"Content-Type": "text/html; charset=utf-8"},
                            b"<html><body><h1>Gone</h1></body></html>")
        body = self.render_article(article, base).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        modified = self.modified(article)
        out = {
            "Content-Type": "text/html; charset=utf-8",
            "ETag": etag,
            "Last-Modified": format_datetime(modified, usegmt=True),
            "Cache-Control": "max-age=60",
        }
        if _not_modified(headers, etag, modified):
            return Response(304, {"ETag": etag, "Last-Modified": out["Last-Modified"]})
        return Response(200, out, body)


def _ok(text: str, content_type: str) -> Response:
    return Response(200, {"Content-Type": content_type}, text.encode("utf-8"))


def _not_modified(headers: Any, etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since when both are sent."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        return modified.replace(microsecond=0) <= since
    return False


class SiteHandler(BaseHTTPRequestHandler):
    """Serves the publishers of ``self.server.publishers``; subclasses add routes."""

    server: SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if "Content-Length" not in response.headers:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def route(self, path: str) -> Response | None:
        if path == "/robots.txt":
            lines = ["User-agent: *", "Disallow: /private/"]
            lines += [f"Sitemap: {self.base}{p.prefix}/sitemap.xml" for p in self.server.publishers]
            return Response(200, {"Content-Type": "text/plain"}, ("\n".join(lines) + "\n").encode())
        for publisher in self.server.publishers:
            response = publisher.respond(path, self.base, self.headers)
            if response is not None:
                return response
        return None

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path = urlsplit(self.path).path
        self.server.record(self.path)
        response = self.route(path)
        if response is None:
            response = Response(404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>")
        self.send(response)

    do_HEAD = do_GET


class SiteServer(ThreadingHTTPServer):
    """A threaded HTTP server on loopback for a list of publishers."""

    daemon_threads = True

    def __init__(self, publishers: list[Publisher], handler: type[SiteHandler] = SiteHandler,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), handler)
        self.publishers = publishers
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def start(self) -> SiteServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
