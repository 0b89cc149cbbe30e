"""Distributed crawling on scrapy-redis: one job's request queue and duplicate filter in
Redis, shared by every process that runs the job (``ARCHIVER_REDIS_URL``, unset by
default).

The same ``scrapy crawl news ...`` started on several machines (or twice on one): the
first to take the job's lock (archiver/service/lock.py) is the **seeder**; every other
process of the job **joins** instead of being skipped (archiver/service/runs.py). Each
records its own crawl run; a joiner's ``stats.joined`` names the seeder's run.

- The seeder starts the crawl: when no live process of the job is left from an earlier
  crawl it empties the job's keys (a fresh crawl); otherwise it adopts the crawl that is
  still going (their duplicate filter stays). It then reads its start requests (the
  listings, or the revisit claims) into the shared queue, and says when that is done.
- Every process takes requests from the shared queue, and whoever parses a listing
  pushes its articles there. An article URL (normalised as the archive names it) enters
  the queue once per crawl of the job: the shared duplicate filter. So each page is
  fetched once in total. Retries and redirect hops of a request pass.
- A process ends when the queue is empty, the seeder has no more start requests, and no
  live process of the job holds a request that could still yield more (a listing being
  parsed); while any of these holds it waits, looking twice a second.

**A worker that dies loses nothing.** Taking a request moves it, atomically, from the
queue into the process's own ``processing`` hash in Redis (at most
``ARCHIVER_MAX_PAGES_IN_HAND`` at a time, what it can have in hand); it leaves that hash
only when Scrapy is done with it (downloaded, its callback run, the pages it gave
archived or spooled), or when a retry or redirect hop of it is queued in its place. Each process
writes a heartbeat key with a time to live (``STALE_INTERVALS`` x
``ARCHIVER_HEARTBEAT_INTERVAL``). When a process's heartbeat has expired, or its pid is
gone on this host, the others (whichever is idle first, and a seeder at its start) put
its processing entries back in the queue: what it held is fetched by another. A process
that stops before it fetched what it took (Ctrl-C, a stop for disk space) puts its
entries back itself. If every process of the job dies, the next crawl of the job starts
afresh and lists the pages again, as after a single crawl killed so.

**Redis unreachable** at the start is a configuration error (one line, exit 2, checked
before anything is fetched: archiver/crawl/preflight.py). Lost mid-crawl, the crawl stops
taking requests, archives the pages it holds, records its run ``redis_unavailable`` and
exits 75; the requests it had taken stay in its processing hash for the job's other
processes (if Redis kept them).

Keys, under ``archiver:job:<64-bit hash of the job>``: ``:queue`` (sorted set, by
priority), ``:seen`` (article fingerprints), ``:count`` (articles queued, for ``-a
limit``), ``:crawl`` (the seeder's run), ``:seeding`` (set while the seeder reads its
start requests), ``:workers`` (run -> host and pid), ``:alive:<run>`` (heartbeat, with a
time to live), ``:processing:<run>`` (what the run holds). One Redis database per archive:
two archives sharing one would share their jobs' queues.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest, NotConfigured
from scrapy_redis import picklecompat
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from archiver.crawl.backpressure import NOT_FETCHED, PagesInHand
from archiver.crawl.preflight import ConfigError
from archiver.service.jobs import job_name
from archiver.service.lock import lock_key
from archiver.urls import normalise_url

logger = logging.getLogger(__name__)

#: Request.meta key: the request's field in its process's processing hash (never queued).
ENTRY = "archiver_redis_entry"
#: Request.meta key: a start request of the seeder (a listing: not filtered as a duplicate).
START = "archiver_start"
#: Request.meta key: the request ended without being fetched (the crawl was stopping).
UNFINISHED = "archiver_redis_unfinished"
#: A heartbeat key lives this many heartbeat intervals.
STALE_INTERVALS = 4
#: Seconds between two looks at the shared crawl while this process waits for work.
IDLE_POLL = 0.5
#: Seconds a joiner waits for the seeder to register its crawl in Redis.
JOIN_WAIT = 10.0
#: Run status and close reason of a crawl that lost Redis.
REDIS_UNAVAILABLE = "redis_unavailable"

HOST = os.uname().nodename

# Take the queue's first request into this process's processing hash, atomically.
# KEYS: queue, processing. Returns {field, request} or nil.
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local field = redis.sha1hex(r[1])
redis.call('HSET', KEYS[2], field, r[2] .. '|' .. r[1])
return {field, r[1]}
"""
# Put every entry of a processing hash back in the queue (a dead process's, or one's own
# at a stop), and forget the process. KEYS: processing, queue, workers. ARGV: run id.
_REQUEUE = """
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local v = all[i + 1]
  local bar = string.find(v, '|', 1, true)
  redis.call('ZADD', KEYS[2], tonumber(string.sub(v, 1, bar - 1)), string.sub(v, bar + 1))
end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return #all / 2
"""


class RedisUnavailable(ConfigError):
    """``ARCHIVER_REDIS_URL`` is set but Redis does not answer (or the URL is not one)."""

    run_status = REDIS_UNAVAILABLE


def enabled(settings: Any) -> bool:
    return bool(settings.get("ARCHIVER_REDIS_URL"))


def display_redis_url(url: str) -> str:
    """The URL with its password hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def connect(url: str, timeout: float = 5.0) -> redis.Redis:
    """A client for ``url``, checked with a PING.

    Raises:
        RedisUnavailable: a URL that is not a Redis URL, or a server that does not answer.
    """
    shown = display_redis_url(url)
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise RedisUnavailable(
            f"ARCHIVER_REDIS_URL must be redis://HOST:PORT/DB (or rediss://, unix://), "
            f"not {shown!r}")
    try:
        server = redis.Redis.from_url(url, socket_connect_timeout=timeout,
                                      socket_timeout=timeout, health_check_interval=30)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise RedisUnavailable(
            f"Redis at {shown} (ARCHIVER_REDIS_URL) does not answer: {_why(exc)}; start "
            "it, or unset ARCHIVER_REDIS_URL to crawl in this process alone"
        ) from None
    return server


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def key_prefix(job: str) -> str:
    """The prefix of a job's Redis keys."""
    return f"archiver:job:{lock_key(job) & 0xFFFFFFFFFFFFFFFF:016x}"


class Keys:
    """The Redis keys of one job."""

    def __init__(self, job: str) -> None:
        p = key_prefix(job)
        self.queue, self.seen, self.count = f"{p}:queue", f"{p}:seen", f"{p}:count"
        self.crawl, self.seeding, self.workers = f"{p}:crawl", f"{p}:seeding", f"{p}:workers"
        self._p = p

    def alive(self, run: int | str) -> str:
        return f"{self._p}:alive:{run}"

    def processing(self, run: int | str) -> str:
        return f"{self._p}:processing:{run}"


class Shared:
    """This process's part in its job's shared crawl (one per crawler)."""

    def __init__(self) -> None:
        self.scheduler: RedisScheduler | None = None

    @classmethod
    def of(cls, crawler: Any) -> Shared:
        found = getattr(crawler, "_archiver_shared", None)
        if found is None:
            found = crawler._archiver_shared = cls()
        return found

    def can_join(self, seeder: int) -> bool:
        """Whether the run holding the job's lock shares its queue here (called by
        :class:`archiver.service.runs.CrawlJob` before a joiner records its run)."""
        if self.scheduler is None:
            return False
        try:
            return self.scheduler.wait_for_crawl(seeder)
        except redis.RedisError:
            return False

    def decided(self, run_id: int, joined: int | None) -> None:
        """The pipeline recorded this process's run: a seeder (``joined`` None) starts or
        adopts the job's shared crawl, a joiner registers as one of its workers.

        Raises:
            RedisUnavailable: Redis stopped answering since the preflight.
        """
        if self.scheduler is None:
            return
        try:
            self.scheduler.register(run_id, seeder=joined is None, joined=joined)
        except redis.RedisError as exc:
            raise RedisUnavailable(
                f"Redis at {display_redis_url(self.scheduler.url)} (ARCHIVER_REDIS_URL) "
                f"stopped answering as the crawl started: {_why(exc)}") from None


class RedisAddon:
    """Turns the shared queue on when ``ARCHIVER_REDIS_URL`` is set (an ``-s`` too)."""

    def update_settings(self, settings: Any) -> None:
        if not enabled(settings):
            return
        settings.set("SCHEDULER", "archiver.service.distributed.RedisScheduler", "addon")
        # Into the project's own dictionaries, whatever their priority.
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", StartMiddleware, 10)
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES",
                                                UnfinishedMiddleware, 995)
        settings.set_in_component_priority_dict("EXTENSIONS", WaitForSharedWork, 500)


class RedisScheduler(Scheduler):
    """scrapy-redis's scheduler and priority queue, with the job's keys, a shared article
    filter, and a reliable queue (see the module's docstring)."""

    def __init__(self, crawler: Any, server: redis.Redis, url: str) -> None:
        super().__init__(server=server, persist=True, idle_before_close=0,
                         queue_cls="scrapy_redis.queue.PriorityQueue",
                         serializer=picklecompat)
        self.crawler = crawler
        self.url = url
        self.stats = crawler.stats
        interval = crawler.settings.getfloat("ARCHIVER_HEARTBEAT_INTERVAL", 30.0) or 30.0
        self.interval = interval
        self.ttl = max(1, round(interval * STALE_INTERVALS))
        self.run_id: int | None = None
        self.seeder = False
        #: Whether Redis was lost: nothing more is taken or queued.
        self.lost = False
        #: Requests taken from the queue and not done, by their field in processing.
        self._mine: dict[str, Any] = {}
        self._seeding = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._pop = server.register_script(_POP)
        self._requeue = server.register_script(_REQUEUE)
        self._limit: int | None = None
        #: Requests this process holds at most: no more than it can have in hand
        #: (``ARCHIVER_MAX_PAGES_IN_HAND``), so the others get their share of a small
        #: job and a dead process leaves few behind (0: Scrapy's CONCURRENT_REQUESTS).
        self.hold = crawler.settings.getint("ARCHIVER_MAX_PAGES_IN_HAND", 16)
        #: Requests this process took and gave back unfetched (the crawl was stopping).
        self._given_back = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedisScheduler:
        url = crawler.settings.get("ARCHIVER_REDIS_URL")
        instance = cls(crawler, connect(url), url)
        Shared.of(crawler).scheduler = instance
        return instance

    # --- the crawl's shared state ---------------------------------------------------------

    def open(self, spider: Any) -> None:
        self.spider = spider
        self.keys = Keys(job_name(getattr(spider, "crawl_args", {})))
        self.queue = PriorityQueue(server=self.server, spider=spider, key=self.keys.queue,
                                   serializer=picklecompat)
        self._limit = getattr(spider, "limit", None)

    def wait_for_crawl(self, seeder: int) -> bool:
        """Whether the seeder's run registers its crawl in Redis within ``JOIN_WAIT``."""
        deadline = time.monotonic() + JOIN_WAIT
        while True:
            if self.server.get(self.keys.crawl) == str(seeder).encode():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def register(self, run_id: int, *, seeder: bool, joined: int | None = None) -> None:
        self.run_id, self.seeder = run_id, seeder
        me = f"{HOST} {os.getpid()}"
        self.server.set(self.keys.alive(run_id), me, ex=self.ttl)
        if seeder:
            live = [run for run in self._workers() if not self._dead(run)]
            if live:
                requeued = self._reap()
                logger.info("Adopting the shared crawl of this job in Redis: %d live "
                            "process(es) (runs %s), %d requests queued, %d given back",
                            len(live), ", ".join(live), self.server.zcard(self.keys.queue),
                            requeued)
            else:
                dead = [self.keys.processing(run) for run in self._workers()]
                self.server.delete(self.keys.queue, self.keys.seen, self.keys.count,
                                   self.keys.workers, *dead)
            self._seeding = True
            self.server.set(self.keys.seeding, run_id, ex=self.ttl)
            self.server.set(self.keys.crawl, run_id)
        self.server.hset(self.keys.workers, str(run_id), me)
        if seeder:
            logger.info("Crawl run %s seeds the job's shared queue in Redis at %s", run_id,
                        display_redis_url(self.url))
        else:
            logger.info("Crawl run %s joined the shared crawl of run %s (queue in Redis at "
                        "%s)", run_id, joined, display_redis_url(self.url))
        self._beat = threading.Thread(target=self._beating, name="archiver-redis-heartbeat",
                                      daemon=True)
        self._beat.start()

    def seeded(self) -> None:
        """The seeder's start requests are all in the queue."""
        if not self._seeding:
            return
        self._seeding = False
        try:
            if self.server.get(self.keys.seeding) == str(self.run_id).encode():
                self.server.delete(self.keys.seeding)
        except redis.RedisError as exc:
            self._lose(exc)

    def _beating(self) -> None:
        me = f"{HOST} {os.getpid()}"
        warned = False
        while not self._stop.wait(self.interval):
            try:
                pipe = self.server.pipeline()
                pipe.set(self.keys.alive(self.run_id), me, ex=self.ttl)
                pipe.hset(self.keys.workers, str(self.run_id), me)
                if self._seeding:
                    pipe.set(self.keys.seeding, self.run_id, ex=self.ttl)
                pipe.execute()
                warned = False
            except redis.RedisError as exc:
                if not warned:
                    logger.warning("Crawl run %s: Redis heartbeat not written: %s",
                                   self.run_id, _why(exc))
                    warned = True

    def _workers(self) -> list[str]:
        return [r.decode() for r in self.server.hkeys(self.keys.workers)
                if r.decode() != str(self.run_id)]

    def _dead(self, run: str) -> bool:
        """A process of the job is dead: its heartbeat expired, or its pid is gone here."""
        if not self.server.exists(self.keys.alive(run)):
            return True
        info = (self.server.hget(self.keys.workers, run) or b"").decode().split()
        if len(info) == 2 and info[0] == HOST and info[1].isdigit():
            from archiver.service.runs import pid_alive

            return not pid_alive(int(info[1]))
        return False

    def _reap(self) -> int:
        """Put back in the queue what dead processes of the job held; how many requests."""
        total = 0
        for run in self._workers():
            if self._dead(run):
                n = int(self._requeue(keys=[self.keys.processing(run), self.keys.queue,
                                            self.keys.workers], args=[run]))
                self.server.delete(self.keys.alive(run))
                if n:
                    logger.warning("Crawl run %s of this job is gone (no heartbeat): its %d "
                                   "requests in flight are back in the shared queue", run, n)
                    self.stats.inc_value("archiver/redis/requeued", n)
                total += n
        return total

    def should_wait(self) -> bool:
        """Whether this idle process must wait for work the job may still bring."""
        self.reconcile()
        self._reap()
        if self.server.zcard(self.keys.queue):
            return True
        if self.server.exists(self.keys.seeding):
            return True
        return any(self.server.hlen(self.keys.processing(run)) for run in self._workers())

    # --- requests -------------------------------------------------------------------------

    def __len__(self) -> int:
        if self.lost:
            return 0
        try:
            return len(self.queue)
        except redis.RedisError as exc:
            self._lose(exc)
            return 0

    def has_pending_requests(self) -> bool:
        return len(self) > 0

    def enqueue_request(self, request: Any) -> bool:
        meta = request.meta
        parent = meta.pop(ENTRY, None)  # set when a retry or redirect hop of a taken one
        start = meta.pop(START, False)
        meta.pop(UNFINISHED, None)
        if self.lost:
            return False
        continuation = parent is not None or meta.get("retry_times") or meta.get(
            "redirect_urls")
        try:
            if not continuation:
                fingerprint = self._fingerprint(request)
                listing = meta.get("archiver_kind", "article") != "article"
                added = self.server.sadd(self.keys.seen, fingerprint)
                if not added and not (start and listing):
                    # Met again in this crawl of the job, by this or another process.
                    self.stats.inc_value("dupefilter/filtered")
                    return False
                if (added and not listing and self._limit is not None
                        and self.server.incr(self.keys.count) > self._limit):
                    self.stats.inc_value("archiver/skipped/limit")
                    return False
            data = self.queue._encode_request(request)
            pipe = self.server.pipeline()
            pipe.zadd(self.keys.queue, {data: -request.priority})
            if parent is not None and self.run_id is not None:
                pipe.hdel(self.keys.processing(self.run_id), parent)  # handed over
            pipe.execute()
        except redis.RedisError as exc:
            self._lose(exc)
            return False
        if parent is not None:
            self._mine.pop(parent, None)
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    @staticmethod
    def _fingerprint(request: Any) -> str:
        key = f"{request.method} {normalise_url(request.url)}"
        return hashlib.sha1(key.encode()).hexdigest()

    def next_request(self) -> Any:
        if self.lost or self.run_id is None:
            return None
        try:
            self.reconcile()
            if self.hold > 0 and len(self._mine) >= self.hold:
                return None  # asked again as each request in hand is done
            taken = self._pop(keys=[self.keys.queue, self.keys.processing(self.run_id)])
        except redis.RedisError as exc:
            self._lose(exc)
            return None
        if not taken:
            return None
        field, data = taken[0].decode(), taken[1]
        request = self.queue._decode_request(data)
        request.meta[ENTRY] = field
        self._mine[field] = request
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def reconcile(self) -> None:
        """Take out of the processing hash the requests Scrapy is done with; put back in
        the queue those that ended unfetched because the crawl is stopping."""
        try:
            slot = getattr(self.crawler.engine, "_slot", None)
        except RuntimeError:  # no engine yet (the scheduler on its own, in a test)
            slot = None
        in_progress = slot.inprogress if slot is not None else set()
        done = [(f, r) for f, r in self._mine.items() if r not in in_progress]
        if not done or self.run_id is None:
            return
        pipe = self.server.pipeline()
        back = 0
        for field, request in done:
            if request.meta.get(UNFINISHED):
                request.meta.pop(ENTRY, None)
                request.meta.pop(UNFINISHED, None)
                pipe.zadd(self.keys.queue, {self.queue._encode_request(request):
                                            -request.priority})
                back += 1
        pipe.hdel(self.keys.processing(self.run_id), *(f for f, _ in done))
        pipe.execute()
        for field, _ in done:
            del self._mine[field]
        if back:
            self._given_back += back
            self.stats.inc_value("archiver/redis/given_back", back)

    def close(self, reason: str) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        if self.lost or self.run_id is None:
            return
        try:
            self.reconcile()
            left = int(self._requeue(keys=[self.keys.processing(self.run_id), self.keys.queue,
                                           self.keys.workers], args=[str(self.run_id)]))
            self.server.delete(self.keys.alive(self.run_id))
            self.seeded()
        except redis.RedisError as exc:
            logger.error("Crawl run %s: could not leave the shared queue in Redis (%s): "
                         "the others give its requests back when its heartbeat expires",
                         self.run_id, _why(exc))
            return
        if left:
            self.stats.inc_value("archiver/redis/given_back", left)
        if left + self._given_back:
            logger.info("Crawl run %s gave %d requests it had not fetched back to the "
                        "shared queue", self.run_id, left + self._given_back)

    def _lose(self, exc: BaseException) -> None:
        """Redis stopped answering: stop taking requests, archive what is in hand, end."""
        if self.lost:
            return
        self.lost = True
        PagesInHand.of(self.crawler).stopping = True
        logger.error(
            "Redis at %s (ARCHIVER_REDIS_URL) stopped answering (%s): this crawl stops "
            "taking requests and archives the pages it holds; the requests it had taken "
            "stay in Redis for the job's other processes", display_redis_url(self.url),
            _why(exc))
        from scrapy.utils.defer import deferred_from_coro
        from twisted.internet import reactor

        engine = self.crawler.engine
        reactor.callLater(0, lambda: deferred_from_coro(
            engine.close_spider_async(reason=REDIS_UNAVAILABLE)))


class StartMiddleware:
    """The seeder marks its start requests and says when they are all queued; a joiner
    has none (its listings are the seeder's)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> StartMiddleware:
        return cls(crawler)

    async def process_start(self, start: Any) -> Any:
        scheduler = Shared.of(self.crawler).scheduler
        if scheduler is None or not scheduler.seeder:
            return
        async for item_or_request in start:
            if isinstance(item_or_request, Request):
                item_or_request.meta[START] = True
            yield item_or_request
        scheduler.seeded()


class UnfinishedMiddleware:
    """Marks a request held back when the crawl stopped (never fetched), so that the
    scheduler puts it back in the shared queue instead of forgetting it."""

    def process_exception(self, request: Any, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest) and NOT_FETCHED in str(exception):
            request.meta[UNFINISHED] = True


class WaitForSharedWork:
    """An idle process stays while the job's shared crawl may still bring it work."""

    def __init__(self, crawler: Any) -> None:
        if not enabled(crawler.settings):
            raise NotConfigured
        self.crawler = crawler
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Any) -> WaitForSharedWork:
        return cls(crawler)

    def spider_idle(self, spider: Any) -> None:
        scheduler = Shared.of(self.crawler).scheduler
        if scheduler is None or scheduler.lost or scheduler.run_id is None:
            return
        try:
            wait = scheduler.should_wait()
        except redis.RedisError as exc:
            scheduler._lose(exc)
            raise DontCloseSpider from None  # closed with its own reason
        if PagesInHand.of(self.crawler).stopping:
            return
        if wait:
            from twisted.internet import reactor

            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None:
                reactor.callLater(IDLE_POLL, slot.nextcall.schedule)
            raise DontCloseSpider
