"""``scrapy crawl``, checked before it starts and with exit statuses a scheduler can trust.

Scrapy's own command starts the crawler process (its banner, logging, the reactor) and
then lets the spider fail inside it: a bad argument, an unknown source or a database
without the schema came out as tens of lines of tracebacks (Scrapy's, asyncio's
"Task exception was never retrieved") and exit status 1 — or 0. This one runs
:func:`archiver.crawl.preflight.check_crawl` first: a mistake is one line on stderr,
``scrapy crawl: error: ...``, and exit status 2, before anything is started
(Scrapy's own option mistakes too: ``-a`` without ``=``, an unknown option).

Statuses once the crawl ran are set by the pipeline (``archiver/crawl/pipelines.py``):
74 pages could not be kept, 75 database unavailable (pages spooled), 130 interrupted,
3 every fetch failed. See the README's exit-status table.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any, NoReturn

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import AsyncCrawlerProcess, CrawlerProcess
from scrapy.exceptions import UsageError as ScrapyUsageError
from scrapy.spiderloader import get_spider_loader

from archiver.crawl.preflight import EXIT_USAGE, ConfigError

logger = logging.getLogger(__name__)


def _user_errors() -> tuple[type[BaseException], ...]:
    """The errors whose message is all a user needs (no traceback)."""
    from archiver.crawl.extractors import ExtractorError
    from archiver.crawl.netpolicy import PolicyError
    from archiver.crawl.sources import SourcesError
    from archiver.spiders.news import UsageError
    from archiver.storage.errors import StorageError

    return (ConfigError, UsageError, SourcesError, ExtractorError, StorageError, PolicyError)


class Command(ScrapyCrawl):
    requires_crawler_process = False  # made in run(), once the preflight has passed

    def long_desc(self) -> str:
        return (
            "Run a spider of the project. The news spider: scrapy crawl news "
            "-a sitemap=URL | -a feed=URL | -a url=URL | -a site=URL | -a source=NAME | "
            "-a revisit=due|all [-a limit=N]; `archiver --help` lists the exit statuses."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)

        def error(message: str) -> NoReturn:
            # argparse's own mistakes (``-o`` without its FILE): one line, not the usage
            # block and "__main__.py: error: ..."; ``scrapy crawl -h`` still helps.
            self._fail(f"{message} (scrapy crawl -h lists the options)")
            sys.exit(EXIT_USAGE)

        parser.error = error  # type: ignore[method-assign]

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            super().process_options(args, opts)
        except ScrapyUsageError as exc:  # -a without =, a bad -o: one line too
            self._fail(f"{exc}" if str(exc) else "bad options (see scrapy crawl -h)")
            sys.exit(EXIT_USAGE)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        # Scrapy parses with parse_known_args: an option it does not know arrives here.
        unknown = [a for a in args if a.startswith("-") and a != "-"]
        if unknown:
            self._fail(f"unknown option{'s' if len(unknown) > 1 else ''} "
                       f"{', '.join(unknown)} (scrapy crawl -h lists the options; the "
                       "spider's arguments are -a NAME=VALUE)")
            return
        if len(args) != 1:
            self._fail("give one spider: scrapy crawl news -a sitemap=URL "
                       "(`archiver --help` lists the arguments)")
            return
        assert self.settings is not None
        name = args[0]
        try:
            spidercls = get_spider_loader(self.settings).load(name)
        except KeyError:
            self._fail(f"no spider named {name!r}: the project's spider is `news`")
            return
        from archiver.crawl.preflight import check_crawl

        try:
            check_crawl(self.settings, spidercls, opts.spargs)
        except _user_errors() as exc:
            self._fail(str(exc))
            return

        # A site that does not answer is an outcome, not a bug: one line, no traceback.
        logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(
            _network_errors_in_one_line)
        self.crawler_process = self._make_process()
        crawler = self._create_crawler(spidercls)
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        if isinstance(started, asyncio.Task):
            started.add_done_callback(self._crawl_done)
        else:  # a Deferred (CrawlerProcess)
            started.addErrback(lambda failure: self._crawl_failed(failure.value))
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed and not self.exitcode:
            self.exitcode = 1

    def _make_process(self) -> AsyncCrawlerProcess | CrawlerProcess:
        """The process ``scrapy.cmdline`` would have made (logging starts here)."""
        assert self.settings is not None
        settings = self.settings
        if (
            settings["TWISTED_REACTOR"] == "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
            and not settings.getbool("FORCE_CRAWLER_PROCESS")
        ) or not settings.getbool("TWISTED_REACTOR_ENABLED"):
            return AsyncCrawlerProcess(settings)
        return CrawlerProcess(settings)

    def _crawl_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()  # retrieved: asyncio does not print it again
        if exc is not None:
            self._crawl_failed(exc)

    def _crawl_failed(self, exc: BaseException) -> None:
        """A failure the preflight could not foresee (the database went away between
        the check and the start): one line for a known error, a traceback for a bug."""
        if isinstance(exc, _user_errors()):
            self._fail(str(exc))
        else:
            logger.error("The crawl failed to start", exc_info=exc)
            self.exitcode = 1

    def _fail(self, message: str) -> None:
        sys.stderr.write(f"scrapy crawl: error: {message}\n")
        sys.stderr.flush()
        self.exitcode = EXIT_USAGE


def _network_errors_in_one_line(record: logging.LogRecord) -> bool:
    """Drop the traceback of a download that failed for network reasons (the message
    already names the error): Scrapy's robots.txt middleware logs one with each."""
    from scrapy import exceptions

    network = (
        OSError, exceptions.DownloadConnectionRefusedError, exceptions.CannotResolveHostError,
        exceptions.DownloadTimeoutError, exceptions.DownloadFailedError,
        exceptions.ResponseDataLossError,
    )
    if record.exc_info and isinstance(record.exc_info[1], network):
        record.exc_info = None
        record.exc_text = None
    return True
