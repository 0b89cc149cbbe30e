"""Where articles are kept: models, sessions, the versioning transaction, raw captures.

No Scrapy here: storage takes a :class:`archiver.items.Fetch` and an
:class:`archiver.extract.Article`.
"""

from archiver.storage.archive import (
    ArchiveResult,
    Outcome,
    archive,
    content_fingerprint,
    finish_crawl_run,
    start_crawl_run,
    validators,
    validators_for,
)
from archiver.storage.errors import DatabaseUnavailable, SchemaMissing, StorageError
from archiver.storage.session import check_database, make_engine, make_sessionmaker

__all__ = [
    "ArchiveResult",
    "DatabaseUnavailable",
    "Outcome",
    "SchemaMissing",
    "StorageError",
    "archive",
    "check_database",
    "content_fingerprint",
    "finish_crawl_run",
    "make_engine",
    "make_sessionmaker",
    "start_crawl_run",
    "validators",
    "validators_for",
]
