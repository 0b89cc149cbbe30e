"""Distributed crawling on scrapy-redis: one job's request queue and duplicate filter in
Redis, shared by every process that runs the job (``ARCHIVER_REDIS_URL``, unset by
default).

The same ``scrapy crawl news ...`` started on several machines: the first to take the
job's lock (archiver/service/lock.py) is the **seeder**: it empties the job's queue and
duplicate filter left by an earlier crawl, then reads the listings as usual. Every other
process of the job **joins** instead of being skipped: it records its own run (its
``stats.joined`` names the seeder's run), yields no start requests, and takes requests
from the shared queue; it stays while the seeder runs, even when the queue is empty for a
moment, and ends when both are done. Whoever parses a listing pushes its articles to the
queue, and an article URL enters the queue once per crawl of the job (the shared
duplicate filter), so each page is fetched once in total.

A process that dies loses the requests it had taken from the queue (at most
``ARCHIVER_MAX_PAGES_IN_HAND``, as a single crawl killed so would); the next crawl of the
job lists them again.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from archiver.service.jobs import job_name
from archiver.service.lock import lock_key
from archiver.storage.session import display_url

logger = logging.getLogger(__name__)


class RedisUnavailable(Exception):
    """``ARCHIVER_REDIS_URL`` is set but Redis does not answer."""


def enabled(settings: Any) -> bool:
    return bool(settings.get("ARCHIVER_REDIS_URL"))


def key_prefix(job: str) -> str:
    """The Redis keys of a job: ``archiver:job:<hash>:requests`` and ``...:seen``."""
    return f"archiver:job:{lock_key(job) & 0xFFFFFFFFFFFFFFFF:016x}"


class Shared:
    """What this process is in the job's shared crawl: the seeder or a joiner."""

    def __init__(self) -> None:
        self.scheduler: Any = None
        #: The seeder's run when this process joined, else None.
        self.joined: int | None = None
        self.Session: Any = None

    @classmethod
    def of(cls, crawler: Any) -> Shared:
        found = getattr(crawler, "_archiver_shared", None)
        if found is None:
            found = crawler._archiver_shared = cls()
        return found

    def decided(self, joined: int | None, Session: Any) -> None:
        """Called by the pipeline once the lock told: a seeder starts a fresh queue."""
        self.joined, self.Session = joined, Session
        if joined is None and self.scheduler is not None:
            self.scheduler.flush()


class RedisAddon:
    """Turns the shared queue on when ``ARCHIVER_REDIS_URL`` is set (an ``-s`` too)."""

    def update_settings(self, settings: Any) -> None:
        if not enabled(settings):
            return
        settings.set("SCHEDULER", "archiver.service.distributed.RedisScheduler", "addon")
        middlewares = settings.getdict("SPIDER_MIDDLEWARES")
        middlewares["archiver.service.distributed.JoinerStartMiddleware"] = 10
        settings.set("SPIDER_MIDDLEWARES", middlewares, "addon")
        extensions = settings.getdict("EXTENSIONS")
        extensions["archiver.service.distributed.StayWhileSeeding"] = 500
        settings.set("EXTENSIONS", extensions, "addon")


class RedisScheduler(Scheduler):
    """scrapy-redis's scheduler with the job's keys and a shared article filter."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedisScheduler:
        url = crawler.settings.get("ARCHIVER_REDIS_URL")
        server = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30,
                                      retry_on_timeout=True)
        try:
            server.ping()
        except redis.RedisError as exc:
            raise RedisUnavailable(
                f"Redis at {display_url(url)} does not answer ({exc}): start it, or "
                "unset ARCHIVER_REDIS_URL to crawl in this process alone"
            ) from exc
        instance = cls(server=server, persist=True, idle_before_close=0,
                       queue_cls="scrapy_redis.queue.PriorityQueue")
        instance.stats = crawler.stats
        Shared.of(crawler).scheduler = instance
        return instance

    def open(self, spider: Any) -> None:
        self.spider = spider
        prefix = key_prefix(job_name(getattr(spider, "crawl_args", {})))
        self.queue = PriorityQueue(server=self.server, spider=spider,
                                   key=f"{prefix}:requests", serializer=picklecompat)
        self.df = RFPDupeFilter(self.server, key=f"{prefix}:seen")

    def enqueue_request(self, request: Any) -> bool:
        # The spider filters article URLs in its own process; across processes the
        # filter is here. Retries and redirect hops of a request already taken pass.
        meta = request.meta
        if (meta.get("archiver_kind") == "article" and not meta.get("retry_times")
                and not meta.get("redirect_urls") and self.df.request_seen(request)):
            self.stats.inc_value("archiver/skipped/duplicate_url_shared")
            return False
        return super().enqueue_request(request)


class JoinerStartMiddleware:
    """A joiner seeds nothing: its start requests (the listings) are the seeder's job."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> JoinerStartMiddleware:
        return cls(crawler)

    async def process_start(self, start: Any) -> Any:
        shared = Shared.of(self.crawler)
        if shared.joined is not None:
            logger.info("Joined the shared queue of this job, seeded by crawl run %s",
                        shared.joined)
            return
        async for item_or_request in start:
            yield item_or_request


class StayWhileSeeding:
    """A joiner with an empty queue stays while the seeder's run is still running."""

    def __init__(self, crawler: Any) -> None:
        if not enabled(crawler.settings):
            raise NotConfigured
        self.crawler = crawler
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Any) -> StayWhileSeeding:
        return cls(crawler)

    def spider_idle(self, spider: Any) -> None:
        shared = Shared.of(self.crawler)
        if shared.joined is None or shared.Session is None:
            return
        from archiver.storage import models

        with shared.Session() as session:
            status = session.get(models.CrawlRun, shared.joined).status
        if status == "running":
            raise DontCloseSpider
