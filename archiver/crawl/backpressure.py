"""Backpressure: a bounded number of pages in hand, fetched or being fetched but not kept.

A page is *in hand* from the moment its request enters the downloader until the pipeline
has written it to the archive or the spool. Without a bound, downloads outrun extraction
and writing (Scrapy lets responses pile up to 5 MB per spider, ~1000 small pages), and a
``kill -9`` or a full disk loses all of them. :class:`PagesInHandMiddleware`, the last
downloader middleware before the download itself, holds a request back while
``ARCHIVER_MAX_PAGES_IN_HAND`` pages are in hand: downloading (in the downloader's slots)
or in the scraper (the spider's callback, then the archive pipeline until written; the
pipeline's own count, :class:`PagesInHand`, backs that up). So a killed crawl loses at
most that many captures, and the next crawl fetches them again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy.exceptions import IgnoreRequest

#: The reason given to a request held back when the crawl stopped: it was never fetched,
#: so the pipeline records nothing for it.
NOT_FETCHED = "the crawl is stopping: not fetched"


class PagesInHand:
    """The pipeline's side of the count: pages it is extracting or writing, and whether
    the crawl is stopping (then nothing more is let through)."""

    def __init__(self) -> None:
        self.in_pipeline = 0
        self.stopping = False

    @classmethod
    def of(cls, crawler: Any) -> PagesInHand:
        """The crawler's one counter, shared by the middleware and the pipeline."""
        found = getattr(crawler, "_archiver_pages_in_hand", None)
        if found is None:
            found = cls()
            crawler._archiver_pages_in_hand = found
        return found


class PagesInHandMiddleware:
    """Holds requests back while ``ARCHIVER_MAX_PAGES_IN_HAND`` pages are in hand."""

    #: Seconds between two looks at the count while a request waits.
    POLL = 0.02

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.limit = crawler.settings.getint("ARCHIVER_MAX_PAGES_IN_HAND", 16)
        self.count = PagesInHand.of(crawler)
        #: Requests let through and, at the last look, still in the downloader.
        self.passed: set[Any] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> PagesInHandMiddleware:
        return cls(crawler)

    def in_hand(self) -> int:
        engine = self.crawler.engine
        # Requests this middleware let through that the downloader still holds: queued
        # in their slot, downloading, or their response going back up the middlewares
        # (the downloader lets go of a request only when its response is handed to the
        # scraper, in the same call). Counting the slots' downloads alone missed the
        # last two: a response between the download and the scraper was in no count.
        # Requests still waiting here or in an earlier middleware are not in hand.
        active = engine.downloader.active
        self.passed = {request for request in self.passed if request in active}
        downloading = len(self.passed)
        # Responses in the scraper: their callbacks and their items in the pipelines.
        slot = getattr(engine.scraper, "slot", None)
        scraping = len(slot.active) + len(slot.queue) if slot is not None else 0
        return downloading + max(scraping, self.count.in_pipeline)

    async def process_request(self, request: Any) -> None:
        if self.limit <= 0:
            return
        while self.in_hand() >= self.limit:
            if self.count.stopping or not self.crawler.engine.running:
                raise IgnoreRequest(NOT_FETCHED)
            await asyncio.sleep(self.POLL)
        if self.count.stopping:
            raise IgnoreRequest(NOT_FETCHED)
        self.passed.add(request)
        return
