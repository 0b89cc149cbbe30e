"""Re-read stored raw captures with the running extractor: ``archiver reextract``.

Two kinds of work, both streamed in id order and committed in batches (memory stays flat
on archives of any size):

- every version with a raw capture not yet read by the running extractor: its capture is
  read again and the reading becomes the version's newest (the old one is kept in
  ``readings``);
- every kept body of a possible article judged ``not_article``: if the running extractor
  finds an article in it, the article is archived, its first version dated at that fetch.

Reading happens in the extraction worker pool (every core). Idempotent: a version already
read by the running extractor is skipped (when the extractor says its version, see
:func:`archiver.crawl.extractors.extractor_version_of`) or left as it is. Resumable: a run
stopped with Ctrl-C keeps every committed batch, and the next run continues with what is
left. Two runs at once never both rewrite a capture: each write locks the article row and
checks that the reading it replaces is still the one it read. Kept ``not_article`` bodies
that stay not articles are judged again by every run (they are few).
"""

from __future__ import annotations

import difflib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from archiver.extract import Article
from archiver.crawl.extractors import Reader, Readers, extractor_version_of
from archiver.storage import models
from archiver.storage.archive import (
    content_fingerprint,
    lock_article,
    recover_article,
    replace_reading,
)
from archiver.storage.history import record_changes
from archiver.storage.session import check_database, make_engine
from archiver.urls import site_domain
from archiver.crawl.workers import PageResult, default_workers, make_pool, reread_capture

logger = logging.getLogger(__name__)

#: The counts of a run, in the order the summary prints them.
COUNTS = (
    "read", "unchanged", "text_changed", "metadata_changed", "not_article", "recovered",
    "errors", "skipped",
)
_LABELS = {
    "read": "captures read",
    "unchanged": "readings unchanged",
    "text_changed": "text changed",
    "metadata_changed": "metadata changed",
    "not_article": "now judged not an article",
    "recovered": "newly judged an article",
    "errors": "errors",
    "skipped": "already done by another run",
}


@dataclass
class Example:
    """How one capture's reading would change (for ``--dry-run``)."""

    url: str
    version: int | None
    change: str
    diff: str


@dataclass
class ReextractReport:
    """What a run did (or, with ``dry_run``, would do), in total and per site."""

    dry_run: bool
    totals: Counter[str] = field(default_factory=Counter)
    sites: dict[str, Counter[str]] = field(default_factory=dict)
    examples: dict[str, list[Example]] = field(default_factory=dict)
    interrupted: bool = False

    def count(self, site: str, name: str) -> None:
        self.totals[name] += 1
        self.sites.setdefault(site, Counter())[name] += 1

    def summary(self, counts: Counter[str] | None = None) -> str:
        counts = self.totals if counts is None else counts
        return ", ".join(f"{counts[n]} {_LABELS[n]}" for n in COUNTS if n == "read" or counts[n])

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "totals": {n: self.totals[n] for n in COUNTS},
            "sites": {s: {n: c[n] for n in COUNTS} for s, c in sorted(self.sites.items())},
            "examples": {
                s: [vars(e) for e in ex] for s, ex in sorted(self.examples.items())
            },
        }


@dataclass(frozen=True, slots=True)
class _Item:
    """One capture to read again: a version's, or a kept not_article fetch's."""

    kind: str  # "version" or "fetch"
    id: int
    url: str
    site: str
    reader: Reader
    blob: bytes
    charset: str | None
    # version items
    article_id: int | None = None
    version: int | None = None
    old: Any = None
    # fetch items
    fetched_at: datetime | None = None
    raw_capture_id: int | None = None


def reextract(
    database_url: str | None = None,
    *,
    readers: Readers | None = None,
    site: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    latest_only: bool = False,
    dry_run: bool = False,
    workers: int | None = None,
    batch_size: int = 64,
    examples_per_site: int = 3,
    progress: Callable[[int], None] | None = None,
) -> ReextractReport:
    """Re-read the archive's raw captures with the running extractor.

    Args:
        database_url: the archive (default: ``ARCHIVER_DATABASE_URL``).
        readers: the extractors to read with (default: ``ARCHIVER_EXTRACTOR`` and the
            sources file); validated before anything is read.
        site: only this site (domain, without ``www.``).
        source: only the URLs of this declared source's domains.
        since, until: only captures made in ``[since, until)``.
        latest_only: only each article's current version (and kept not_article bodies).
        dry_run: write nothing; report what would change, with examples.
        workers: extraction processes (default: one per core).
        batch_size: captures per committed batch.
        examples_per_site: how many example diffs a dry run keeps per site.
        progress: called with the number of captures done after each batch; raising
            ``KeyboardInterrupt`` from it stops the run like Ctrl-C.

    Returns:
        A :class:`ReextractReport`; ``interrupted`` when stopped by Ctrl-C (every batch
        committed before is kept; run again to continue).

    Raises:
        ExtractorError: a configured extractor does not load.
        StorageError: the database is unreachable or its schema is behind.
    """
    if readers is None:
        from archiver import settings

        readers = Readers.from_settings(settings.ARCHIVER_EXTRACTOR, settings.ARCHIVER_SOURCES)
    readers.validate()
    if source is not None and source not in readers.sources:
        from archiver.crawl.extractors import ExtractorError

        raise ExtractorError(f"no source named {source!r} in the sources file")
    engine = make_engine(database_url)
    report = ReextractReport(dry_run=dry_run)
    try:
        check_database(engine)
        scope = _Scope(readers, site, source, since, until, latest_only)
        pool = _Pool(workers or default_workers())
        try:
            _run(engine, pool, scope, report, dry_run, batch_size, examples_per_site, progress)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        engine.dispose()
    return report


def count_captures(
    database_url: str | None = None,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    latest_only: bool = False,
) -> int:
    """How many captures a run narrowed so reads at most (for a progress bar)."""
    engine = make_engine(database_url)
    v = models.Version.__table__
    a = models.Article.__table__
    s = models.Site.__table__
    f = models.Fetch.__table__
    versions = (
        select(func.count()).select_from(v.join(a, a.c.id == v.c.article_id)
                                         .join(s, s.c.id == a.c.site_id))
        .where(v.c.raw_capture_id.is_not(None))
    )
    kept = select(func.count()).select_from(f).where(*_KEPT(f))
    if site is not None:
        domain = site.removeprefix("www.")
        versions = versions.where(s.c.domain == domain)
        kept = kept.where(f.c.site_id == select(s.c.id).where(s.c.domain == domain)
                          .scalar_subquery())
    if latest_only:
        versions = versions.where(v.c.version == a.c.current_version)
    if since is not None:
        versions = versions.where(v.c.captured_at >= since)
        kept = kept.where(f.c.fetched_at >= since)
    if until is not None:
        versions = versions.where(v.c.captured_at < until)
        kept = kept.where(f.c.fetched_at < until)
    try:
        with engine.connect() as conn:
            return (conn.scalar(versions) or 0) + (conn.scalar(kept) or 0)
    finally:
        engine.dispose()


def _KEPT(f: Any) -> tuple[Any, ...]:  # noqa: N802 - a constant-like filter
    return (f.c.outcome == "not_article", f.c.article_id.is_(None),
            f.c.raw_capture_id.is_not(None))


@dataclass(frozen=True, slots=True)
class _Scope:
    readers: Readers
    site: str | None
    source: str | None
    since: datetime | None
    until: datetime | None
    latest_only: bool

    def reader(self, url: str) -> Reader | None:
        """The reader of ``url``, or None when the URL is outside the scope."""
        if self.site is not None and site_domain(url) != self.site.removeprefix("www."):
            return None
        if self.source is not None:
            if not self.readers.sources[self.source].allows(url):
                return None
            return self.readers.for_source(self.source)
        return self.readers.for_page(url)


def _run(
    engine: Engine,
    pool: _Pool,
    scope: _Scope,
    report: ReextractReport,
    dry_run: bool,
    batch_size: int,
    examples_per_site: int,
    progress: Callable[[int], None] | None,
) -> None:
    versions_known: dict[str, str | None] = {}

    def running_version(reader: Reader) -> str | None:
        if reader.extractor not in versions_known:
            versions_known[reader.extractor] = extractor_version_of(reader.extractor)
        return versions_known[reader.extractor]

    done = 0
    batches = _batches(engine, scope, batch_size, running_version)
    # One batch is read by the workers while the previous one is written.
    pending: list[tuple[_Item, Future[PageResult]]] | None = None
    for batch in batches:
        submitted = [
            (item, pool.submit(reread_capture, item.blob, item.charset, item.url, item.reader))
            for item in batch
        ]
        if pending is not None:
            done += _finish(engine, pending, report, dry_run, examples_per_site)
            if progress:
                progress(done)
        pending = submitted
    if pending:
        done += _finish(engine, pending, report, dry_run, examples_per_site)
        if progress:
            progress(done)


def _batches(
    engine: Engine, scope: _Scope, size: int, running_version: Callable[[Reader], str | None]
) -> Iterator[list[_Item]]:
    """Batches of captures to read, versions first then kept bodies, in id order (keyset
    pagination: each query starts after the last id, so memory stays flat)."""
    v = models.Version.__table__
    a = models.Article.__table__
    s = models.Site.__table__
    r = models.RawCapture.__table__
    f = models.Fetch.__table__
    after = 0
    while True:
        q = (
            select(v.c.id, v.c.article_id, v.c.version, v.c.extractor_version,
                   v.c.content_hash, v.c.title, v.c.authors, v.c.text, v.c.published_at,
                   v.c.modified_at, a.c.url, s.c.domain, r.c.body, r.c.charset)
            .join(a, a.c.id == v.c.article_id)
            .join(s, s.c.id == a.c.site_id)
            .join(r, r.c.id == v.c.raw_capture_id)
            .where(v.c.id > after)
            .order_by(v.c.id)
            .limit(size)
        )
        if scope.site is not None:
            q = q.where(s.c.domain == scope.site.removeprefix("www."))
        if scope.latest_only:
            q = q.where(v.c.version == a.c.current_version)
        if scope.since is not None:
            q = q.where(v.c.captured_at >= scope.since)
        if scope.until is not None:
            q = q.where(v.c.captured_at < scope.until)
        with engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            break
        after = rows[-1].id
        batch = []
        for row in rows:
            reader = scope.reader(row.url)
            if reader is None or row.extractor_version == running_version(reader):
                continue  # outside the scope, or read by the running extractor already
            batch.append(_Item("version", row.id, row.url, row.domain, reader, row.body,
                               row.charset, article_id=row.article_id, version=row.version,
                               old=row))
        if batch:
            yield batch
    after = 0
    while True:
        q = (
            select(f.c.id, f.c.url, f.c.final_url, f.c.fetched_at, f.c.raw_capture_id,
                   r.c.body, r.c.charset)
            .join(r, r.c.id == f.c.raw_capture_id)
            .where(f.c.id > after, *_KEPT(f))
            .order_by(f.c.id)
            .limit(size)
        )
        if scope.since is not None:
            q = q.where(f.c.fetched_at >= scope.since)
        if scope.until is not None:
            q = q.where(f.c.fetched_at < scope.until)
        with engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            break
        after = rows[-1].id
        batch = []
        for row in rows:
            url = row.final_url or row.url
            reader = scope.reader(url)
            if reader is not None:
                batch.append(_Item("fetch", row.id, url, site_domain(url), reader, row.body,
                                   row.charset, fetched_at=row.fetched_at,
                                   raw_capture_id=row.raw_capture_id))
        if batch:
            yield batch


def _finish(
    engine: Engine,
    pending: list[tuple[_Item, Future[PageResult]]],
    report: ReextractReport,
    dry_run: bool,
    examples_per_site: int,
) -> int:
    """Collect a batch's readings and write them in one transaction."""
    results = [(item, _result(future)) for item, future in pending]
    now = datetime.now(timezone.utc)
    #: Per article, the first version whose reading changed: its change classes and the
    #: later versions' follow the newest readings (what the views show).
    reread: dict[int, int] = {}
    with engine.connect() as conn:
        # A dry run reads only: no transaction, so it never takes SQLite's write lock.
        with nullcontext() if dry_run else conn.begin():
            for item, result in results:
                report.count(item.site, "read")
                if result.outcome:
                    report.count(item.site, "errors")
                    logger.info("%s: %s", item.url, result.reason)
                    continue
                if item.kind == "version":
                    _version_item(conn, item, result.article, report, dry_run, now,
                                  examples_per_site, reread)
                else:
                    _fetch_item(conn, item, result.article, report, dry_run, examples_per_site)
            # Once per article and batch (still under its row lock), however many of its
            # versions the batch re-read.
            for article_id, first in reread.items():
                record_changes(conn, article_id, first)
    return len(results)


def _result(future: Future[PageResult]) -> PageResult:
    try:
        return future.result()
    except BrokenProcessPool:
        return PageResult(None, None, "error", "extraction worker crashed")


class _Pool:
    """The extraction worker pool, started again if a worker dies."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = make_pool(workers)

    def submit(self, *args: Any) -> Future[PageResult]:
        try:
            return self.executor.submit(*args)
        except BrokenProcessPool:  # a worker died on a hostile capture: its items said so
            logger.error("An extraction worker died; starting the pool again")
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = make_pool(self.workers)
            return self.executor.submit(*args)

    def shutdown(self, **kwargs: Any) -> None:
        self.executor.shutdown(**kwargs)


def _change(old: Any, new: Article) -> str:
    def norm(value: str | None) -> str:
        return " ".join((value or "").split())

    if norm(old.text) != norm(new.text):
        return "text_changed"
    old_published = old.published_at.isoformat() if old.published_at else None
    new_published = new.published_at.isoformat() if new.published_at else None
    if (norm(old.title) != norm(new.title) or norm(old.authors) != norm("; ".join(new.authors))
            or old_published != new_published):
        return "metadata_changed"
    return "unchanged"


def _version_item(
    conn: Connection,
    item: _Item,
    article: Article | None,
    report: ReextractReport,
    dry_run: bool,
    now: datetime,
    examples_per_site: int,
    reread: dict[int, int],
) -> None:
    if article is None:
        report.count(item.site, "not_article")  # its stored reading stays
        return
    change = _change(item.old, article)
    if dry_run:
        report.count(item.site, change)
        if change != "unchanged":
            _example(report, item, article, change, examples_per_site)
        return
    fingerprint = content_fingerprint(article)
    row = lock_article(conn, item.article_id)
    current, number = conn.execute(
        select(models.Version.extractor_version, models.Version.version)
        .where(models.Version.id == item.id)
    ).one()
    if current != item.old.extractor_version:
        report.count(item.site, "skipped")  # another run (or a crawl) re-read it meanwhile
        return
    if not replace_reading(conn, item.id, article, fingerprint, now):
        report.count(item.site, "unchanged")
        return
    reread[item.article_id] = min(reread.get(item.article_id, number), number)
    if item.version == row.current_version:
        conn.execute(
            models.Article.__table__.update()
            .where(models.Article.id == item.article_id)
            .values(current_hash=fingerprint)
        )
    report.count(item.site, change)


def _fetch_item(
    conn: Connection,
    item: _Item,
    article: Article | None,
    report: ReextractReport,
    dry_run: bool,
    examples_per_site: int,
) -> None:
    if article is None:
        report.count(item.site, "not_article")
        return
    if dry_run:
        report.count(item.site, "recovered")
        _example(report, item, article, "recovered", examples_per_site)
        return
    assert item.fetched_at is not None and item.raw_capture_id is not None
    _, created = recover_article(conn, item.id, item.url, item.fetched_at,
                                 item.raw_capture_id, article)
    report.count(item.site, "recovered" if created else "skipped")


def _example(
    report: ReextractReport, item: _Item, article: Article, change: str, limit: int
) -> None:
    examples = report.examples.setdefault(item.site, [])
    if len(examples) >= limit:
        return
    if item.old is None:
        old_lines: list[str] = []
    else:
        old_lines = [f"title: {item.old.title}", f"authors: {item.old.authors or ''}",
                     *(item.old.text or "").split("\n\n")]
    new_lines = [f"title: {article.title}", f"authors: {'; '.join(article.authors)}",
                 *article.text.split("\n\n")]
    diff = difflib.unified_diff(old_lines, new_lines, "stored reading", "running extractor",
                                n=0, lineterm="")
    lines = [line if len(line) <= 160 else line[:157] + "..." for line in diff]
    if len(lines) > 14:
        lines = lines[:14] + [f"... ({len(lines) - 14} more lines)"]
    examples.append(Example(item.url, item.version, change, "\n".join(lines)))
