"""Re-read stored raw captures with the running extractor: ``archiver reextract``.

Two kinds of work, both streamed in id order and committed in batches (memory stays flat
on archives of any size):

- every version with a raw capture not yet read by the running extractor: its capture is
  read again and the reading becomes the version's newest (the old one is kept in
  ``readings``);
- every kept body of a possible article judged ``not_article``: if the running extractor
  finds an article in it, the article is archived, its first version dated at that fetch.

Reading happens in the extraction worker pool (every core): this process reads rows and
ships each capture's bytes still compressed; the workers decompress and read, and are
kept two batches ahead of the batch being written. It never loads the extractor itself
(the workers say which version they write). Versions are scanned without their bodies,
which are read only for the captures a run reads again.

Idempotent: a version already read by the running extractor is skipped before its body
is read (when the extractor says its version, see
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
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, Select, bindparam, func, or_, select, update

from archiver.crawl.extractors import Reader, Readers
from archiver.crawl.workers import (
    PageResult,
    default_workers,
    extractor_versions,
    make_pool,
    reread_capture,
)
from archiver.extract import Article
from archiver.storage import models
from archiver.storage.archive import (
    _READING_COLUMNS as READING_COLUMNS,  # what a reading is, defined once by the archive
)
from archiver.storage.archive import (
    archived_article,
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
    "earlier", "errors", "skipped",
)
_LABELS = {
    "read": "captures read",
    "unchanged": "readings unchanged",
    "text_changed": "text changed",
    "metadata_changed": "metadata changed",
    "not_article": "now judged not an article",
    "recovered": "newly judged an article",
    "earlier": "earlier captures of articles archived since",
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
class Failure:
    """A capture the running extractor could not read: why (nothing archived changed)."""

    url: str
    version: int | None
    reason: str


@dataclass
class ReextractReport:
    """What a run did (or, with ``dry_run``, would do), in total and per site.

    Counts only what was committed: a batch rolled back by Ctrl-C is not counted.
    """

    dry_run: bool
    totals: Counter[str] = field(default_factory=Counter)
    sites: dict[str, Counter[str]] = field(default_factory=dict)
    examples: dict[str, list[Example]] = field(default_factory=dict)
    #: The first few captures per site that could not be read, with the reason.
    failures: dict[str, list[Failure]] = field(default_factory=dict)
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
            "failures": {
                s: [vars(f) for f in fs] for s, fs in sorted(self.failures.items())
            },
        }


@dataclass(frozen=True, slots=True)
class _Reading:
    """The stored reading a run read a version with (compared, and checked at write)."""

    extractor_version: str | None
    title: str | None
    authors: str | None
    text: str | None
    published_at: datetime | None


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
    old: _Reading | None = None
    # fetch items
    fetched_at: datetime | None = None
    raw_capture_id: int | None = None
    #: The running extractor's version, recorded on a kept body it still finds no
    #: article in (``fetches.reread_by``).
    read_by: str | None = None


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
    progress: Callable[[int, int], None] | None = None,
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
        progress: called with the number of captures done and the number the run
            expects to read (those in scope not read by the running extractor yet: on a
            resumed run, what is left), once before the first batch and after each;
            raising ``KeyboardInterrupt`` from it stops the run like Ctrl-C.

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
    scope = _Scope(readers, site, source, since, until, latest_only)
    pool = _Pool(workers or default_workers())
    try:
        # Asked of a worker first thing: the pool starts (loading the extractor) while
        # the database is checked. What the workers will write, and this process never
        # loads the extractor itself.
        versions = pool.submit(extractor_versions, scope.extractors())
        try:
            check_database(engine)
            known = versions.result()
            if progress:
                total = _count(engine, scope, scope.only(known))
                progress = partial(_tell, progress, total=total)
                progress(0)
            _run(engine, pool, scope, known, report, dry_run, batch_size,
                 examples_per_site, progress)
        except KeyboardInterrupt:
            report.interrupted = True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        engine.dispose()
    return report


def _tell(progress: Callable[[int, int], None], done: int, *, total: int) -> None:
    progress(done, max(total, done))


def count_captures(
    database_url: str | None = None,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    latest_only: bool = False,
) -> int:
    """How many captures a run narrowed so reads at most (whatever extractor runs)."""
    engine = make_engine(database_url)
    try:
        return _count(engine, _Scope(Readers(), site, None, since, until, latest_only), None)
    finally:
        engine.dispose()


def _count(engine: Engine, scope: _Scope, only: str | None) -> int:
    """How many rows the run's scans (:func:`_scans`) hold: the captures it will read, at
    most (a reader may still find a URL outside a source's domains)."""
    with engine.connect() as conn:
        return sum(conn.scalar(select(func.count()).select_from(scan.subquery())) or 0
                   for scan in _scans(scope, only))


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

    def extractors(self) -> tuple[str, ...]:
        """The extractor paths of the readers in scope."""
        if self.source is not None:
            return (self.readers.for_source(self.source).extractor,)
        readers = (self.readers.default, *map(self.readers.for_source, self.readers.sources))
        return tuple(sorted({r.extractor for r in readers}))

    def only(self, versions: dict[str, str | None]) -> str | None:
        """The one extractor version every reader in scope writes (``versions``: by
        extractor path), or None when they write several or one does not say."""
        running = {versions[path] for path in self.extractors()}
        return next(iter(running)) if len(running) == 1 else None


#: Batches handed to the workers ahead of the one being written: while the parent waits on
#: the database, the workers always have a batch or more queued.
AHEAD = 2


def _run(
    engine: Engine,
    pool: _Pool,
    scope: _Scope,
    versions: dict[str, str | None],
    report: ReextractReport,
    dry_run: bool,
    batch_size: int,
    examples_per_site: int,
    progress: Callable[[int], None] | None,
) -> None:
    done = 0
    in_flight: deque[list[tuple[_Item, Future[PageResult]]]] = deque()
    for batch in _batches(engine, scope, batch_size, versions):
        # The parent only ships what it read: the workers decompress and read.
        in_flight.append([
            (item, pool.submit(reread_capture, item.blob, item.charset, item.url, item.reader))
            for item in batch
        ])
        if len(in_flight) > AHEAD:
            done += _finish(engine, pool, in_flight.popleft(), report, dry_run,
                            examples_per_site)
            if progress:
                progress(done)
    while in_flight:
        done += _finish(engine, pool, in_flight.popleft(), report, dry_run, examples_per_site)
        if progress:
            progress(done)


def _batches(
    engine: Engine, scope: _Scope, size: int, versions: dict[str, str | None]
) -> Iterator[list[_Item]]:
    """Batches of captures to read, versions first then kept bodies, in id order.

    Rows are scanned without their bodies; the bodies (and the stored readings) of the
    captures a batch reads again come in one more query, so a version already read by the
    running extractor costs a short row, never its capture.
    """
    v = models.Version.__table__
    r = models.RawCapture.__table__
    scan, kept = _scans(scope, scope.only(versions))
    captures = (
        select(v.c.id, v.c.extractor_version, v.c.title, v.c.authors, v.c.text,
               v.c.published_at, r.c.body, r.c.charset)
        .join(r, r.c.id == v.c.raw_capture_id)
        .where(v.c.id.in_(bindparam("ids", expanding=True)))
    )
    for rows in _keyset(engine, scan, v.c.id, size):
        wanted: dict[int, tuple[Any, Reader]] = {}
        for row in rows:
            reader = scope.reader(row.url)
            if reader is not None and row.extractor_version != versions[reader.extractor]:
                wanted[row.id] = (row, reader)
        if not wanted:
            continue
        with engine.connect() as conn:
            bodies = {c.id: c for c in conn.execute(captures, {"ids": list(wanted)})}
        batch = []
        for version_id, (row, reader) in wanted.items():
            c = bodies.get(version_id)
            if c is None or c.extractor_version == versions[reader.extractor]:
                continue  # gone, or read by the running extractor meanwhile
            old = _Reading(c.extractor_version, c.title, c.authors, c.text, c.published_at)
            batch.append(_Item("version", version_id, row.url, row.domain, reader, c.body,
                               c.charset, article_id=row.article_id, version=row.version,
                               old=old))
        if batch:
            yield batch
    kept_bodies = select(r.c.id, r.c.body, r.c.charset) \
        .where(r.c.id.in_(bindparam("ids", expanding=True)))
    for rows in _keyset(engine, kept, models.Fetch.__table__.c.id, size):
        wanted_fetches = [(row, row.final_url or row.url) for row in rows]
        wanted_fetches = [(row, url, reader) for row, url in wanted_fetches
                          if (reader := scope.reader(url)) is not None
                          and row.reread_by != versions[reader.extractor]]
        if not wanted_fetches:
            continue
        with engine.connect() as conn:
            blobs = {b.id: b for b in conn.execute(
                kept_bodies, {"ids": sorted({row.raw_capture_id for row, _, _ in wanted_fetches})}
            )}
        batch = []
        for row, url, reader in wanted_fetches:
            b = blobs.get(row.raw_capture_id)
            if b is not None:  # else pruned meanwhile
                batch.append(_Item("fetch", row.id, url, site_domain(url), reader, b.body,
                                   b.charset, fetched_at=row.fetched_at,
                                   raw_capture_id=row.raw_capture_id,
                                   read_by=versions[reader.extractor]))
        if batch:
            yield batch


def _scans(scope: _Scope, only: str | None) -> tuple[Select[Any], Select[Any]]:
    """What a run goes through, rows without their bodies: the versions with a capture,
    then the kept ``not_article`` bodies, narrowed by the scope (site, source's domains,
    latest versions, capture time) and less what ``only`` (the running extractor's
    version, when the scope has one) has read already."""
    v = models.Version.__table__
    a = models.Article.__table__
    s = models.Site.__table__
    f = models.Fetch.__table__
    scan = (
        select(v.c.id, v.c.article_id, v.c.version, v.c.extractor_version, a.c.url,
               s.c.domain)
        .join(a, a.c.id == v.c.article_id)
        .join(s, s.c.id == a.c.site_id)
        .where(v.c.raw_capture_id.is_not(None))
    )
    kept = select(f.c.id, f.c.url, f.c.final_url, f.c.fetched_at, f.c.raw_capture_id,
                  f.c.reread_by).where(*_KEPT(f))
    sites: list[Any] = []
    if scope.site is not None:
        sites.append(s.c.domain == scope.site.removeprefix("www."))
    if scope.source is not None:
        sites.extend(_source_sites(scope.readers.sources[scope.source], s.c.domain))
    if sites:
        scan = scan.where(*sites)
        kept = kept.where(f.c.site_id.in_(select(s.c.id).where(*sites)))
    if scope.latest_only:
        scan = scan.where(v.c.version == a.c.current_version)
    if only is not None:
        # What the running extractor read already is not even scanned (a resumed or
        # repeated run goes through what is left); a kept body it found no article in
        # is marked so (``fetches.reread_by``).
        scan = scan.where(v.c.extractor_version.is_distinct_from(only))
        kept = kept.where(f.c.reread_by.is_distinct_from(only))
    if scope.since is not None:
        scan = scan.where(v.c.captured_at >= scope.since)
        kept = kept.where(f.c.fetched_at >= scope.since)
    if scope.until is not None:
        scan = scan.where(v.c.captured_at < scope.until)
        kept = kept.where(f.c.fetched_at < scope.until)
    return scan, kept


def _source_sites(source: Any, domain: Any) -> tuple[Any, ...]:
    """A filter on sites.domain keeping at least the sites of ``source``'s domains (and
    their subdomains, with any port): the scan then skips other sites' rows; which URLs
    are the source's is still decided by :meth:`Source.allows`."""
    if not source.domains:
        return ()
    names = {d.lower().strip().rstrip(".").removeprefix("www.") for d in source.domains}
    return (or_(*(cond for d in sorted(names) for cond in (
        domain == d, domain.like(f"{d}:%"), domain.like(f"%.{d}"), domain.like(f"%.{d}:%"),
    ))),)


def _keyset(
    engine: Engine, query: Select[Any], key: Any, size: int
) -> Iterator[list[Any]]:
    """The rows of ``query``, ``size`` at a time in ``key`` order. Keyset pagination: each
    page is a query starting after the last key, on a connection held only while it
    runs, so memory stays flat and writers never wait on a long read (SQLite) while the
    run goes on."""
    query = query.where(key > bindparam("after")).order_by(key).limit(size)
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(query, {"after": after}).all()
        if not rows:
            return
        after = rows[-1].id
        yield rows


#: What a batch did, counted into the report once its transaction has committed.
_Tally = list[tuple[str, str]]


def _finish(
    engine: Engine,
    pool: _Pool,
    pending: list[tuple[_Item, Future[PageResult]]],
    report: ReextractReport,
    dry_run: bool,
    examples_per_site: int,
) -> int:
    """Collect a batch's readings and write them in one transaction."""
    results = [(item, _result(pool, item, future)) for item, future in pending]
    now = datetime.now(timezone.utc)
    tally: _Tally = []
    failed: list[tuple[_Item, str]] = []
    rereads: list[tuple[_Item, Article, str]] = []
    with engine.connect() as conn:
        # A dry run reads only: no transaction, so it never takes SQLite's write lock.
        with nullcontext() if dry_run else conn.begin():
            for item, result in results:
                tally.append((item.site, "read"))
                if result.outcome:
                    tally.append((item.site, "errors"))
                    failed.append((item, result.reason or result.outcome))
                elif item.kind == "fetch":
                    _fetch_item(conn, item, result.article, tally, report, dry_run,
                                examples_per_site)
                elif result.article is None:
                    tally.append((item.site, "not_article"))  # its stored reading stays
                else:
                    assert item.old is not None
                    change = _change(item.old, result.article)
                    if dry_run:
                        tally.append((item.site, change))
                        if change != "unchanged":
                            _example(report, item, result.article, change, examples_per_site)
                    else:
                        rereads.append((item, result.article, change))
            if rereads:
                _replace_readings(conn, rereads, tally, now)
    # Committed: only now does the report count the batch.
    for site, name in tally:
        report.count(site, name)
    for item, reason in failed:
        # The capture's outcome, with the reason; nothing archived changed.
        logger.warning("%s%s: not read again: %s", item.url,
                       f" (version {item.version})" if item.version else "", reason)
        failures = report.failures.setdefault(item.site, [])
        if len(failures) < examples_per_site:
            failures.append(Failure(item.url, item.version, reason))
    return len(results)


def _result(pool: _Pool, item: _Item, future: Future[PageResult]) -> PageResult:
    try:
        return future.result()
    except BrokenProcessPool:
        # A worker died (a capture that crashes the parser, the kernel's OOM killer) and
        # took every reading in flight with it: each is read again alone, so that only
        # the capture that kills a worker is an error.
        return pool.read_alone(item)


class _Pool:
    """The extraction worker pool, started again if a worker dies."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = make_pool(workers)
        #: One worker of its own for captures read again after a worker died.
        self.solo: Any = None

    def submit(self, *args: Any) -> Future[Any]:
        try:
            return self.executor.submit(*args)
        except BrokenProcessPool:  # a worker died: its items are read again alone
            logger.error("An extraction worker died; starting the pool again")
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = make_pool(self.workers)
            return self.executor.submit(*args)

    def read_alone(self, item: _Item) -> PageResult:
        """Read one capture in a worker of its own: if that worker dies too, this capture
        is what kills it."""
        if self.solo is None:
            self.solo = make_pool(1)
        try:
            return self.solo.submit(reread_capture, item.blob, item.charset, item.url,
                                    item.reader).result()
        except BrokenProcessPool:
            self.solo.shutdown(wait=False, cancel_futures=True)
            self.solo = None
            return PageResult(None, None, "error",
                              "the extraction worker reading this capture died")

    def shutdown(self, **kwargs: Any) -> None:
        self.executor.shutdown(**kwargs)
        if self.solo is not None:
            self.solo.shutdown(**kwargs)


def _norm(value: str | None) -> str:
    return " ".join((value or "").split())


def _date(value: datetime | None) -> str:
    """A date as compared and shown: the same instant is the same date, in any zone."""
    if value is None:
        return ""
    return (value.astimezone(timezone.utc) if value.tzinfo else value).isoformat()


def _change(old: _Reading, new: Article) -> str:
    """How a new reading differs from the stored one: whitespace is no change."""
    if _norm(old.text) != _norm(new.text):
        return "text_changed"
    if (_norm(old.title) != _norm(new.title)
            or _norm(old.authors) != _norm("; ".join(new.authors))
            or _date(old.published_at) != _date(new.published_at)):
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
#: The columns a version's search document is made of (migration 0013's triggers).
_SEARCHED = ("title", "text", "language")
_UPDATE_HASH = update(Articles).where(Articles.c.id == bindparam("b_id"))


def _replace_readings(
    conn: Connection,
    rereads: list[tuple[_Item, Article, str]],
    tally: _Tally,
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
    #: New readings whose title, text and language are the stored ones: written without
    #: them, so PostgreSQL's search trigger does not index the same text again.
    newest_same_text: list[dict[str, Any]] = []
    hashes: list[dict[str, Any]] = []
    #: Per article, the first version whose reading changed: its change classes and the
    #: later versions' follow the newest readings (what the views show).
    reread: dict[int, int] = {}
    for item, article, change in rereads:
        current = stored.get(item.id)
        assert item.old is not None
        if current is None or current["extractor_version"] != item.old.extractor_version:
            tally.append((item.site, "skipped"))  # another run (or a crawl) re-read it meanwhile
            continue
        values = reading_values(article, content_fingerprint(article), None)
        if current["extractor_version"] == values["extractor_version"]:
            tally.append((item.site, "unchanged"))  # the running extractor read it already
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
        if all(values[c] == current[c] for c in _SEARCHED):
            newest_same_text.append(
                {k: v for k, v in values.items() if k not in _SEARCHED} | {
                    "b_id": item.id, "read_at": now})
        else:
            newest.append(dict(values, b_id=item.id, read_at=now))
        # Its number now, not when it was read: a crawl may have inserted an older
        # capture before it meanwhile (renumbering the later versions).
        number = current["version"]
        if number == current_version[item.article_id]:
            hashes.append({"b_id": item.article_id, "current_hash": values["content_hash"]})
        reread[item.article_id] = min(reread.get(item.article_id, number), number)
        tally.append((item.site, change))
    if not superseded:
        return
    # Race: two re-readings of one version by the same extractor at once (two reextract
    # runs); the unique (version_id, extractor_version) keeps one copy of the old reading.
    conn.execute(insert_ignore(conn, models.Reading, ["version_id", "extractor_version"]),
                 superseded)
    conn.execute(_DELETE_READING, dropped)
    if newest:
        conn.execute(_UPDATE_VERSION, newest)
    if newest_same_text:
        conn.execute(_UPDATE_VERSION, newest_same_text)
    if hashes:
        conn.execute(_UPDATE_HASH, hashes)
    # Once per article and batch (still under its row lock), however many of its
    # versions the batch re-read. An article of one version has no change to classify
    # (most articles: this saves two statements each).
    for article_id, first in reread.items():
        if current_version[article_id] > 1:
            record_changes(conn, article_id, first)


def _fetch_item(
    conn: Connection,
    item: _Item,
    article: Article | None,
    tally: _Tally,
    report: ReextractReport,
    dry_run: bool,
    examples_per_site: int,
) -> None:
    if article is None:
        tally.append((item.site, "not_article"))
        if not dry_run and item.read_by is not None:
            conn.execute(update(models.Fetch.__table__)
                         .where(models.Fetch.__table__.c.id == item.id)
                         .values(reread_by=item.read_by))
        return
    if dry_run:
        change = "earlier" if archived_article(conn, item.url, article) else "recovered"
        tally.append((item.site, change))
        if change == "recovered":
            _example(report, item, article, change, examples_per_site)
        return
    assert item.fetched_at is not None and item.raw_capture_id is not None
    _, outcome = recover_article(conn, item.id, item.url, item.fetched_at,
                                 item.raw_capture_id, article)
    tally.append((item.site, _RECOVERED.get(outcome, "skipped")))


#: :func:`recover_article`'s outcomes as counts ("done": another run did it).
_RECOVERED = {"created": "recovered", "linked": "earlier"}


def _example(
    report: ReextractReport, item: _Item, article: Article, change: str, limit: int
) -> None:
    examples = report.examples.setdefault(item.site, [])
    if len(examples) >= limit:
        return
    old = item.old
    old_lines = [] if old is None else _lines(old.title, old.authors, old.published_at, old.text)
    new_lines = _lines(article.title, "; ".join(article.authors), article.published_at,
                       article.text)
    diff = difflib.unified_diff(old_lines, new_lines, "stored reading", "running extractor",
                                n=0, lineterm="")
    lines = [line if len(line) <= 160 else line[:157] + "..." for line in diff]
    if len(lines) > 14:
        lines = lines[:14] + [f"... ({len(lines) - 14} more lines)"]
    examples.append(Example(item.url, item.version, change, "\n".join(lines)))


def _lines(title: str | None, authors: str | None, published: datetime | None,
           text: str | None) -> list[str]:
    """A reading as the lines a diff compares: a paragraph a line, whitespace collapsed
    (as :func:`_change` compares), so a diff never shows a change that is not one."""
    paragraphs = (_norm(p) for p in (text or "").splitlines())
    return [f"title: {_norm(title)}", f"authors: {_norm(authors)}",
            f"published: {_date(published)}", *(p for p in paragraphs if p)]
