"""Scrapy settings for archiver, and the one module that reads the environment.

Every ``ARCHIVER_*`` variable is read here and nowhere else. Scrapy components get the
values through ``crawler.settings``; the CLI and Alembic's ``env.py`` import this module.
Anything here can be overridden per run with ``scrapy crawl ... -s NAME=VALUE``.
"""

import os


def _env_number(name: str, default: int) -> int | str:
    """An integer from the environment; a value that is not one is kept as written, so
    that ``archiver.crawl.preflight.check_settings`` reports it in one line instead of
    this import failing with a traceback (for every command, even ``archiver db current``).
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        return raw


BOT_NAME = "archiver"
SPIDER_MODULES = ["archiver.spiders"]
NEWSPIDER_MODULE = "archiver.spiders"
#: ``scrapy crawl`` checks arguments, settings and the database before it starts, and
#: reports a mistake in one line (archiver/crawl/commands/crawl.py).
COMMANDS_MODULE = "archiver.crawl.commands"

# --- archiver -------------------------------------------------------------------------

#: SQLAlchemy URL of the archive. The default is an SQLite file in the working directory,
#: so a newcomer needs no server; production uses postgresql+psycopg://user@host/db.
ARCHIVER_DATABASE_URL = os.environ.get("ARCHIVER_DATABASE_URL", "sqlite:///archive.db")

#: The sources file that ``-a source=NAME`` reads publishers from.
ARCHIVER_SOURCES = os.environ.get("ARCHIVER_SOURCES", "sources.toml")

#: Worker processes that run extraction off the reactor thread (default: one per core).
ARCHIVER_EXTRACT_WORKERS = _env_number("ARCHIVER_EXTRACT_WORKERS", os.cpu_count() or 1)

#: The function that reads pages, ``module:function`` with the signature of the built-in
#: ``archiver.extract:extract`` (a ``[[source]]`` may name its own with ``extractor =``).
ARCHIVER_EXTRACTOR = os.environ.get("ARCHIVER_EXTRACTOR") or "archiver.extract:extract"

#: Days to keep the raw body of a possible article judged ``not_article`` (so that
#: ``archiver reextract`` can recover it with a better extractor); 0 keeps none.
ARCHIVER_KEEP_NOT_ARTICLE_DAYS = _env_number("ARCHIVER_KEEP_NOT_ARTICLE_DAYS", 90)

#: Seconds to wait for a PostgreSQL server to accept and answer a connection (and for the
#: schema check's first query) before saying it cannot be reached.
ARCHIVER_DB_CONNECT_TIMEOUT = _env_number("ARCHIVER_DB_CONNECT_TIMEOUT", 10)

#: Where fetched pages go when the database stays unreachable; ``archiver replay`` loads them.
ARCHIVER_SPOOL_DIR = os.environ.get("ARCHIVER_SPOOL_DIR", "spool")

#: Networks (CIDR, comma-separated) the crawl may connect to although the network policy
#: refuses them by default (loopback, private, link-local, CGNAT, ...): an intranet
#: deployment's own publishers. See archiver/crawl/netpolicy.py.
ARCHIVER_ALLOWED_NETWORKS = os.environ.get("ARCHIVER_ALLOWED_NETWORKS", "")

#: How often ``archiver schedule`` runs the revisit crawl (``-a revisit=due``): an
#: interval such as ``5m``; ``off`` schedules none. Sources get theirs in sources.toml.
ARCHIVER_REVISIT_EVERY = os.environ.get("ARCHIVER_REVISIT_EVERY", "5m")

#: The revisit policy's bounds (archiver/revisit.py), durations such as ``15m``, ``2h``,
#: ``14d``: the shortest and longest wait between two fetches of an article, and how long
#: an article is followed once quiet. Empty: the policy's defaults (7.5m, 14d, 60d). A
#: ``[[source]]`` may set its own (``revisit_min_interval = "10m"`` ...); its value wins
#: for its articles. The policy's other arguments are settings too (``-s
#: ARCHIVER_REVISIT_HOT_FOR=2h``, ``..._GROWTH=0.6``, see the README).
ARCHIVER_REVISIT_MIN_INTERVAL = os.environ.get("ARCHIVER_REVISIT_MIN_INTERVAL", "")
ARCHIVER_REVISIT_MAX_INTERVAL = os.environ.get("ARCHIVER_REVISIT_MAX_INTERVAL", "")
ARCHIVER_REVISIT_FOLLOW_FOR = os.environ.get("ARCHIVER_REVISIT_FOLLOW_FOR", "")
#: Learn each site's working hours from its fetch log, and run the revisit policy on the
#: site's clock (archiver/storage/schedule.py): ``on`` (default) or ``off``.
ARCHIVER_REVISIT_LEARN_HOURS = os.environ.get("ARCHIVER_REVISIT_LEARN_HOURS", "")
#: Articles a revisit crawl claims per database round trip, as it needs more requests.
ARCHIVER_REVISIT_BATCH = 500

#: Redis shared by every process of a job (``redis://host:6379/0``): one request queue
#: and duplicate filter per job, so the same crawl started on several machines splits
#: the work (archiver/service/distributed.py). Unset: each crawl runs in one process.
ARCHIVER_REDIS_URL = os.environ.get("ARCHIVER_REDIS_URL", "")
#: Turns the shared queue on when ARCHIVER_REDIS_URL (or -s ARCHIVER_REDIS_URL=) is set.
ADDONS = {"archiver.service.distributed.RedisAddon": 0}

#: Where ``archiver schedule`` appends each job's crawl output (``<job>.log``).
ARCHIVER_LOG_DIR = os.environ.get("ARCHIVER_LOG_DIR", "logs")

#: Contact URL put in the user agent, so publishers can reach whoever runs the crawl.
ARCHIVER_CONTACT_URL = os.environ.get(
    "ARCHIVER_CONTACT_URL", "https://github.com/archiver-project/archiver"
)

# --- politeness (each overridable with -s) ---------------------------------------------

USER_AGENT = os.environ.get(
    "ARCHIVER_USER_AGENT", f"archiver/0.1 (+{ARCHIVER_CONTACT_URL})"
)
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
#: Verify TLS certificates against the system trust store (Scrapy does not by default).
DOWNLOAD_VERIFY_CERTIFICATES = True
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
TELNETCONSOLE_ENABLED = False
#: Scrapy 2.19's remote-control HTTP server runs code sent to it, like the telnet console.
REMOTE_CONTROL_ENABLED = False
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("ARCHIVER_LOG_LEVEL", "INFO")

# --- crawling (each overridable with -s) -----------------------------------------------

#: Seconds between the crawl's progress lines (pages fetched, archive outcomes so far,
#: queue, rate); 0: none. The closing summary line is always written.
ARCHIVER_PROGRESS_INTERVAL = 30.0

#: Seconds between a crawl's heartbeats in its crawl-run row; a run whose heartbeat is
#: four intervals old and whose job lock is free is ``abandoned`` (archiver/service/runs.py).
ARCHIVER_HEARTBEAT_INTERVAL = 30.0

#: Database writes that fail with a transient error are retried this many times, waiting
#: ARCHIVER_DB_RETRY_BACKOFF seconds and doubling; then the crawl spools and stops.
ARCHIVER_DB_RETRY_TIMES = 5
ARCHIVER_DB_RETRY_BACKOFF = 1.0
#: Free space (MB) the crawl keeps on the disks of the SQLite file and of the spool
#: directory, checked before it starts and for every page. Below it the crawl
#: stops fetching (exit 74, run status ``disk_space_low``); the reserve holds the pages in
#: hand and the crawl-run row. 0 turns the check off.
ARCHIVER_MIN_FREE_MB = 100.0
#: Pages in hand at most: being downloaded, or fetched and not yet written to the archive
#: or the spool. A crawl killed with kill -9 loses at most these (the next crawl fetches
#: them again). Downloads wait while the pipeline is this far behind; 0: no bound.
ARCHIVER_MAX_PAGES_IN_HAND = 16
#: Threads writing to the database (0: one for SQLite, four for PostgreSQL).
ARCHIVER_WRITER_THREADS = 0
#: Send If-None-Match / If-Modified-Since stored by the last fetch of each article URL.
ARCHIVER_CONDITIONAL_REQUESTS = True
#: Wait before an HTTP retry: Retry-After if the server sent one (giving up on the URL
#: when it asks for more than ARCHIVER_RETRY_AFTER_MAX), else BACKOFF * 2**attempt.
ARCHIVER_RETRY_BACKOFF = 1.0
ARCHIVER_RETRY_BACKOFF_MAX = 60.0
ARCHIVER_RETRY_AFTER_MAX = 300.0

# --- limits a hostile publisher could push (each refusal or cut is a recorded outcome) --

#: URLs longer than this are refused (skipped with the reason), never fetched or stored.
ARCHIVER_MAX_URL_LENGTH = 2048
#: Entries read from one sitemap or feed (the sitemap protocol allows 50,000).
ARCHIVER_MAX_LISTING_ENTRIES = 50_000
#: Sitemap indexes nested deeper than this are not followed.
ARCHIVER_MAX_SITEMAP_DEPTH = 3
#: Links taken from one start page (articles and pages followed together).
ARCHIVER_MAX_LINKS_PER_PAGE = 1000
REDIRECT_MAX_TIMES = 10
#: Off: the network policy refuses long URLs with a fetch row, where Scrapy's
#: UrlLengthMiddleware would drop them with a log line.
URLLENGTH_LIMIT = 0
#: Resolves names for connections and refuses private answers (archiver/crawl/netpolicy.py).
TWISTED_DNS_RESOLVER = "archiver.crawl.netpolicy.PolicyResolver"

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "archiver.crawl.middlewares.BackoffRetryMiddleware": 550,
    # After robots.txt (whose requests it checks too), before the retries see its
    # refusals and before any validator lookup; every redirect hop passes it again.
    "archiver.crawl.netpolicy.NetworkPolicyMiddleware": 570,
    "archiver.crawl.middlewares.ConditionalRequestMiddleware": 580,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "archiver.crawl.middlewares.HeadMetaRefreshMiddleware": 580,
    "archiver.crawl.middlewares.DeferredDecompressionMiddleware": 590,
    # Last before the download: holds requests back while too many pages are in hand.
    "archiver.crawl.backpressure.PagesInHandMiddleware": 990,
}
#: Items are processed concurrently across responses anyway; a callback yields one Fetch,
#: and Scrapy starts CONCURRENT_ITEMS tasks per response (100 by default).
CONCURRENT_ITEMS = 16
#: A progress line every ARCHIVER_PROGRESS_INTERVAL seconds (archiver/crawl/progress.py).
EXTENSIONS = {
    "archiver.crawl.progress.Progress": 500,
}
ITEM_PIPELINES = {
    "archiver.crawl.pipelines.ArchivePipeline": 300,
}
