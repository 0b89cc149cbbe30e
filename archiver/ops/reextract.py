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
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, Select, bindparam, func, select, update

from archiver.crawl.extractors import Reader, Readers, extractor_version_of
from archiver.crawl.workers import PageResult, default_workers, make_pool, reread_capture
from archiver.extract import Article
from archiver.storage import models
from archiver.storage.archive import (
    _READING_COLUMNS as READING_COLUMNS,  # what a reading is, defined once by the archive
)
from archiver.storage.archive import (
    content_fingerprint,
    reading_values,
    recover_article,
)
from archiver.storage.history import record_changes
from archiver.storage.sanitize import clean_json
from archiver.storage.session import check_database, make_engine
from archiver.storage.upsert import insert_ignore
from archiver.urls import site_domain

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

    def running_versions(self, version_of: Callable[[Reader], str | None]) -> set[str | None]:
        """The extractor versions the readers in scope write (None: one does not say)."""
        if self.source is not None:
            return {version_of(self.readers.for_source(self.source))}
        return {version_of(r) for r in (self.readers.default,
                                        *map(self.readers.for_source, self.readers.sources))}


#: Batches handed to the workers ahead of the one being written: while the parent waits on
#: the database, the workers always have a batch or more queued.
AHEAD = 2


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
    in_flight: deque[list[tuple[_Item, Future[PageResult]]]] = deque()
    for batch in _batches(engine, scope, batch_size, running_version):
        # The parent only ships what it read: the workers decompress and read.
        in_flight.append([
            (item, pool.submit(reread_capture, item.blob, item.charset, item.url, item.reader))
            for item in batch
        ])
        if len(in_flight) > AHEAD:
            done += _finish(engine, in_flight.popleft(), report, dry_run, examples_per_site)
            if progress:
                progress(done)
    while in_flight:
        done += _finish(engine, in_flight.popleft(), report, dry_run, examples_per_site)
        if progress:
            progress(done)


def _batches(
    engine: Engine, scope: _Scope, size: int, running_version: Callable[[Reader], str | None]
) -> Iterator[list[_Item]]:
    """Batches of captures to read, versions first then kept bodies, in id order."""
    v = models.Version.__table__
    a = models.Article.__table__
    s = models.Site.__table__
    r = models.RawCapture.__table__
    f = models.Fetch.__table__
    versions = (
        select(v.c.id, v.c.article_id, v.c.version, v.c.extractor_version,
               v.c.content_hash, v.c.title, v.c.authors, v.c.text, v.c.published_at,
               v.c.modified_at, a.c.url, s.c.domain, r.c.body, r.c.charset)
        .join(a, a.c.id == v.c.article_id)
        .join(s, s.c.id == a.c.site_id)
        .join(r, r.c.id == v.c.raw_capture_id)
    )
    if scope.site is not None:
        versions = versions.where(s.c.domain == scope.site.removeprefix("www."))
    if scope.latest_only:
        versions = versions.where(v.c.version == a.c.current_version)
    running = scope.running_versions(running_version)
    if len(running) == 1 and None not in running:
        # Every reader in scope is one known extractor version: what it read already is
        # never fetched at all (a resumed or repeated run reads only what is left).
        versions = versions.where(v.c.extractor_version.is_distinct_from(running.pop()))
    for rows in _keyset(engine, versions, v.c.id, v.c.captured_at, scope, size):
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
    kept = (
        select(f.c.id, f.c.url, f.c.final_url, f.c.fetched_at, f.c.raw_capture_id,
               r.c.body, r.c.charset)
        .join(r, r.c.id == f.c.raw_capture_id)
        .where(*_KEPT(f))
    )
    for rows in _keyset(engine, kept, f.c.id, f.c.fetched_at, scope, size):
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


def _keyset(
    engine: Engine, query: Select[Any], key: Any, made_at: Any, scope: _Scope, size: int
) -> Iterator[list[Any]]:
    """The rows of ``query`` made in the scope's time range, ``size`` at a time in ``key``
    order. Keyset pagination: each page is a query starting after the last key, on a
    connection held only while it runs, so memory stays flat and writers never wait on a
    long read (SQLite) while the run goes on."""
    if scope.since is not None:
        query = query.where(made_at >= scope.since)
    if scope.until is not None:
        query = query.where(made_at < scope.until)
    query = query.where(key > bindparam("after")).order_by(key).limit(size)
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(query, {"after": after}).all()
        if not rows:
            return
        after = rows[-1].id
        yield rows


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
    rereads: list[tuple[_Item, Article, str]] = []
    with engine.connect() as conn:
        # A dry run reads only: no transaction, so it never takes SQLite's write lock.
        with nullcontext() if dry_run else conn.begin():
            for item, result in results:
                report.count(item.site, "read")
                if result.outcome:
                    report.count(item.site, "errors")
                    logger.info("%s: %s", item.url, result.reason)
                elif item.kind == "fetch":
                    _fetch_item(conn, item, result.article, report, dry_run, examples_per_site)
                elif result.article is None:
                    report.count(item.site, "not_article")  # its stored reading stays
                else:
                    change = _change(item.old, result.article)
                    if dry_run:
                        report.count(item.site, change)
                        if change != "unchanged":
                            _example(report, item, result.article, change, examples_per_site)
                    else:
                        rereads.append((item, result.article, change))
            if rereads:
                _replace_readings(conn, rereads, report, now)
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


Articles = models.Article.__table__
Versions = models.Version.__table__
Readings = models.Reading.__table__

#: The statements of a batch of re-readings, each executed once with every row of the
#: batch (one round trip each, however large the batch).
_DELETE_READING = Readings.delete().where(
    Readings.c.version_id == bindparam("b_version_id"),
    Readings.c.extractor_version == bindparam("b_extractor_version"),
)
_UPDATE_VERSION = update(Versions).where(Versions.c.id == bindparam("b_id"))
_UPDATE_HASH = update(Articles).where(Articles.c.id == bindparam("b_id"))


def _replace_readings(
    conn: Connection,
    rereads: list[tuple[_Item, Article, str]],
    report: ReextractReport,
    now: datetime,
) -> None:
    """Make each new reading its version's newest, keeping the one it replaces (what
    :func:`archiver.storage.archive.replace_reading` does for one version, here for a
    batch in a few statements).

    The batch's articles are locked first, in id order (so that two runs, or a crawl,
    never deadlock), and a version is rewritten only if its reading is still the one this
    run read: two runs at once never both rewrite a capture.
    """
    # Locked in id order, so that two runs (or a crawl) never deadlock on a batch.
    current_version = dict(conn.execute(
        select(Articles.c.id, Articles.c.current_version)
        .where(Articles.c.id.in_(sorted({item.article_id for item, _, _ in rereads})))
        .order_by(Articles.c.id)
        .with_for_update()
    ).all())
    stored = {
        row.id: row._mapping
        for row in conn.execute(
            select(Versions.c.id, Versions.c.version, Versions.c.read_at,
                   Versions.c.captured_at, *(Versions.c[c] for c in READING_COLUMNS))
            .where(Versions.c.id.in_([item.id for item, _, _ in rereads]))
        )
    }
    superseded: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    newest: list[dict[str, Any]] = []
    hashes: list[dict[str, Any]] = []
    #: Per article, the first version whose reading changed: its change classes and the
    #: later versions' follow the newest readings (what the views show).
    reread: dict[int, int] = {}
    for item, article, change in rereads:
        current = stored[item.id]
        if current["extractor_version"] != item.old.extractor_version:
            report.count(item.site, "skipped")  # another run (or a crawl) re-read it meanwhile
            continue
        values = reading_values(article, content_fingerprint(article), None)
        if current["extractor_version"] == values["extractor_version"]:
            report.count(item.site, "unchanged")  # the running extractor read it already
            continue
        values["metadata"] = clean_json({**(current["metadata"] or {}), **values["metadata"],
                                         "url": (current["metadata"] or {}).get("url")})
        superseded.append(dict(
            version_id=item.id,
            read_at=current["read_at"] or current["captured_at"],
            superseded_at=now,
            **{c: current[c] for c in READING_COLUMNS},
        ))
        # Back to an extractor version that read this version before (a rolled-back
        # release): its reading is the newest again, not an earlier one as well.
        dropped.append({"b_version_id": item.id,
                        "b_extractor_version": values["extractor_version"]})
        newest.append(dict(values, b_id=item.id, read_at=now))
        if item.version == current_version[item.article_id]:
            hashes.append({"b_id": item.article_id, "current_hash": values["content_hash"]})
        number = current["version"]
        reread[item.article_id] = min(reread.get(item.article_id, number), number)
        report.count(item.site, change)
    if not superseded:
        return
    # Race: two re-readings of one version by the same extractor at once (two reextract
    # runs); the unique (version_id, extractor_version) keeps one copy of the old reading.
    conn.execute(insert_ignore(conn, models.Reading, ["version_id", "extractor_version"]),
                 superseded)
    conn.execute(_DELETE_READING, dropped)
    conn.execute(_UPDATE_VERSION, newest)
    if hashes:
        conn.execute(_UPDATE_HASH, hashes)
    # Once per article and batch (still under its row lock), however many of its
    # versions the batch re-read.
    for article_id, first in reread.items():
        record_changes(conn, article_id, first)


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
