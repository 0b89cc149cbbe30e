"""What is checked before anything is fetched, so that a mistake is one line, not a crawl.

``scrapy crawl news`` (through :mod:`archiver.crawl.commands.crawl`) and the ``archiver``
commands call these before they start: settings values, the spider's arguments and
sources, the extractor, the database (its URL, that it answers, that it has the schema,
that a SQLite file is there and writable), and Redis when a crawl shares its queue
(``ARCHIVER_REDIS_URL``). Each failure is a :class:`ConfigError` (or the storage,
extractor or sources error it wraps) whose message is one line saying what to do; the
commands print it and exit 2.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

#: Exit status of a usage or configuration error, for both entry points (EX_USAGE is 64,
#: but argparse and ``archiver`` have always used 2).
EXIT_USAGE = 2


class ConfigError(Exception):
    """A setting, argument or file the user must fix before anything can be crawled."""


#: Settings with a numeric type: name -> (type, smallest value allowed).
NUMERIC_SETTINGS: dict[str, tuple[type, float]] = {
    "ARCHIVER_EXTRACT_WORKERS": (int, 0),
    "ARCHIVER_KEEP_NOT_ARTICLE_DAYS": (int, 0),
    "ARCHIVER_DB_CONNECT_TIMEOUT": (float, 0),
    "ARCHIVER_DB_RETRY_TIMES": (int, 0),
    "ARCHIVER_DB_RETRY_BACKOFF": (float, 0),
    "ARCHIVER_MIN_FREE_MB": (float, 0),
    "ARCHIVER_MAX_PAGES_IN_HAND": (int, 0),
    "ARCHIVER_WRITER_THREADS": (int, 0),
    "ARCHIVER_RETRY_BACKOFF": (float, 0),
    "ARCHIVER_RETRY_BACKOFF_MAX": (float, 0),
    "ARCHIVER_RETRY_AFTER_MAX": (float, 0),
    "ARCHIVER_PROGRESS_INTERVAL": (float, 0),
    "ARCHIVER_REVISIT_LEASE": (float, 0),
    "ARCHIVER_REVISIT_BATCH": (int, 1),
    "ARCHIVER_MAX_URL_LENGTH": (int, 0),  # 0: no limit of ours (the tests use it)
    "ARCHIVER_MAX_LISTING_ENTRIES": (int, 0),
    "ARCHIVER_MAX_SITEMAP_DEPTH": (int, 0),
    "ARCHIVER_MAX_LINKS_PER_PAGE": (int, 0),
    "CONCURRENT_REQUESTS": (int, 1),
    "CONCURRENT_REQUESTS_PER_DOMAIN": (int, 1),
    "CONCURRENT_ITEMS": (int, 1),
    "DOWNLOAD_TIMEOUT": (float, 0),
    "DOWNLOAD_DELAY": (float, 0),
    "DOWNLOAD_MAXSIZE": (int, 0),
    "DOWNLOAD_WARNSIZE": (int, 0),
    "RETRY_TIMES": (int, 0),
    "REDIRECT_MAX_TIMES": (int, 0),
}
_BOOL_WORDS = {"0", "1", "true", "false", "yes", "no", "on", "off"}
_BOOL_SETTINGS = ("ARCHIVER_CONDITIONAL_REQUESTS", "AUTOTHROTTLE_ENABLED", "ROBOTSTXT_OBEY")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def check_settings(get: Callable[[str], Any]) -> None:
    """Check the values of the settings archiver reads (``get(name)`` returns one, or
    None when unset): numbers, booleans, the log level, the allowed networks, the
    database URL.

    Raises:
        ConfigError: naming the first bad setting, its value and what it must be.
    """
    for name, (kind, least) in NUMERIC_SETTINGS.items():
        value = get(name)
        if value is None or value == "":
            continue
        what = "a whole number" if kind is int else "a number"
        try:
            number = kind(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or (kind is float and not math.isfinite(number)):
            raise ConfigError(f"{name} must be {what}, not {value!r}")
        if number < least:
            raise ConfigError(f"{name} must be {what} of at least {least:g}, not {value!r}")
    from archiver.revisit import RevisitConfigError, config_from_settings

    try:
        config_from_settings(get)  # durations ("15m", "7d") and factors, strictly
    except RevisitConfigError as exc:
        raise ConfigError(str(exc)) from None
    for name in _BOOL_SETTINGS:
        value = get(name)
        if isinstance(value, str) and value.strip().lower() not in _BOOL_WORDS:
            raise ConfigError(f"{name} must be True or False, not {value!r}")
    level = get("LOG_LEVEL")
    if isinstance(level, str) and level.upper() not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, not {level!r}")
    networks = get("ARCHIVER_ALLOWED_NETWORKS")
    if networks:
        from archiver.crawl.netpolicy import PolicyError, parse_networks

        try:
            parse_networks(networks)
        except PolicyError as exc:
            raise ConfigError(str(exc)) from None
    url = get("ARCHIVER_DATABASE_URL")
    if url:
        from archiver.storage.session import database_url

        database_url(str(url))  # BadDatabaseUrl names the forms that work


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite" or sa_url.database in (None, "", ":memory:"):
        return None
    return Path(sa_url.database)


def check_database(url: str, *, write: bool = True) -> None:
    """Make sure the archive at ``url`` is there, answers, has the current schema and (a
    SQLite file) can be written, without creating anything: a missing SQLite file is
    reported, never made empty.

    Raises:
        ConfigError: a SQLite file missing or not writable.
        archiver.storage.errors.StorageError: a bad URL, an unreachable database, a
            missing or old schema (one line each).
    """
    from archiver.storage.session import check_database as check_schema
    from archiver.storage.session import database_url, make_engine

    url = database_url(url)
    path = sqlite_path(url)
    if path is not None:
        if not path.exists():
            raise ConfigError(
                f"there is no archive at {path}: run `archiver db upgrade` to create it "
                "(or set ARCHIVER_DATABASE_URL to your archive)"
            )
        if write:
            if not path.stat().st_mode & 0o222:  # made read-only on purpose (even for root)
                raise ConfigError(
                    f"cannot write to {path}: the archive file is read-only (chmod u+w "
                    "it, or point ARCHIVER_DATABASE_URL at a copy you may write)"
                )
            folder = path.resolve().parent
            for where, what in ((path, "the archive file"), (folder, "its directory")):
                if not os.access(where, os.W_OK):
                    raise ConfigError(
                        f"cannot write to {where} ({what}): permission denied; a crawl "
                        "writes the SQLite file and its -wal and -shm files beside it"
                    )
    engine = make_engine(url)
    try:
        check_schema(engine)
    finally:
        engine.dispose()


def check_crawl(settings: Any, spidercls: type, spargs: Mapping[str, str]) -> None:
    """Everything ``scrapy crawl`` can check before it starts: the settings' values, the
    spider's arguments (and the sources they name), the extractors, the database, and
    Redis when ``ARCHIVER_REDIS_URL`` is set.

    Raises:
        ConfigError, UsageError, SourcesError, ExtractorError, StorageError: one line.
    """
    check_settings(lambda name: settings.get(name))
    check_args = getattr(spidercls, "check_arguments", None)
    if check_args is not None:
        check_args(settings, **spargs)
    from archiver.crawl.extractors import Readers

    Readers.from_settings(
        settings.get("ARCHIVER_EXTRACTOR"), settings.get("ARCHIVER_SOURCES")
    ).validate()
    check_database(settings.get("ARCHIVER_DATABASE_URL"))
    redis_url = settings.get("ARCHIVER_REDIS_URL")
    if redis_url:  # the job's shared queue (archiver/service/distributed.py)
        from archiver.service.distributed import connect

        connect(str(redis_url)).close()  # RedisUnavailable (a ConfigError): one line
