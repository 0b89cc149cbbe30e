"""A progress line a person can read during a long crawl.

Every ``ARCHIVER_PROGRESS_INTERVAL`` seconds (30 by default; 0: none) the crawl logs::

    Progress: 120 pages fetched (2.0/s), 30 new articles, 2 new versions, 50 unchanged,
    0 not modified, 3 not articles, 0 gone, 1 skipped, 2 errors; 57 requests queued,
    4 downloading

from the counters the pipeline keeps in Scrapy's stats (``archiver/fetched``,
``archiver/fetch/<outcome>``), so the line and the closing summary always agree.
Scrapy's own once-a-minute "Crawled N pages" line stays as it is.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

logger = logging.getLogger(__name__)

#: Outcome stats keys and their words in the line, in the closing summary's order.
OUTCOMES = (
    ("new_article", "new articles"),
    ("new_version", "new versions"),
    ("unchanged", "unchanged"),
    ("not_modified", "not modified"),
    ("not_article", "not articles"),
    ("gone", "gone"),
    ("skipped", "skipped"),
    ("error", "errors"),
)


class Progress:
    """Logs the progress line; an extension (``EXTENSIONS`` in archiver/settings.py)."""

    def __init__(self, crawler: Any, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.task: Any = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Any) -> Progress:
        interval = crawler.settings.getfloat("ARCHIVER_PROGRESS_INTERVAL", 30.0)
        if interval <= 0:
            raise NotConfigured
        progress = cls(crawler, interval)
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        return progress

    def spider_opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()

    def line(self) -> str:
        """The progress line, from the crawl's stats as they are now."""
        stats = self.crawler.stats
        fetched = stats.get_value("archiver/fetched", 0)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        outcomes = ", ".join(
            f"{stats.get_value(f'archiver/fetch/{key}', 0)} {words}" for key, words in OUTCOMES
        )
        engine = self.crawler.engine
        scheduler = getattr(engine, "scheduler", None)
        queued = len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else 0
        downloading = len(getattr(engine.downloader, "active", ()))
        return (f"Progress: {fetched} pages fetched ({fetched / elapsed:.1f}/s), {outcomes}; "
                f"{queued} requests queued, {downloading} downloading")

    def log(self) -> None:
        logger.info(self.line())
