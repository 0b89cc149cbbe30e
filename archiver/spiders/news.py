"""The generic ``news`` spider: sitemaps, feeds, URL lists, robots.txt and declared sources.

Usage (several values comma-separated, arguments combinable)::

    scrapy crawl news -a sitemap=https://example.com/sitemap.xml
    scrapy crawl news -a feed=https://example.com/rss.xml
    scrapy crawl news -a url=https://example.com/2024/05/01/story.html
    scrapy crawl news -a site=https://example.com/          # sitemaps from robots.txt
    scrapy crawl news -a source=example-news                # from sources.toml
    scrapy crawl news -a sitemap=... -a limit=100           # at most 100 article pages

The spider only finds pages and turns responses (and failures) into
:class:`~archiver.items.Fetch` items; deciding what a page is and archiving it is the
pipeline's job. Every listing (sitemap, feed, robots.txt, start page) is a fetch too, so
a malformed sitemap leaves a row saying so.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from archiver.crawl.feeds import parse_feed
from archiver.crawl.netpolicy import RequestRefused
from archiver.crawl.revisits import BATCH, RevisitClaims, revisit_config, revisit_domains
from archiver.crawl.revisits import MODES as REVISIT_MODES
from archiver.crawl.sitemaps import parse_sitemap, sitemaps_from_robots
from archiver.crawl.sources import Source, SourcesError, get_source
from archiver.items import REDIRECT_LOOP, TOO_MANY_REDIRECTS, Fetch
from archiver.revisit import RevisitConfigError
from archiver.urls import normalise_url, same_site

logger = logging.getLogger(__name__)

#: Statuses an article callback sees instead of Scrapy dropping them: a 304 is an
#: outcome, and so are 404/410 (gone) and any other error that survived retries.
#: Redirect codes are absent so that RedirectMiddleware still follows them.
HANDLED_STATUSES = [304, *range(400, 600)]

#: Fetch.meta keys through which the spider tells the pipeline what it decided.
OUTCOME_KEY = "outcome"
REASON_KEY = "reason"
#: Request.meta key of the archived article a revisit request fetches again.
REVISIT_ID_KEY = "archiver_revisit_id"
#: Fetch.meta key naming the Content-Encoding of a body left compressed for a worker.
ENCODING_KEY = "content_encoding"


class UsageError(ValueError):
    """The spider was started without anything to crawl, or with a bad argument."""


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def describe_failure(failure: Failure) -> str:
    """A one-line reason for a failed download."""
    exc = failure.value
    name = type(exc).__name__
    message = str(exc).strip()
    if isinstance(exc, IgnoreRequest) and "max redirections" in message:
        # A chain that comes back to a URL it passed is a loop; a long one that never
        # does is only longer than REDIRECT_MAX_TIMES allows (it may end on a page).
        request = getattr(failure, "request", None)
        chain = [*(request.meta.get("redirect_urls") or ()), request.url] if request else []
        if chain and len(set(chain)) == len(chain):
            hops = len(chain) - 1
            return f"{TOO_MANY_REDIRECTS}: max redirections reached after {hops} hops"
        return f"{REDIRECT_LOOP}: max redirections reached"
    if ("larger than download max size" in message or "max size" in message
            or "exceeded DOWNLOAD_MAXSIZE" in message):  # a listing inflated past the cap
        return f"too large: {message}"
    return f"{name}: {message}" if message else name


def _headers(response: Response) -> dict[str, str]:
    out = {}
    for name, values in response.headers.items():
        if values:
            out[name.decode("latin-1").lower()] = values[-1].decode("latin-1")
    return out


#: Arguments Scrapy or scrapyd may pass besides the spider's own (``_job``: scrapyd).
_SCRAPY_ARGUMENTS = {"name", "_job"}


def known_arguments() -> list[str]:
    """The ``-a NAME=`` arguments the news spider takes, from its signature."""
    import inspect

    params = inspect.signature(NewsSpider.__init__).parameters.values()
    return [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(
        self,
        sitemap: str = "",
        feed: str = "",
        url: str = "",
        site: str = "",
        source: str = "",
        limit: str = "",
        revisit: str = "",
        **kwargs: Any,
    ) -> None:
        unknown = sorted(k for k in kwargs if k not in _SCRAPY_ARGUMENTS)
        if unknown:
            raise UsageError(
                f"unknown spider argument{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}: the news spider takes "
                f"{', '.join(f'-a {n}=' for n in known_arguments())}"
            )
        super().__init__(**kwargs)
        self.sitemap_urls = _split(sitemap)
        self.feed_urls = _split(feed)
        self.article_urls = _split(url)
        self.site_urls = _split(site)
        self.source_names = _split(source)
        try:
            self.limit = int(limit) if limit else None
        except ValueError:
            self.limit = -1
        if self.limit is not None and self.limit < 1:
            raise UsageError(f"limit must be a whole number of at least 1, not {limit!r}")
        if revisit and revisit not in REVISIT_MODES:
            raise UsageError(f"revisit must be one of {', '.join(REVISIT_MODES)}, not {revisit!r}")
        #: ``due`` or ``all``: revisit archived articles instead of reading listings.
        self.revisit = revisit or None
        # A revisit crawl narrows with -a site=DOMAIN (or a URL).
        sites = [] if self.revisit else self.site_urls
        for u in [*self.sitemap_urls, *self.feed_urls, *self.article_urls, *sites]:
            if urlsplit(u).scheme not in ("http", "https"):
                raise UsageError(f"not an http(s) URL: {u!r}")
        if not (
            self.sitemap_urls or self.feed_urls or self.article_urls or self.site_urls
            or self.source_names or self.revisit
        ):
            raise UsageError(
                "nothing to crawl: give -a sitemap=URL, -a feed=URL, -a url=URL, "
                "-a site=URL, -a source=NAME or -a revisit=due"
            )
        #: The arguments as given, for the crawl-run row.
        self.crawl_args = {
            k: v
            for k, v in {
                "sitemap": self.sitemap_urls, "feed": self.feed_urls, "url": self.article_urls,
                "site": self.site_urls, "source": self.source_names, "limit": self.limit,
                "revisit": self.revisit,
            }.items()
            if v
        }
        self.sources: list[Source] = []
        #: Limits a hostile publisher could push (set from the settings in from_crawler).
        self.max_url_length = 2048
        self.max_entries: int | None = 50_000
        self.max_sitemap_depth = 3
        self.max_links: int | None = 1000
        self._seen_articles: set[str] = set()
        #: A revisit crawl's claims (archiver/crawl/revisits.py), made in start().
        self.revisit_claims: RevisitClaims | None = None
        self._seen_listings: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_url_length = settings.getint("ARCHIVER_MAX_URL_LENGTH", 2048)
        spider.max_entries = settings.getint("ARCHIVER_MAX_LISTING_ENTRIES", 50_000) or None
        spider.max_sitemap_depth = settings.getint("ARCHIVER_MAX_SITEMAP_DEPTH", 3)
        spider.max_links = settings.getint("ARCHIVER_MAX_LINKS_PER_PAGE", 1000) or None
        path = crawler.settings.get("ARCHIVER_SOURCES")
        try:
            spider.sources = [get_source(path, name) for name in spider.source_names]
        except SourcesError as exc:
            raise UsageError(str(exc)) from exc
        return spider

    @classmethod
    def check_arguments(cls, settings: Any, **kwargs: Any) -> None:
        """Check the arguments and the sources they name, as ``from_crawler`` would,
        before a crawl starts (``archiver.crawl.preflight``).

        Raises:
            UsageError: one line saying what is wrong.
        """
        spider = cls(**kwargs)
        for name in spider.source_names:
            try:
                get_source(settings.get("ARCHIVER_SOURCES"), name)
            except SourcesError as exc:
                raise UsageError(str(exc)) from exc
        try:
            # Every crawl schedules revisits: the settings and the sources' revisit_*
            # values must fit together (one source's minimum above the maximum ...).
            revisit_config(settings)
        except (RevisitConfigError, SourcesError) as exc:
            raise UsageError(str(exc)) from exc

    @property
    def trusted_urls(self) -> list[str]:
        """URLs the user named: their hosts may be private (see archiver/crawl/netpolicy.py)."""
        named = [*self.sitemap_urls, *self.feed_urls, *self.article_urls, *self.site_urls]
        for source in self.sources:
            named += [*source.sitemaps, *source.feeds, *source.start_pages, *source.urls]
        return named

    @property
    def trusted_domains(self) -> list[str]:
        """The declared domains of the sources crawled (with their subdomains)."""
        return [d for source in self.sources for d in source.domains]

    # --- requests -------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        for request in self._start_requests():
            yield request

    def _start_requests(self) -> Iterable[Request]:
        if self.revisit:
            yield from self._revisits()
            return
        for u in self.sitemap_urls:
            yield from self._listing(u, "sitemap", {})
        for u in self.feed_urls:
            yield from self._listing(u, "feed", {})
        for u in self.site_urls:
            yield from self._robots(u, {})
        for u in self.article_urls:
            yield from self._article(u, {"via": "url"})
        for source in self.sources:
            origin = {"source": source.name}
            for u in source.sitemaps:
                yield from self._listing(u, "sitemap", origin, source)
            for u in source.feeds:
                yield from self._listing(u, "feed", origin, source)
            for u in source.start_pages:
                yield from self._listing(u, "start_page", origin, source, depth=source.depth)
            for u in source.urls:
                yield from self._article(u, {**origin, "via": "url"}, source)

    def _revisits(self) -> Iterable[Request]:
        """Claimed archived articles (archiver/crawl/revisits.py), fetched conditionally
        through the same extract and archive path; their own URLs are trusted. The
        claims the crawl does not get to are given back when it closes (:meth:`closed`)."""
        settings = self.crawler.settings
        self.revisit_claims = RevisitClaims(
            settings.get("ARCHIVER_DATABASE_URL"),
            mode=self.revisit or "due",
            domains=revisit_domains(self.site_urls, self.sources),
            limit=self.limit,
            lease=timedelta(seconds=settings.getfloat("ARCHIVER_REVISIT_LEASE", 3600)),
            config=revisit_config(settings),
            batch=settings.getint("ARCHIVER_REVISIT_BATCH", BATCH),
        )
        for claimed in self.revisit_claims:
            self.crawler.stats.inc_value("archiver/revisits")
            self._seen_articles.add(normalise_url(claimed.url))
            yield Request(
                claimed.url,
                callback=self.parse_article,
                errback=self.article_failed,
                dont_filter=True,
                meta={
                    "handle_httpstatus_list": HANDLED_STATUSES,
                    "archiver_kind": "article",
                    "archiver_origin": {"via": "revisit"},
                    "archiver_trusted": True,
                    REVISIT_ID_KEY: claimed.id,
                },
            )

    def _answered(self, request: Request | None) -> None:
        """A revisit got an answer (a response or a failure): see RevisitClaims.settle."""
        if request is not None and self.revisit_claims is not None:
            article_id = request.meta.get(REVISIT_ID_KEY)
            if article_id is not None:
                self.revisit_claims.answered(article_id)

    def closed(self, reason: str) -> None:
        """Give back the revisit claims no fetch released (a limit, a stop, an
        interruption), so those articles are due again at once, not after the lease."""
        if self.revisit_claims is None:
            return
        settled = self.revisit_claims.settle()
        if settled.released or settled.rescheduled:
            logger.info(
                "Revisit claims settled at the crawl's end (%s): %d released, due again "
                "now; %d answered under another article, rescheduled",
                reason, settled.released, settled.rescheduled,
            )
        self.crawler.stats.set_value("archiver/revisits/released", settled.released)

    def _robots(self, site: str, origin: dict[str, Any]) -> Iterable[Request]:
        url = urljoin(site, "/robots.txt")
        if url in self._seen_listings:
            return
        self._seen_listings.add(url)
        yield Request(
            url,
            callback=self.parse_robots,
            errback=self.listing_failed,
            dont_filter=True,
            meta={
                "dont_obey_robotstxt": True,
                "handle_httpstatus_list": HANDLED_STATUSES,
                "archiver_kind": "robots",
                "archiver_origin": origin,
            },
        )

    def _listing(
        self,
        url: str,
        kind: str,
        origin: dict[str, Any],
        source: Source | None = None,
        depth: int = 0,
        index_depth: int = 0,
    ) -> Iterable[Request]:
        if url in self._seen_listings:
            return
        self._seen_listings.add(url)
        callback = {
            "sitemap": self.parse_sitemap, "feed": self.parse_feed,
            "start_page": self.parse_start_page,
        }[kind]
        yield Request(
            url,
            callback=callback,
            errback=self.listing_failed,
            dont_filter=True,
            # Listings first: they say what to fetch; articles are queued behind them.
            priority=10,
            meta={
                "handle_httpstatus_list": HANDLED_STATUSES,
                "archiver_kind": kind,
                "archiver_origin": origin,
                "archiver_source": source,
                "archiver_depth": depth,
                # How many sitemap indexes lead here (ARCHIVER_MAX_SITEMAP_DEPTH).
                "archiver_index_depth": index_depth,
            },
        )

    def _article(
        self, url: str, meta: dict[str, Any], source: Source | None = None
    ) -> Iterable[Request]:
        if source is not None and not source.allows(url):
            self.crawler.stats.inc_value("archiver/skipped/offsite")
            return
        key = normalise_url(url)
        if key in self._seen_articles:
            # A second sitemap entry (or a tracking-parameter variant) of the same page.
            self.crawler.stats.inc_value("archiver/skipped/duplicate_url")
            return
        if self.limit is not None and len(self._seen_articles) >= self.limit:
            self.crawler.stats.inc_value("archiver/skipped/limit")
            return
        self._seen_articles.add(key)
        yield Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            dont_filter=True,
            meta={
                "handle_httpstatus_list": HANDLED_STATUSES,
                "archiver_kind": "article",
                "archiver_origin": meta,
                # Held to the source's domains across redirects (archiver/crawl/netpolicy.py).
                "archiver_source": source,
            },
        )

    # --- callbacks ------------------------------------------------------------------------

    def _fetch(self, response: Response, **extra: Any) -> Fetch:
        request = response.request
        assert request is not None
        redirects = request.meta.get("redirect_urls") or [request.url]
        meta = {"kind": request.meta.get("archiver_kind", "article")}
        meta.update(request.meta.get("archiver_origin") or {})
        meta.update(extra)
        if request.meta.get("archiver_encoding"):
            # Still compressed: an extraction worker inflates it (see middlewares.py).
            meta[ENCODING_KEY] = request.meta["archiver_encoding"]
        return Fetch(
            url=redirects[0],
            final_url=response.url,
            status=response.status,
            headers=_headers(response),
            body=response.body,
            meta=meta,
        )

    def parse_article(self, response: Response) -> Iterable[Fetch]:
        self._answered(response.request)
        yield self._fetch(response)

    def article_failed(self, failure: Failure) -> Iterable[Fetch]:
        request = failure.request  # type: ignore[attr-defined]
        self._answered(request)
        if isinstance(failure.value, RequestRefused):
            # The network policy's refusal: nothing was sent; a fetch row says why.
            yield self._refused_fetch(request, failure.value)
            return
        if isinstance(failure.value, IgnoreRequest) and "robots.txt" in str(failure.value):
            self.crawler.stats.inc_value("archiver/skipped/robots")
            return
        reason = describe_failure(failure)
        logger.info("Fetch failed: %s: %s", request.url, reason)
        meta = {"kind": request.meta.get("archiver_kind", "article")}
        meta.update(request.meta.get("archiver_origin") or {})
        redirects = request.meta.get("redirect_urls") or [request.url]
        yield Fetch(url=redirects[0], final_url=request.url, error=reason, meta=meta)

    listing_failed = article_failed

    def _refused_fetch(self, request: Request, refused: RequestRefused) -> Fetch:
        meta = {"kind": request.meta.get("archiver_kind", "article")}
        meta.update(request.meta.get("archiver_origin") or {})
        meta.update({OUTCOME_KEY: "skipped", REASON_KEY: refused.reason})
        redirects = request.meta.get("redirect_urls") or [request.url]
        url = redirects[0]
        if self.max_url_length and len(url) > self.max_url_length:
            # Listed too long: kept cut, as an index takes it (the reason gives its length).
            url = url[: self.max_url_length]
        return Fetch(url=url, final_url=request.url, meta=meta)

    def _listing_error(self, response: Response) -> Fetch | None:
        if response.status >= 400:
            return self._fetch(
                response, **{OUTCOME_KEY: "error", REASON_KEY: f"HTTP {response.status}"}
            )
        return None

    def _listing_fetch(self, response: Response, summary: str, problem: str | None) -> Fetch:
        """The fetch row of a sitemap or feed: what it held, and what was wrong with it
        (a malformed listing is an error, though its readable entries are still used)."""
        reason = summary
        if problem:
            self.crawler.stats.inc_value("archiver/listing/malformed")
            logger.warning("Listing %s: %s (%s)", response.url, problem, summary)
            reason = f"{problem}; {summary}"
        return self._fetch(
            response, **{OUTCOME_KEY: "error" if problem else "not_article", REASON_KEY: reason}
        )

    def parse_robots(self, response: Response) -> Iterable[Any]:
        origin = response.meta.get("archiver_origin") or {}
        sitemaps = sitemaps_from_robots(response.body) if response.status < 400 else []
        if not sitemaps:
            sitemaps = [urljoin(response.url, "/sitemap.xml")]
            reason = "robots.txt lists no sitemap; trying /sitemap.xml"
        else:
            reason = f"robots.txt lists {len(sitemaps)} sitemap(s)"
        yield self._fetch(response, **{OUTCOME_KEY: "not_article", REASON_KEY: reason})
        for u in sitemaps:
            yield from self._listing(u, "sitemap", origin)

    def parse_sitemap(self, response: Response) -> Iterable[Any]:
        failed = self._listing_error(response)
        if failed:
            yield failed
            return
        source = response.meta.get("archiver_source")
        origin = response.meta.get("archiver_origin") or {}
        sitemap = parse_sitemap(response.body, self.max_entries)
        what = {"urlset": "sitemap", "sitemapindex": "sitemap index", "text": "text sitemap"}
        problem = sitemap.problem
        index_depth = response.meta.get("archiver_index_depth", 0) + 1
        too_deep = sitemap.is_index and index_depth > self.max_sitemap_depth
        if too_deep:
            self.crawler.stats.inc_value("archiver/listing/too_deep")
            deep = (
                f"sitemap indexes nested deeper than {self.max_sitemap_depth}: "
                f"{len(sitemap.entries)} sitemaps not followed"
            )
            problem = f"{problem}; {deep}" if problem else deep
        yield self._listing_fetch(
            response,
            f"{what.get(sitemap.kind, 'not a sitemap')}: {len(sitemap.entries)} entries",
            problem,
        )
        if too_deep:
            return
        for entry in sitemap.entries:
            if sitemap.is_index:
                yield from self._listing(
                    entry.loc, "sitemap", origin, source, index_depth=index_depth
                )
            else:
                meta = {**origin, "via": "sitemap", "listed_in": response.url, **entry.meta()}
                yield from self._article(entry.loc, meta, source)

    def parse_feed(self, response: Response) -> Iterable[Any]:
        failed = self._listing_error(response)
        if failed:
            yield failed
            return
        source = response.meta.get("archiver_source")
        origin = response.meta.get("archiver_origin") or {}
        feed = parse_feed(response.body, base_url=response.url, max_entries=self.max_entries)
        yield self._listing_fetch(
            response, f"{feed.kind} feed: {len(feed.entries)} entries", feed.problem
        )
        for entry in feed.entries:
            meta = {**origin, "via": "feed", "listed_in": response.url, **entry.meta()}
            yield from self._article(entry.link, meta, source)

    def parse_start_page(self, response: Response) -> Iterable[Any]:
        failed = self._listing_error(response)
        if failed:
            yield failed
            return
        source: Source | None = response.meta.get("archiver_source")
        origin = response.meta.get("archiver_origin") or {}
        depth = response.meta.get("archiver_depth", 0)
        articles = followed = left = 0
        requests: list[Request] = []
        if isinstance(response, scrapy.http.TextResponse):
            for href in response.css("a::attr(href)").getall():
                if self.max_links is not None and articles + followed >= self.max_links:
                    left += 1  # a page of endless links stops at the limit
                    continue
                link = response.urljoin(href.strip())
                if urlsplit(link).scheme not in ("http", "https"):
                    continue
                if source is not None and source.is_article_url(link):
                    meta = {**origin, "via": "start_page", "listed_in": response.url}
                    new = list(self._article(link, meta, source))
                    articles += len(new)
                    requests += new
                elif depth > 0 and same_site(link, response.url) and (
                    source is None or source.allows(link)
                ):
                    new = list(self._listing(link, "start_page", origin, source, depth - 1))
                    followed += len(new)
                    requests += new
        reason = f"start page: {articles} article links, {followed} pages followed"
        if left:
            self.crawler.stats.inc_value("archiver/listing/links_not_taken", left)
            reason += f"; {left} more links not taken (limit {self.max_links} a page)"
        yield self._fetch(response, **{OUTCOME_KEY: "not_article", REASON_KEY: reason})
        yield from requests
