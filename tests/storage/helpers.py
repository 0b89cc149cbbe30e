"""Builders for fetches, articles and pages used by the storage tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from archiver.extract import Article
from archiver.items import Fetch

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)

BODY_A = (
    "The city council voted on Tuesday to extend the night bus network to the northern "
    "suburbs, ending a two-year dispute with the transport authority.\n\n"
    "Council member Ana Ruiz said the change would serve about 40,000 residents who work "
    "late shifts. “It is the least we owe them,” she said.\n\n"
    "The first routes will start running in March, officials said."
)
BODY_B = BODY_A.replace("about 40,000 residents", "about 14,000 residents")


def make_article(text: str = BODY_A, **kw: object) -> Article:
    kw.setdefault("title", "Council extends night buses to northern suburbs")
    kw.setdefault("authors", ["Ana Ruiz", "Tom Berg"])
    kw.setdefault("published_at", datetime(2026, 10, 30, 8, 15, tzinfo=timezone.utc))
    kw.setdefault("extractor_version", "test/1")
    kw.setdefault("canonical_url", "https://www.example-news.com/city/night-buses")
    return Article(text=text, **kw)  # type: ignore[arg-type]


def make_fetch(
    url: str = "https://www.example-news.com/city/night-buses",
    *,
    at: int = 0,
    status: int = 200,
    body: bytes | None = b"<html>page</html>",
    **kw: object,
) -> Fetch:
    """A fetch ``at`` minutes after T0."""
    kw.setdefault("headers", {"content-type": "text/html; charset=utf-8"})
    return Fetch(
        url=url,
        final_url=kw.pop("final_url", url),  # type: ignore[arg-type]
        status=status,
        body=body,
        fetched_at=T0 + timedelta(minutes=at),
        **kw,  # type: ignore[arg-type]
    )


def page(body_paragraphs: list[str], *, header_date: str, related: list[str], ad: str) -> bytes:
    """A publisher page: the article plus chrome that changes between visits."""
    paras = "\n".join(f"<p>{p}</p>" for p in body_paragraphs)
    rel = "\n".join(f'<li><a href="/r/{i}">{t}</a></li>' for i, t in enumerate(related))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Council extends night buses to northern suburbs | Example News</title>
<link rel="canonical" href="https://www.example-news.com/city/night-buses">
<meta property="og:site_name" content="Example News">
<meta name="author" content="Ana Ruiz">
<meta property="article:published_time" content="2026-10-30T08:15:00Z">
</head><body>
<header><nav><a href="/">Home</a> <a href="/city">City</a></nav><div class="date">{header_date}</div></header>
<main><article><h1>Council extends night buses to northern suburbs</h1>
{paras}
</article></main>
<aside class="related"><h2>Related Articles</h2><ul>{rel}</ul></aside>
<footer><div class="ad">{ad}</div><p>© Example News</p></footer>
</body></html>""".encode()


PARAGRAPHS = [p for p in BODY_A.split("\n\n")]
