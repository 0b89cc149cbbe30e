"""Downloader middlewares: conditional requests, retries that back off, deferred
decompression and a meta refresh that reads only the head of a page.

Both read their settings in ``from_crawler``; the database engine of the conditional
middleware is made when the spider opens and disposed of when it closes.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from sqlalchemy.exc import DBAPIError

from archiver.crawl.workers import WORKER_ENCODINGS, head_of_body
from archiver.urls import normalise_url

logger = logging.getLogger(__name__)

_VALIDATOR_HEADERS = ("If-None-Match", "If-Modified-Since")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class ConditionalRequestMiddleware:
    """Send ``If-None-Match`` / ``If-Modified-Since`` from the last fetch of a URL.

    Only article requests (``meta["archiver_kind"] == "article"``) get validators; a 304
    then reaches the pipeline, which records ``not_modified`` without extraction. The
    lookup runs on a thread, never on the reactor. A redirect drops the validators: they
    belong to the URL first asked for.
    """

    #: Seconds to gather lookups into one query.
    BATCH_DELAY = 0.005

    def __init__(self, crawler: Any) -> None:
        if not crawler.settings.getbool("ARCHIVER_CONDITIONAL_REQUESTS", True):
            raise NotConfigured
        self.database_url = crawler.settings.get("ARCHIVER_DATABASE_URL")
        self.Session: Any = None
        self._batch: dict[str, asyncio.Future[dict[str, str]]] | None = None
        self.stats = crawler.stats
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        from archiver.storage.session import make_engine, make_sessionmaker

        self.engine = make_engine(self.database_url)
        self.Session = make_sessionmaker(self.engine)
        self.executor = ThreadPoolExecutor(4, thread_name_prefix="archiver-validators")

    def spider_closed(self, spider: Any) -> None:
        if self.Session is not None:
            self.executor.shutdown(wait=True)
            self.engine.dispose()
            self.Session = None

    def _lookup(self, urls: list[str]) -> dict[str, dict[str, str]]:
        from archiver.storage.archive import validators_for

        with self.Session() as session:
            return validators_for(session, urls)

    def _validators(self, url: str) -> asyncio.Future[dict[str, str]]:
        """The validators of ``url``, looked up together with the other requests that
        pass through in the same few milliseconds: one query for a batch, not per URL."""
        loop = asyncio.get_running_loop()
        if self._batch is None:
            self._batch = {}
            loop.call_later(self.BATCH_DELAY, self._flush)
        future = self._batch.get(url)
        if future is None:
            future = self._batch[url] = loop.create_future()
        return future

    def _flush(self) -> None:
        batch, self._batch = self._batch or {}, None
        loop = asyncio.get_running_loop()

        def done(result: asyncio.Future[dict[str, dict[str, str]]]) -> None:
            exc = result.exception()
            for url, future in batch.items():
                if future.done():
                    continue
                if exc is not None:
                    future.set_exception(exc)
                else:
                    found = result.result()
                    future.set_result(found.get(url) or found.get(normalise_url(url)) or {})

        asyncio.wrap_future(self.executor.submit(self._lookup, list(batch)), loop=loop) \
            .add_done_callback(done)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("archiver_kind") != "article" or self.Session is None:
            return None
        if request.meta.get("redirect_urls"):
            if request.meta.pop("archiver_conditional", False):
                for name in _VALIDATOR_HEADERS:
                    request.headers.pop(name, None)
            return None
        if request.meta.get("archiver_conditional") is not None:
            return None  # a retry of a request already looked up
        try:
            found = await self._validators(request.url)
        except DBAPIError as exc:
            # The pipeline deals with a database that went away; a fetch without
            # validators is only a full fetch.
            logger.warning("No validators for %s: %s", request.url, exc.orig or exc)
            found = {}
        request.meta["archiver_conditional"] = bool(found)
        for name, value in found.items():
            request.headers.setdefault(name, value)
        if found:
            self.stats.inc_value("archiver/conditional_requests")
        return None


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, plus waiting before each retry.

    Scrapy retries at once, which hammers a server that said 429 or 503. This waits what
    ``Retry-After`` asks (up to ``ARCHIVER_RETRY_AFTER_MAX``; a longer wait gives up on
    the URL), otherwise ``ARCHIVER_RETRY_BACKOFF * 2**n`` seconds, capped at
    ``ARCHIVER_RETRY_BACKOFF_MAX``. The wait holds the request, not the reactor.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("ARCHIVER_RETRY_BACKOFF", 1.0)
        self.backoff_max = settings.getfloat("ARCHIVER_RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("ARCHIVER_RETRY_AFTER_MAX", 300.0)

    def _delay(self, request: Request, response: Response | None) -> float | None:
        if response is not None:
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                return asked if asked <= self.retry_after_max else None
        retries = request.meta.get("retry_times", 0)
        return min(self.backoff * 2**retries, self.backoff_max)

    async def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = self._delay(request, response)
        if delay is None:
            logger.info(
                "Not retrying %s: Retry-After %s is longer than %.0fs",
                request.url, response.headers.get("Retry-After"), self.retry_after_max,
            )
            return response
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        if delay > 0:
            await asyncio.sleep(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Any:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get(
            "dont_retry", False
        ):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        delay = self._delay(request, None) or 0
        if delay > 0:
            await asyncio.sleep(delay)
        return retry


class DeferredDecompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression, except for article pages, which are inflated in a worker.

    An article body goes to an extraction worker anyway; shipping it there gzipped
    (a fifth of the bytes) and inflating it there keeps the reactor thread free. The
    worker applies the same ``DOWNLOAD_MAXSIZE`` cap to the inflated size. Listings,
    errors and encodings other than a single gzip/deflate go through Scrapy as usual.
    """

    def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        if (
            request.meta.get("archiver_kind") == "article"
            and request.method != "HEAD"
            and 200 <= response.status < 300
        ):
            encodings = [
                e.strip().lower()
                for value in response.headers.getlist("Content-Encoding")
                for e in value.decode("latin-1").split(",")
                if e.strip() and e.strip().lower() != "identity"
            ]
            if len(encodings) == 1 and encodings[0] in WORKER_ENCODINGS:
                request.meta["archiver_encoding"] = encodings[0]
                return response
        return super().process_response(request, response)


def _says_html(response: Response) -> bool:
    content_type = response.headers.get("Content-Type") or b""
    return content_type.split(b";")[0].strip().lower() in (b"text/html", b"application/xhtml+xml")


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta refresh redirects, looked for in the head of the page only.

    Scrapy's own middleware takes ``response.text``, which decodes (and, with no charset
    declared, sniffs) the whole body on the reactor thread, for every page, to look at
    its first 4096 characters. Worse, an article body still gzipped for the workers (see
    :class:`DeferredDecompressionMiddleware`) would be decoded as garbage and its refresh
    missed. This hands Scrapy's middleware a copy of the response holding only the
    inflated head, and only when the head mentions a refresh: Scrapy still decides,
    with its settings (``METAREFRESH_*``), decoding and redirect bookkeeping.
    """

    #: Scrapy looks at 4096 characters; a UTF-8 character takes at most 4 bytes.
    HEAD_BYTES = 4 * 4096

    def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        encoding = request.meta.get("archiver_encoding")
        if not isinstance(response, HtmlResponse) and not (encoding and _says_html(response)):
            # (A body left gzipped for the workers is a plain Response unless its URL
            # ends in .html: Scrapy will not guess a class from compressed bytes.)
            return response
        head = head_of_body(response.body, encoding, self.HEAD_BYTES)
        if b"refresh" not in head.lower() and not head.startswith(_UTF16_BOMS):
            return response  # the common case, without decoding anything
        redirected = super().process_response(
            request, response.replace(cls=HtmlResponse, body=head)
        )
        if not isinstance(redirected, Request):
            return response
        # The page it leads to must be decompressed afresh, like any other.
        redirected.meta.pop("archiver_encoding", None)
        return redirected
