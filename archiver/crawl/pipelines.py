"""The archive pipeline: every Fetch is extracted off the reactor and archived.

Thin by design: it decides what needs extraction, reads the page in a process pool with
the configured extractor (``ARCHIVER_EXTRACTOR`` or the page's source's, see
:mod:`archiver.crawl.extractors`), and hands fetch and article to
:func:`archiver.storage.archive.archive` on writer threads. When the article's current
version was read by another extractor version, ``archive`` asks for a re-reading of that
version's raw capture (:class:`~archiver.storage.archive.RereadNeeded`): the capture is
read again in the pool and the fetch archived again, compared like with like, so an
extractor upgrade makes no version. The body of a possible article judged ``not_article``
is kept for ``archiver reextract``. The reactor thread only moves bytes. If the database
stays unreachable, fetched pages go to a spool file and the crawl stops with a non-zero
exit. Nothing is dropped silently: a page the spool cannot take either (a full disk) is
counted as not kept and the crawl stops fetching (exit 74), as it does when free space
falls under ``ARCHIVER_MIN_FREE_MB``. Downloads wait while ``ARCHIVER_MAX_PAGES_IN_HAND``
pages are in hand (:mod:`archiver.crawl.backpressure`).
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import logging
import os
import signal
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import DBAPIError

from archiver.crawl.backpressure import NOT_FETCHED, PagesInHand
from archiver.crawl.diskspace import SpaceGuard, is_disk_full, sqlite_file
from archiver.crawl.extractors import Reader, Readers
from archiver.crawl.revisits import revisit_config
from archiver.crawl.spool import SpoolWriter, run_identity
from archiver.crawl.workers import (
    BodyTooLarge,
    PageResult,
    decode_body,
    default_workers,
    make_pool,
    process_page,
    reread_capture,
    sniff,
)
from archiver.extract import Article
from archiver.items import Fetch
from archiver.service.runs import (
    EXIT_ALREADY_RUNNING,
    EXIT_INTERRUPTED,
    CrawlJob,
    JobAlreadyRunning,
    finish_interrupted,
)
from archiver.spiders.news import ENCODING_KEY, OUTCOME_KEY, REASON_KEY
from archiver.storage.archive import (
    ArchiveResult,
    Outcome,
    Reread,
    RereadNeeded,
    archive,
    finish_crawl_run,
)
from archiver.storage.errors import is_transient
from archiver.storage.raw import load_capture, prune_kept_bodies
from archiver.storage.session import (
    check_database,
    display_url,
    make_engine,
    make_sessionmaker,
)
from archiver.urls import MAX_URL_LENGTH

logger = logging.getLogger(__name__)

#: Exit status of a crawl that stopped because the database stayed unreachable
#: (EX_TEMPFAIL: try again later, after `archiver replay`).
EXIT_DATABASE_UNAVAILABLE = 75
#: Exit status of a crawl that stopped because it could not keep pages (EX_IOERR): free
#: space under ARCHIVER_MIN_FREE_MB, or neither the database nor the spool could take them.
EXIT_CANNOT_KEEP = 74
#: Exit status of a crawl that finished but could fetch nothing (every fetch an error),
#: run status ``failed``: a scheduler must tell it from a good crawl.
EXIT_NOTHING_FETCHED = 3

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml", "text/plain")

#: Counts kept for the crawl-run row and the closing log line, from Outcome values.
_COUNT_NAMES = {
    Outcome.NEW_ARTICLE: "new_articles",
    Outcome.NEW_VERSION: "new_versions",
    Outcome.UNCHANGED: "unchanged",
    Outcome.NOT_MODIFIED: "not_modified",
    Outcome.NOT_ARTICLE: "not_articles",
    Outcome.GONE: "gone",
    Outcome.SKIPPED: "skipped",
    Outcome.ERROR: "errors",
}


def triage(fetch: Fetch) -> tuple[Outcome | None, str | None, bool]:
    """What can be decided about a fetch before extraction.

    Returns:
        ``(outcome, reason, extract)``: an outcome the pipeline decides itself (None
        lets :func:`archive` decide), its reason, and whether the body needs extraction.
    """
    meta_outcome = fetch.meta.get(OUTCOME_KEY)
    if meta_outcome:  # a listing (sitemap, feed, ...): the spider said what it was
        return Outcome(meta_outcome), fetch.meta.get(REASON_KEY), False
    if fetch.error:
        return Outcome.ERROR, fetch.error, False
    status = fetch.status or 0
    if status == 304 or status >= 400:
        return None, None, False  # not_modified, gone or error: the archive's rule decides
    if not 200 <= status < 300:
        return Outcome.ERROR, f"unexpected HTTP status {status}", False
    content_type = (fetch.content_type or "").split(";")[0].strip().lower()
    if content_type and not content_type.startswith(_HTML_TYPES):
        return Outcome.SKIPPED, f"not a web page: {content_type}", False
    if not fetch.meta.get(ENCODING_KEY):  # a compressed body is sniffed in the worker
        verdict = sniff(fetch.body or b"")
        if verdict:
            return Outcome.SKIPPED, f"{verdict} (HTTP {status})", False
    return None, None, True


class ArchivePipeline:
    """Extract in worker processes, archive on writer threads, spool if the DB is gone."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url: str = settings.get("ARCHIVER_DATABASE_URL")
        self.workers = settings.getint("ARCHIVER_EXTRACT_WORKERS") or default_workers()
        self.writer_threads = settings.getint("ARCHIVER_WRITER_THREADS")
        self.retry_times = settings.getint("ARCHIVER_DB_RETRY_TIMES", 5)
        self.retry_backoff = settings.getfloat("ARCHIVER_DB_RETRY_BACKOFF", 1.0)
        self.spool_dir = Path(settings.get("ARCHIVER_SPOOL_DIR") or "spool")
        self.max_size = settings.getint("DOWNLOAD_MAXSIZE")
        # Checked here, before anything is fetched: one line naming the bad path.
        self.readers = Readers.from_settings(
            settings.get("ARCHIVER_EXTRACTOR"), settings.get("ARCHIVER_SOURCES")
        )
        self.readers.validate()
        self.keep_days = settings.getint("ARCHIVER_KEEP_NOT_ARTICLE_DAYS", 90)
        #: When to fetch each article again (archiver/revisit.py), from ARCHIVER_REVISIT_*
        #: and the sources' revisit_* keys (archiver/crawl/revisits.py).
        self.revisit = revisit_config(settings)
        self.counts: dict[str, int] = {"fetched": 0, **{n: 0 for n in _COUNT_NAMES.values()}}
        self.counts.update(duplicates=0, spooled=0, not_kept=0)
        self.min_free = int(settings.getfloat("ARCHIVER_MIN_FREE_MB", 64) * 2**20)
        #: Why the crawl stopped keeping pages, and the run status saying so.
        self._stopped: tuple[str, str] | None = None
        self._closing = False
        #: Wakes writers waiting to retry: the database is given up, or the crawl is ending.
        self._wake = threading.Event()
        #: Pages in this pipeline, for the downloads' backpressure (archiver/crawl/backpressure.py).
        self.in_hand = PagesInHand.of(crawler)
        self.run_id: int | None = None
        #: The job's lock, run row and heartbeat (archiver/service/runs.py).
        self.heartbeat = settings.getfloat("ARCHIVER_HEARTBEAT_INTERVAL", 30.0)
        #: Why this crawl was skipped (its job was running elsewhere), else None.
        self._skipped: str | None = None
        #: Fetches in the pipeline, spooled if the reactor stops before they are written.
        self._in_hand: dict[int, Fetch] = {}
        self._ended = False
        self.started = time.monotonic()
        self._db_down = threading.Event()
        self._summary: str | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        return cls(crawler)

    # --- lifecycle ------------------------------------------------------------------------

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.engine = make_engine(self.database_url)
        check_database(self.engine)  # a clear StorageError before anything is fetched
        self.Session = make_sessionmaker(self.engine)
        args = getattr(spider, "crawl_args", {})
        # One crawl of a job at a time: its lock is taken before anything is fetched.
        # With a shared queue in Redis, a second process of the job joins it instead.
        shared = None
        if self.crawler.settings.get("ARCHIVER_REDIS_URL"):
            from archiver.service.distributed import Shared

            shared = Shared.of(self.crawler)
        self.job = CrawlJob(self.database_url, self.Session, spider.name, args, self.heartbeat,
                            join=shared.can_join if shared is not None else None)
        try:
            self.run_id = self.job.start()
        except JobAlreadyRunning as busy:
            self.run_id, self._skipped = busy.run_id, str(busy)
            self.engine.dispose()
            raise CloseSpider("skipped") from None
        if shared is not None:
            try:
                shared.decided(self.run_id, self.job.joined)
            except Exception as exc:  # Redis gone since the preflight: one line, exit 2
                self._finish_run_now(getattr(exc, "run_status", "failed"))
                raise
            if self.job.joined is not None:
                self.counts["joined"] = self.job.joined  # kept in the run's stats
        # The workers boot (importing extraction) while the first listings download, not
        # when the first page arrives.
        self.pool = make_pool(self.workers)
        for _ in range(self.workers):
            self.pool.submit(os.getpid)
        try:
            with self.Session() as session:
                run = run_identity(session, self.run_id)  # so a replay can tell it apart
        except BaseException:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.job.release()
            raise
        writers = self.writer_threads or (
            1 if self.engine.dialect.name == "sqlite" else 4  # SQLite has one writer anyway
        )
        self.writer = ThreadPoolExecutor(writers, thread_name_prefix="archiver-writer")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.spool = SpoolWriter(
            self.spool_dir / f"{spider.name}-run{self.run_id}-{stamp}-{os.getpid()}.jsonl",
            run=run,
        )
        watched = {"the spool": self.spool_dir}
        db_file = sqlite_file(self.database_url)
        if db_file is not None:
            watched["the archive"] = db_file
        self.space = SpaceGuard(watched, self.min_free)
        self._chain_shutdown_signals()
        from twisted.internet import reactor

        reactor.addSystemEventTrigger("before", "shutdown", self._unclean_shutdown)
        low = self.space.low()
        if low:
            self._stop_keeping(low, "disk_space_low")
        logger.info(
            "Crawl run %s: archiving into %s, %d extraction workers, %d writer threads",
            self.run_id, display_url(self.engine.url),
            self.workers, writers,
        )

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Fetch):
            return item
        if item.status is None and NOT_FETCHED in (item.error or ""):
            self.stats.inc_value("archiver/not_fetched")  # held back at the stop: no page
            return dataclasses.replace(item, body=None)
        self.in_hand.in_pipeline += 1
        self._in_hand[id(item)] = item
        try:
            return await self._process_fetch(item)
        finally:
            self.in_hand.in_pipeline -= 1
            self._in_hand.pop(id(item), None)

    async def _process_fetch(self, fetch: Fetch) -> Fetch:
        self.counts["fetched"] += 1
        self.stats.inc_value("archiver/fetched")
        low = self.space.low()
        if low:  # stop fetching; the pages in hand are kept in the reserve
            self._stop_keeping(low, "disk_space_low")
        outcome, reason, needs_extraction = triage(fetch)
        article: Article | None = None
        reader = self.readers.for_page(fetch.final_url or fetch.url, fetch.meta.get("source"))
        keep_body = False
        if needs_extraction:
            fetch, article, outcome, reason = await self._extract(fetch, reader)
            # A possible article judged not_article: kept for a better extractor.
            keep_body = article is None and outcome is None and self.keep_days > 0
        elif fetch.meta.get(ENCODING_KEY):
            fetch = await asyncio.to_thread(self._decoded, fetch)  # not worth a worker
        await self._archive(fetch, article, outcome, reason, keep_body, reader)
        # Downstream (feed exports, debug logging of scraped items) needs no body.
        return dataclasses.replace(fetch, body=None)

    def _decoded(self, fetch: Fetch, result: PageResult | None = None) -> Fetch:
        """The fetch as Scrapy would have made it: body inflated, no Content-Encoding."""
        meta = {k: v for k, v in fetch.meta.items() if k != ENCODING_KEY}
        if result is None:
            try:
                body = decode_body(fetch.body or b"", fetch.meta[ENCODING_KEY], self.max_size)
            except (BodyTooLarge, zlib.error):
                return dataclasses.replace(fetch, meta=meta)  # kept as received
        else:
            body = result.body
        headers = {k: v for k, v in fetch.headers.items() if k != "content-encoding"}
        return dataclasses.replace(fetch, body=body, headers=headers, meta=meta)

    async def _extract(
        self, fetch: Fetch, reader: Reader
    ) -> tuple[Fetch, Article | None, Outcome | None, str | None]:
        assert fetch.body is not None
        url = fetch.final_url or fetch.url
        pool = self.pool
        try:
            future = pool.submit(
                process_page, fetch.body, fetch.meta.get(ENCODING_KEY), url,
                fetch.content_type, self.max_size, reader,
            )
            result: PageResult = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # A worker died (a crash in a C extension on a hostile page): record the page,
            # start a new pool (once, however many pages were in flight), go on.
            logger.error("An extraction worker died while %s was in flight", url)
            if self.pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self.pool = make_pool(self.workers)
            return fetch, None, Outcome.ERROR, "extraction worker crashed"
        except Exception as exc:
            logger.exception("Extraction failed on %s", url)
            return fetch, None, Outcome.ERROR, f"extraction failed: {type(exc).__name__}: {exc}"
        if result.body is not None:
            fetch = self._decoded(fetch, result)
        elif fetch.meta.get(ENCODING_KEY):
            # Not decodable or too large: keep what came, and say why.
            fetch = dataclasses.replace(
                fetch, meta={k: v for k, v in fetch.meta.items() if k != ENCODING_KEY}
            )
        if result.outcome:
            return fetch, None, Outcome(result.outcome), result.reason
        if result.article is None:
            return fetch, None, None, result.reason or "no article text found"
        return fetch, result.article, None, None

    async def _reread(self, needed: RereadNeeded, reader: Reader) -> Reread:
        """The running extractor's reading of the current version's raw capture, made in
        an extraction worker (never on the reactor or a writer thread)."""
        blob, charset = await asyncio.wrap_future(
            self.writer.submit(self._load_capture, needed.raw_capture_id)
        )
        try:
            result: PageResult = await asyncio.wrap_future(
                self.pool.submit(reread_capture, blob, charset, needed.url, reader)
            )
        except Exception as exc:  # a broken pool: compared with the stored reading instead
            result = PageResult(None, None, "error", f"re-reading failed: {exc}")
        return Reread(needed.version, needed.raw_capture_id, result.article, result.reason)

    def _load_capture(self, raw_capture_id: int) -> tuple[bytes, str | None]:
        with self.Session() as session:
            return load_capture(session, raw_capture_id)

    async def _archive(
        self,
        fetch: Fetch,
        article: Article | None,
        outcome: Outcome | None,
        reason: str | None,
        keep_body: bool = False,
        reader: Reader | None = None,
    ) -> None:
        if self._db_down.is_set():
            await self._spool(fetch, article, outcome, reason)
            return
        try:
            reread: Reread | None = None
            for attempt in range(3):
                # Re-read at most twice (the current version may change under us once);
                # then compare with the stored reading, and flag the version so made.
                result = await asyncio.wrap_future(self.writer.submit(
                    self._write, fetch, article, outcome, reason, keep_body, reread, attempt < 2,
                ))
                if not isinstance(result, RereadNeeded):
                    break
                self.stats.inc_value("archiver/reread")
                reread = await self._reread(result, reader or self.readers.default)
        except Exception as exc:
            if isinstance(exc, DBAPIError) and not is_transient(exc):
                result = await self._refused_row(fetch, exc)
                if result is not None:
                    return
            # Nothing fetched is lost: the page goes to the spool whatever went wrong.
            await self._spool(fetch, article, outcome, reason)
            if is_transient(exc) or is_disk_full(exc):
                self._database_gone(exc)
                return
            raise
        if result.duplicate:
            self.counts["duplicates"] += 1
            self.stats.inc_value("archiver/fetch/duplicate")
            return
        self.counts[_COUNT_NAMES[result.outcome]] += 1
        self.stats.inc_value(f"archiver/fetch/{result.outcome.value}")
        if result.outcome in (Outcome.ERROR, Outcome.GONE):
            logger.info("%s: %s (%s)", result.outcome.value, fetch.url, result.reason)

    async def _refused_row(self, fetch: Fetch, exc: DBAPIError) -> ArchiveResult | None:
        """Record as an ``error`` a fetch the database refused (a value it cannot take):
        the fetch alone, its URL cut to the length a request may have. The crawl goes on;
        None if even that cannot be written."""
        first = str(exc.orig or exc).strip().splitlines()
        why = f"the database refused this fetch: {first[0] if first else type(exc).__name__}"
        logger.error("%s: %s", fetch.url[:300], why)
        bare = dataclasses.replace(
            fetch, url=fetch.url[:MAX_URL_LENGTH], final_url=fetch.final_url or fetch.url,
            body=None, meta={k: v for k, v in fetch.meta.items() if k != ENCODING_KEY},
        )
        try:
            result = await asyncio.wrap_future(
                self.writer.submit(self._write, bare, None, Outcome.ERROR, why)
            )
        except DBAPIError:
            return None
        self.counts["errors"] += 1
        self.stats.inc_value("archiver/fetch/error")
        return result  # type: ignore[return-value]

    def _write(
        self,
        fetch: Fetch,
        article: Article | None,
        outcome: Outcome | None,
        reason: str | None,
        keep_body: bool = False,
        reread: Reread | None = None,
        can_reread: bool = False,
    ) -> ArchiveResult | RereadNeeded:
        """Archive one fetch on a writer thread, retrying transient errors with backoff.

        Returns the :class:`RereadNeeded` when the current version must be re-read first.
        """
        delay = self.retry_backoff
        for attempt in range(self.retry_times + 1):
            try:
                with self.Session() as session:
                    return archive(
                        session, fetch, article,
                        crawl_run_id=self.run_id, outcome=outcome, reason=reason,
                        keep_body=keep_body, reread=reread, can_reread=can_reread,
                        revisit=self.revisit,
                    )
            except RereadNeeded as needed:
                return needed
            except DBAPIError as exc:
                if (not is_transient(exc) or is_disk_full(exc) or self._wake.is_set()
                        or attempt == self.retry_times):
                    raise
                logger.warning(
                    "Database write failed (attempt %d of %d), retrying in %.1fs: %s",
                    attempt + 1, self.retry_times + 1, delay, str(exc.orig).strip().splitlines()[0]
                    if exc.orig else exc,
                )
                self._wake.wait(delay)  # wakes early if another writer gave up, or at shutdown
                delay *= 2
        raise AssertionError("unreachable")

    async def _spool(
        self, fetch: Fetch, article: Article | None, outcome: Outcome | None, reason: str | None
    ) -> None:
        # On a thread of its own: the writer threads may be stuck retrying.
        try:
            await asyncio.to_thread(
                self.spool.write, fetch, article,
                outcome=outcome.value if outcome else None, reason=reason,
                crawl_run_id=self.run_id,
            )
        except OSError as exc:
            # Neither the database nor the spool can take it: counted, reported, and
            # there is no point in fetching more.
            self.counts["not_kept"] += 1
            self.stats.inc_value("archiver/not_kept")
            logger.error("Not kept: %s (spool %s: %s)", fetch.url, self.spool.path, exc)
            self._stop_keeping(f"neither the database nor the spool could take pages "
                               f"(spool: {exc.strerror or exc})", "pages_not_kept")
            return
        self.counts["spooled"] += 1
        self.stats.inc_value("archiver/spooled")

    def _database_gone(self, exc: BaseException) -> None:
        if self._db_down.is_set():
            return
        self._db_down.set()
        self._wake.set()
        why = ("could not take pages: its disk is full" if is_disk_full(exc)
               else "stopped answering: the crawl is ending" if self._stopped or self._closing
               else f"stayed unreachable after {self.retry_times + 1} attempts")
        logger.error(
            "The database %s (%s); stopping the crawl. "
            "Fetched pages are spooled to %s: load them later with `archiver replay %s`",
            why, exc, self.spool.path, self.spool.path,
        )
        self._close("database_unavailable")

    def _stop_keeping(self, why: str, status: str) -> None:
        """Stop fetching: pages cannot be kept (``pages_not_kept``) or soon will not be
        (``disk_space_low``). The run row and the exit status say so."""
        if self._stopped is None or (status == "pages_not_kept" != self._stopped[1]):
            self._stopped = (why, status)
            logger.error("Stopping the crawl: %s", why)
        self._close(status)

    def _close(self, reason: str) -> None:
        self.in_hand.stopping = True
        if self._closing:
            return
        self._closing = True
        # Not awaited: closing waits for in-flight items, this one among them.
        from twisted.internet import reactor

        reactor.callLater(0, lambda: deferred_from_coro(
            self.crawler.engine.close_spider_async(reason=reason)))

    def _chain_shutdown_signals(self) -> None:
        """SIGTERM / Ctrl-C: writers stop waiting to retry (what they hold is spooled), so
        the crawl ends within seconds; then Scrapy's own handler closes it."""

        def chain(previous: Any) -> Any:
            def handler(signum: int, frame: Any) -> None:
                self._closing = self.in_hand.stopping = True
                self._wake.set()
                if callable(previous):
                    previous(signum, frame)
            return handler

        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                signal.signal(sig, chain(signal.getsignal(sig)))
            except ValueError:  # not the main thread (an embedding application)
                return

    async def spider_closed(self, spider: Any, reason: str) -> None:
        if self._skipped is not None:
            self._ended = True  # the engine never started: this is the last line
            logger.warning("Crawl run %s skipped: %s", self.run_id, self._skipped)
            _exit_at_shutdown(EXIT_ALREADY_RUNNING)
            return
        if not hasattr(self, "writer"):
            return  # open_spider failed: nothing to close
        self.pool.shutdown(wait=True, cancel_futures=True)
        status = "database_unavailable" if self._db_down.is_set() else reason
        if status == "shutdown":  # Scrapy's reason for Ctrl-C / SIGTERM
            status = "interrupted"
        elif status == "finished" and self.counts["fetched"] and (
                self.counts["errors"] == self.counts["fetched"]):
            status = "failed"  # every fetch an error: the site (or the network) is down
        self.counts["seconds"] = round(time.monotonic() - self.started, 1)
        # URLs met again (in several listings, links on several pages) and not fetched
        # twice, as the closing stats dump counts them (archiver/skipped/duplicate_url,
        # and Scrapy's dupefilter/filtered); ``duplicates`` are fetches already archived.
        self.counts["duplicate_urls"] = (
            self.stats.get_value("archiver/skipped/duplicate_url", 0)
            + self.stats.get_value("dupefilter/filtered", 0))
        if self._stopped is not None:
            status = self._stopped[1]
            self.counts["stopped_because"] = self._stopped[0]  # type: ignore[assignment]
        if not self._db_down.is_set() or self._stopped is not None:
            try:
                await asyncio.wrap_future(self.writer.submit(self._finish_run, status))
            except DBAPIError as exc:
                logger.error("Could not record the end of crawl run %s: %s", self.run_id, exc)
                self._db_down.set()
                if self._stopped is None:
                    status = "database_unavailable"
        self.writer.shutdown(wait=True)
        self.job.release()  # after the run's end is recorded
        self._ended = True
        self.spool.close()
        self.engine.dispose()
        c = self.counts
        self._summary = (
            f"Crawl run {self.run_id} {status}: {c['fetched']} fetched, "
            f"{c['new_articles']} new articles, {c['new_versions']} new versions, "
            f"{c['unchanged']} unchanged, {c['not_modified']} not modified, "
            f"{c['not_articles']} not articles, {c['gone']} gone, {c['skipped']} skipped, "
            f"{c['errors']} errors"
        )
        if c["duplicates"]:
            self._summary += f", {c['duplicates']} already archived"
        if self.spool.count:
            self._summary += (
                f"; {self.spool.count} fetches spooled to {self.spool.path}, "
                f"load them with `archiver replay {self.spool.path}`"
            )
        if c["not_kept"]:
            self._summary += f"; {c['not_kept']} fetched pages NOT KEPT"
        if self._stopped is not None:
            self._summary += f"; stopped: {self._stopped[0]}"
            _exit_at_shutdown(EXIT_CANNOT_KEEP)
        elif self._db_down.is_set():
            _exit_at_shutdown(EXIT_DATABASE_UNAVAILABLE)
        elif status == "redis_unavailable":  # archiver/service/distributed.py
            self._summary += "; Redis stopped answering: run the job again once it is back"
            _exit_at_shutdown(EXIT_DATABASE_UNAVAILABLE)
        elif status == "interrupted":
            _exit_at_shutdown(EXIT_INTERRUPTED)
        elif status == "failed":
            self._summary += "; every fetch failed: nothing could be fetched"
            _exit_at_shutdown(EXIT_NOTHING_FETCHED)

    def _finish_run_now(self, status: str) -> None:
        """Record the run's end when the crawl fails to start after recording it."""
        try:
            with self.Session() as session:
                finish_crawl_run(session, self.run_id, status, dict(self.counts))
        except DBAPIError as exc:
            logger.error("Could not record the end of crawl run %s: %s", self.run_id, exc)
        self.job.release()
        self.engine.dispose()

    def _finish_run(self, status: str) -> None:
        with self.Session() as session:
            finish_crawl_run(session, self.run_id, status, dict(self.counts))
            if self.keep_days > 0:
                cutoff = datetime.now(timezone.utc) - timedelta(days=self.keep_days)
                try:
                    pruned = prune_kept_bodies(session, cutoff)
                except DBAPIError as exc:  # another crawl kept the same body meanwhile
                    logger.warning("Could not prune kept not_article bodies: %s", exc)
                else:
                    if pruned:
                        logger.info("Pruned %d not_article bodies older than %d days",
                                    pruned, self.keep_days)

    def _unclean_shutdown(self) -> None:
        """The reactor stops before the spider closed (a second Ctrl-C or SIGTERM, Scrapy's
        "forcing unclean shutdown"): the pages in the pipeline go to the spool (read here,
        as the workers would), the run is recorded ``interrupted``, the extraction workers
        are stopped, and the process exits 130 at once."""
        if self._ended or not hasattr(self, "writer"):
            return
        self._ended = True
        self._wake.set()  # writers waiting to retry give up
        workers = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            process.terminate()
        for fetch in list(self._in_hand.values()):
            self._spool_now(fetch)
        self.counts["seconds"] = round(time.monotonic() - self.started, 1)
        recorder = threading.Thread(target=self._record_interrupted, daemon=True)
        recorder.start()
        recorder.join(timeout=10)  # a database that does not answer: the run is abandoned
        self.spool.close()
        message = (f"Crawl run {self.run_id} interrupted (forced shutdown): "
                   f"{self.counts['fetched']} fetched")
        if self.spool.count:
            message += (f"; {self.spool.count} fetches spooled to {self.spool.path}, "
                        f"load them with `archiver replay {self.spool.path}`")
        if self.counts["not_kept"]:
            message += f"; {self.counts['not_kept']} fetched pages NOT KEPT"
        logger.error(message)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    def _spool_now(self, fetch: Fetch) -> None:
        """Spool one page in hand, read in this process if it needed reading."""
        outcome, reason, needs_extraction = triage(fetch)
        article = None
        try:
            if needs_extraction:
                reader = self.readers.for_page(fetch.final_url or fetch.url,
                                               fetch.meta.get("source"))
                result = process_page(fetch.body or b"", fetch.meta.get(ENCODING_KEY),
                                      fetch.final_url or fetch.url, fetch.content_type,
                                      self.max_size, reader)
                if result.body is not None:
                    fetch = self._decoded(fetch, result)
                article = result.article
                if result.outcome:
                    outcome, reason = Outcome(result.outcome), result.reason
            self.spool.write(fetch, article, outcome=outcome.value if outcome else None,
                             reason=reason, crawl_run_id=self.run_id)
        except Exception as exc:  # noqa: BLE001 - counted and said: the process is ending
            self.counts["not_kept"] += 1
            logger.error("Not kept: %s (%s)", fetch.url, exc)
        else:
            self.counts["spooled"] += 1

    def _record_interrupted(self) -> None:
        try:
            finish_interrupted(self.Session, self.run_id, dict(self.counts))
        except DBAPIError as exc:
            logger.error("Could not record the end of crawl run %s: %s", self.run_id, exc)

    def engine_stopped(self) -> None:
        # After Scrapy's own "Spider closed" line, so the summary is the last line.
        if self._summary:
            failed = (self._db_down.is_set() or self._stopped is not None
                      or " failed: " in self._summary)
            (logger.error if failed else logger.info)(self._summary)


def _exit_at_shutdown(code: int) -> None:
    """Make the process exit with ``code`` once the reactor has stopped.

    ``scrapy crawl`` exits 0 whenever the spider started, however it closed; a crawl
    that could not write what it fetched must fail for the scheduler that ran it.
    """

    def _exit() -> None:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    atexit.register(_exit)
