"""Spider callbacks, workers and middlewares, one at a time (no reactor, no server)."""

from __future__ import annotations

import gzip
import zlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from scrapy.http import HtmlResponse, Request, XmlResponse
from scrapy.utils.test import get_crawler

from archiver.crawl.middlewares import retry_after_seconds
from archiver.crawl.pipelines import triage
from archiver.crawl.workers import BodyTooLarge, decode_body, process_page
from archiver.items import Fetch
from archiver.spiders.news import NewsSpider, UsageError
from archiver.storage.archive import Outcome
from tests.crawl.test_listings import NEWS_SITEMAP


def _spider(**kwargs):
    crawler = get_crawler(NewsSpider, {"ARCHIVER_SOURCES": "sources.toml"})
    return NewsSpider.from_crawler(crawler, **kwargs)


def test_spider_needs_something_to_crawl():
    with pytest.raises(UsageError, match="nothing to crawl"):
        _spider()
    with pytest.raises(UsageError, match="not an http"):
        _spider(url="ftp://example.com/x")


def test_sitemap_callback_yields_one_request_per_article_and_a_fetch_for_itself():
    spider = _spider(sitemap="https://example.com/sitemap.xml")
    request = Request("https://example.com/sitemap.xml", meta={"archiver_kind": "sitemap"})
    response = XmlResponse(request.url, body=NEWS_SITEMAP, request=request)
    out = list(spider.parse_sitemap(response))
    fetches = [o for o in out if isinstance(o, Fetch)]
    requests = [o for o in out if isinstance(o, Request)]
    assert len(fetches) == 1 and fetches[0].meta["outcome"] == "not_article"
    assert [r.url for r in requests] == [
        "https://example.com/2025/03/01/bank.html", "https://example.com/2025/03/02/ferry.html"]
    assert requests[0].meta["archiver_origin"]["news_title"] == "Central bank holds rates"
    # A second entry of the same page (a tracking variant) is not fetched twice.
    again = list(spider._article("https://example.com/2025/03/01/bank.html?utm_source=x", {}))
    assert again == []


def test_article_callback_makes_a_fetch_with_the_redirect_chain():
    spider = _spider(url="https://example.com/a")
    request = Request("https://example.com/final", meta={
        "archiver_kind": "article", "redirect_urls": ["https://example.com/a"],
        "archiver_origin": {"via": "url"}})
    response = HtmlResponse(request.url, status=200, body=b"<html>x</html>",
                            headers={"ETag": '"e1"', "Content-Type": "text/html"}, request=request)
    (fetch,) = spider.parse_article(response)
    assert (fetch.url, fetch.final_url, fetch.status) == (
        "https://example.com/a", "https://example.com/final", 200)
    assert fetch.headers["etag"] == '"e1"' and fetch.meta == {"kind": "article", "via": "url"}


@pytest.mark.parametrize("fetch, expected", [
    (Fetch(url="u", status=200, headers={"content-type": "application/pdf"}, body=b"%PDF"),
     (Outcome.SKIPPED, "not a web page: application/pdf", False)),
    (Fetch(url="u", status=200, headers={"content-type": "text/html"}, body=b" \n"),
     (Outcome.SKIPPED, "empty body (HTTP 200)", False)),
    (Fetch(url="u", status=200, headers={}, body=b"\x89PNG\r\n"),
     (Outcome.SKIPPED, "not a web page: looks like image/png (HTTP 200)", False)),
    (Fetch(url="u", error="TimeoutError: took too long"),
     (Outcome.ERROR, "TimeoutError: took too long", False)),
    (Fetch(url="u", status=304), (None, None, False)),
    (Fetch(url="u", status=410), (None, None, False)),
    (Fetch(url="u", status=200, headers={"content-type": "text/html"}, body=b"<html>"),
     (None, None, True)),
])
def test_triage(fetch, expected):
    assert triage(fetch) == expected


def test_decode_body_caps_the_inflated_size():
    raw = b"<html>" + b" " * 100_000
    assert decode_body(gzip.compress(raw), "gzip", 0) == raw
    assert decode_body(zlib.compress(raw), "deflate", 200_000) == raw
    raw_deflate = zlib.compressobj(wbits=-15)
    assert decode_body(raw_deflate.compress(raw) + raw_deflate.flush(), "deflate", 0) == raw
    with pytest.raises(BodyTooLarge):
        decode_body(gzip.compress(raw), "gzip", 50_000)
    truncated = gzip.compress(raw)[:-20]
    assert decode_body(truncated, "gzip", 0).startswith(b"<html>")
    result = process_page(b"not gzip at all", "gzip", "http://x/", None, 0)
    assert result.outcome == "error" and "undecodable" in result.reason


def test_retry_after():
    assert retry_after_seconds(b"120") == 120
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None


def _meta_refresh(body: bytes, content_type: str, **meta) -> Request | HtmlResponse:
    from archiver.crawl.middlewares import HeadMetaRefreshMiddleware

    crawler = get_crawler(NewsSpider, {"METAREFRESH_MAXDELAY": 100})
    middleware = HeadMetaRefreshMiddleware.from_crawler(crawler)
    request = Request("https://example.com/old/story", meta={"archiver_kind": "article", **meta})
    response = HtmlResponse(request.url, body=body, headers={"Content-Type": content_type},
                            request=request)
    return middleware.process_response(request, response)


@pytest.mark.parametrize("charset", ["utf-8", "windows-1251"])
def test_meta_refresh_is_read_from_the_head_in_the_http_charset(charset):
    page = ('<html><head><title>Перемещено</title><meta http-equiv="refresh" '
            'content="0; url=/новости/story"></head><body>moved</body></html>').encode(charset)
    out = _meta_refresh(page, f"text/html; charset={charset}")
    assert isinstance(out, Request)
    assert out.url == "https://example.com/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/story"
    assert out.meta["redirect_urls"] == ["https://example.com/old/story"]


def test_meta_refresh_in_a_gzipped_article_is_followed_and_decompressed_afresh():
    page = b'<html><head><meta http-equiv="refresh" content="2;URL=\'/new\'"></head></html>'
    out = _meta_refresh(gzip.compress(page + b" " * 100_000), "text/html",
                        archiver_encoding="gzip")
    assert isinstance(out, Request) and out.url == "https://example.com/new"
    assert "archiver_encoding" not in out.meta


@pytest.mark.parametrize("page", [
    b'<html><head><meta http-equiv="refresh" content="300"></head><body>live blog</body></html>',
    b'<html><head><meta http-equiv="refresh" content="600; url=/elsewhere"></head></html>',
    b"<html><head><title>A story</title></head><body>" + b"<p>text</p>" * 5000 + b"</body></html>",
    b"<html><body>" + b"x" * 20_000 + b'<meta http-equiv="refresh" content="0; url=/x"></body>',
])
def test_pages_without_a_prompt_refresh_in_their_head_are_left_alone(page):
    out = _meta_refresh(page, "text/html; charset=utf-8")
    assert isinstance(out, HtmlResponse) and out.body == page
