"""The versioning rule: one function that archives a fetch and its article.

A fetch is not a version. Publishers change the page around an article on every visit
(related-article lists, today's date in the header, ads), so the raw HTML never decides.
A new version is made only when the article's *content fingerprint* changes: a hash of
its normalised title, authors, body text and published date.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from archiver.extract import Article
from archiver.extract.encoding import charset_from_content_type
from archiver.items import Fetch
from archiver.revisit import RevisitConfig
from archiver.storage import history, identity, models, schedule
from archiver.storage.models import Outcome
from archiver.storage.raw import PackedBody, store_raw
from archiver.storage.sanitize import clean_datetime, clean_json, clean_text
from archiver.storage.upsert import insert_ignore
from archiver.storage.urlkey import url_in, url_is, url_sha256
from archiver.urls import normalise_url, site_domain

logger = logging.getLogger(__name__)

__all__ = [
    "ArchiveResult",
    "Outcome",
    "Reread",
    "RereadNeeded",
    "archive",
    "content_fingerprint",
    "finish_crawl_run",
    "start_crawl_run",
    "validators",
    "validators_for",
]

GONE_STATUSES = frozenset({404, 410})


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """What :func:`archive` did with one fetch."""

    outcome: Outcome
    reason: str | None
    article_id: int | None
    version: int | None
    #: True when this fetch (by ``Fetch.id``) had been archived before: nothing was written.
    duplicate: bool = False
    #: The article's site, when the fetch reached an article.
    site_id: int | None = None


@dataclass(frozen=True, slots=True)
class Reread:
    """The running extractor's reading of an article's current version's raw capture."""

    #: The version whose capture was re-read, and that capture.
    version: int
    raw_capture_id: int
    #: What the running extractor made of it: an article, or None and why not.
    article: Article | None
    reason: str | None = None


class RereadNeeded(Exception):
    """The article's current version was read by another extractor version: re-read its
    raw capture with the running extractor, then archive again with the :class:`Reread`.

    Raised by :func:`archive` only when the caller said it can re-read (the crawl
    pipeline, which re-reads in its extraction workers); nothing was written.
    """

    def __init__(self, article_id: int, url: str, version: int, raw_capture_id: int,
                 extractor_version: str) -> None:
        super().__init__(f"re-read version {version} of article {article_id} ({url})")
        self.article_id = article_id
        self.url = url
        self.version = version
        self.raw_capture_id = raw_capture_id
        self.extractor_version = extractor_version


_SPACE = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def _normalise(value: str | None) -> str:
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value.replace("\x00", ""))
    return _SPACE.sub(" ", _INVISIBLE.sub("", value)).strip()


def content_fingerprint(article: Article) -> str:
    """SHA-256 of what makes the article itself: normalised title, authors, body text
    and published date. Whitespace, invisible characters and Unicode composition don't
    count; nothing outside the article (chrome, headers, ads) is part of it."""
    published = clean_datetime(article.published_at)
    payload = [
        _normalise(article.title),
        [_normalise(a) for a in article.authors],
        _normalise(article.text),
        published.isoformat() if published else "",
    ]
    return hashlib.sha256(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def archive(
    session: Session,
    fetch: Fetch,
    article: Article | None,
    *,
    crawl_run_id: int | None = None,
    outcome: Outcome | None = None,
    reason: str | None = None,
    raw: PackedBody | None = None,
    keep_body: bool = False,
    reread: Reread | None = None,
    can_reread: bool = False,
    revisit: RevisitConfig | None = None,
) -> ArchiveResult:
    """Archive one fetch, and a new version of its article if the article changed.

    Like is compared with like: when the article's current version was read by another
    extractor version than ``article``'s, the fetch is compared with the running
    extractor's re-reading of that version's raw capture (``reread``), never with the old
    reading, so an extractor upgrade makes no version. The re-reading becomes the
    version's newest reading (the old one is kept in ``readings``). Without a capture to
    re-read, the fetch is compared with the stored reading; a version made so is flagged
    ``unverified_change`` and the fetch's reason says why.

    Everything is written in one transaction: the fetch row with its outcome, the site
    and article rows, the raw capture and the version. Safe when several processes
    archive the same article at once: the article row is locked (``SELECT ... FOR
    UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) while its fingerprint is
    compared and the next version number taken, and the database's unique constraints
    back that up. Idempotent: a fetch whose ``id`` is already archived changes nothing.

    Args:
        session: a session that is not in a transaction; this function commits.
        fetch: the HTTP attempt, whatever came of it.
        article: what extraction found in it, or None.
        crawl_run_id: the crawl this fetch belongs to.
        outcome: an outcome the caller already decided (``SKIPPED`` for a PDF,
            ``ERROR`` for a timeout, ``NOT_ARTICLE`` ...); None lets the rule decide.
        reason: a human-readable reason to record with the outcome.
        raw: ``fetch.body`` already hashed and compressed (:func:`raw.pack`), e.g. by
            the crawl's extraction workers; by default it is done here when needed.
        keep_body: store the body as a raw capture even when no version is made (a
            possible article judged ``not_article``), so a better extractor can recover it.
        reread: the running extractor's re-reading of the current version's capture.
        can_reread: raise :class:`RereadNeeded` (writing nothing) when a re-reading is
            needed and ``reread`` is not it; else compare with the stored reading.
        revisit: the revisit policy's configuration for the article's next visit.

    Returns:
        What was done, as an :class:`ArchiveResult`.
    """
    try:
        with session.begin():
            # Core statements on the session's connection: no unit of work to keep.
            conn = session.connection()
            return _archive(conn, fetch, article, crawl_run_id, outcome, reason, raw,
                            _Options(keep_body, reread, can_reread, revisit))
    except _AlreadyArchived:
        pass  # rolled back: the first write of this fetch stands
    with session.begin():
        prior = session.execute(
            select(Fetches.c.outcome, Fetches.c.reason, Fetches.c.article_id,
                   Fetches.c.version).where(Fetches.c.uid == fetch.id)
        ).one()
    return ArchiveResult(Outcome(prior.outcome), prior.reason, prior.article_id,
                         prior.version, duplicate=True)


@dataclass(frozen=True, slots=True)
class _Options:
    keep_body: bool = False
    reread: Reread | None = None
    can_reread: bool = False
    revisit: RevisitConfig | None = None


class _AlreadyArchived(Exception):
    """The fetch's uid is in the archive already; roll this transaction back."""


# Core tables: one round trip per statement and no unit-of-work bookkeeping, on the
# path every fetch of every crawl takes.
Articles = models.Article.__table__
Versions = models.Version.__table__
Fetches = models.Fetch.__table__
Sites = models.Site.__table__
Readings = models.Reading.__table__
_INSERT_VERSION = Versions.insert()


def _archive(
    conn: Connection,
    fetch: Fetch,
    article: Article | None,
    crawl_run_id: int | None,
    outcome: Outcome | None,
    reason: str | None,
    raw: PackedBody | None,
    options: _Options,
) -> ArchiveResult:
    now = clean_datetime(fetch.fetched_at) or datetime.now(timezone.utc)
    result, raw_id = _decide(conn, fetch, article, outcome, reason, now, raw, options)
    headers = {k.lower(): v for k, v in fetch.headers.items()}
    kind = (clean_text(fetch.meta.get("kind")) or "")[:16] or None
    site_id = result.site_id
    if site_id is None and kind == "article":
        # A possible article counts towards its site's extraction health. Only when no
        # article was reached: _site_id must run at most once per transaction (its cache
        # trusts a conflicting row to be committed already).
        site_id = _site_id(conn, fetch.final_url or fetch.url, None, now)
    fetch_url = clean_text(fetch.url) or ""
    # The fetch row goes in last, in the same transaction. If its uid is taken (a
    # replayed spool file, a retried transaction, a second writer of the same fetch,
    # which on PostgreSQL waits here on the unique index until the first commits), the
    # insert does nothing and everything this transaction did is rolled back.
    inserted = conn.scalar(
        insert_ignore(conn, models.Fetch, ["uid"], Fetches.c.id),
        dict(
            uid=fetch.id,
            url=fetch_url,
            url_sha256=url_sha256(fetch_url),
            final_url=clean_text(fetch.final_url),
            status=fetch.status,
            fetched_at=now,
            outcome=result.outcome.value,
            reason=clean_text(result.reason),
            article_id=result.article_id,
            version=result.version,
            raw_capture_id=raw_id,
            crawl_run_id=crawl_run_id,
            etag=clean_text(headers.get("etag")),
            last_modified=(clean_text(headers.get("last-modified")) or "")[:255] or None,
            content_type=(clean_text(headers.get("content-type")) or "")[:255] or None,
            headers=clean_json(headers),
            kind=kind,
            site_id=site_id,
        ),
    )
    if inserted is None:
        raise _AlreadyArchived(fetch.id)
    # Every fetch of an archived article, whatever its outcome, sets its next visit.
    known = result.article_id
    if known is None and kind == "article":
        known = _known_article(conn, fetch)  # an error or refusal on a revisit
    if known is not None:
        schedule.after_fetch(conn, known, now, options.revisit)
    return result


def _decide(
    conn: Connection,
    fetch: Fetch,
    article: Article | None,
    outcome: Outcome | None,
    reason: str | None,
    now: datetime,
    raw: PackedBody | None,
    options: _Options,
) -> tuple[ArchiveResult, int | None]:
    status = fetch.status
    if status in GONE_STATUSES:
        known = _known_article(conn, fetch)
        if known is not None:
            row = _lock_article(conn, Articles.c.id == known)
            _touch(conn, row, now, gone_at=row.gone_at or now)
            why = reason or f"HTTP {status}: the article is gone; its versions are kept"
            return ArchiveResult(Outcome.GONE, why, row.id, row.current_version,
                                 site_id=row.site_id), None
        why = reason or f"HTTP {status} for a URL never archived"
        return ArchiveResult(outcome or Outcome.ERROR, why, None, None), None

    if outcome is not None:
        if outcome in (Outcome.NEW_ARTICLE, Outcome.NEW_VERSION, Outcome.UNCHANGED):
            raise ValueError(f"{outcome} is decided by the versioning rule, not the caller")
        return ArchiveResult(outcome, reason or fetch.error, None, None), None

    if fetch.error is not None or status is None:
        return ArchiveResult(Outcome.ERROR, fetch.error or "no response", None, None), None

    if status == 304:
        known = _known_article(conn, fetch)
        version = site_id = None
        if known is not None:
            row = _lock_article(conn, Articles.c.id == known)
            # A gone article that answers again is back, even with a 304 (not a late
            # replayed answer from before it went).
            back = row.gone_at is not None and row.gone_at <= now
            _touch(conn, row, now, gone_at=None if back else row.gone_at)
            version, site_id = row.current_version, row.site_id
        why = reason or "HTTP 304: not modified since the last fetch"
        return ArchiveResult(Outcome.NOT_MODIFIED, why, known, version, site_id=site_id), None

    if status >= 400 or status < 200:
        return ArchiveResult(Outcome.ERROR, reason or f"HTTP {status}", None, None), None

    if article is None:
        why = reason or "no article found in the page"
        raw_id = None
        if options.keep_body and (raw is not None or fetch.body):
            # Kept (once per distinct body) so that `archiver reextract` with a better
            # extractor can still turn this page into an article.
            raw_id = _store_raw(conn, fetch, raw, now)
        return ArchiveResult(Outcome.NOT_ARTICLE, why, None, None), raw_id

    # Which article the page is: its canonical is a claim checked in identity.py.
    ident = identity.choose(conn, fetch.final_url or fetch.url, article,
                            fetch.meta.get("listed_in"))
    result, raw_id = _version(conn, fetch, article, now, raw, options, url=ident.url)
    if ident.reason:
        why = "; ".join(filter(None, [ident.reason, result.reason]))
        result = dataclasses.replace(result, reason=why)
    return result, raw_id


def _store_raw(conn: Connection, fetch: Fetch, raw: PackedBody | None, now: datetime) -> int:
    content_type = fetch.headers.get("content-type")
    return store_raw(
        conn,
        raw if raw is not None else (fetch.body or b""),
        content_type=content_type,
        charset=charset_from_content_type(content_type),
        now=now,
    )


def _version(
    conn: Connection,
    fetch: Fetch,
    article: Article,
    now: datetime,
    raw: PackedBody | None,
    options: _Options,
    *,
    url: str,
) -> tuple[ArchiveResult, int | None]:
    fingerprint = content_fingerprint(article)

    row = _lock_article(conn, url_is(Articles, url), missing_ok=True)
    if row is None:
        # Race: two crawls see a new article at once. Only one insert succeeds; the other
        # does nothing, then waits on the winner's row lock below and compares with it.
        site_id = _site_id(conn, url, article.site_name, now)
        article_id = conn.scalar(
            insert_ignore(conn, models.Article, ["url_sha256"], Articles.c.id),
            dict(
                site_id=site_id,
                url=url,
                url_sha256=url_sha256(url),
                first_seen_at=now,
                last_fetched_at=now,
                last_changed_at=now,
                current_version=1,
                current_hash=fingerprint,
            ),
        )
        if article_id is not None:
            raw_id = _store_version(conn, article_id, 1, fetch, article, fingerprint, now, raw)
            return ArchiveResult(Outcome.NEW_ARTICLE, None, article_id, 1,
                                 site_id=site_id), raw_id
        row = _lock_article(conn, url_is(Articles, url))

    if now < row.last_changed_at:
        # Written after a newer capture (a slow writer, a replayed spool): its place in
        # history is at its own time, never as the current version.
        late = _late_capture(conn, row, fetch, article, fingerprint, now, raw)
        if late is not None:
            return late
    came_back = "the article came back after being gone" if row.gone_at is not None else None
    # Read after the lock, not joined into it: PostgreSQL re-checks a locked row that
    # another writer changed meanwhile against the join's older snapshot, and drops it.
    current = _current_version(conn, row)
    running = _extractor_version(article)
    baseline, why, unverified, new_hash = row.current_hash, None, False, {}
    if current.extractor_version != running:
        # The stored reading is another extractor's: compare like with like, and bring
        # the version's reading up to date even when the page is unchanged.
        reread = options.reread
        same = fingerprint == baseline
        if current.raw_capture_id is None:
            unverified = not same
            why = None if same else (
                f"version {row.current_version} was read by {current.extractor_version} and "
                "has no raw capture to re-read: compared with that reading")
        elif (reread is None or reread.version != row.current_version
              or reread.raw_capture_id != current.raw_capture_id):
            if options.can_reread:
                raise RereadNeeded(row.id, url, row.current_version, current.raw_capture_id,
                                   current.extractor_version)
            unverified = not same
            why = None if same else (
                f"version {row.current_version} was read by {current.extractor_version} and "
                "was not re-read: compared with that reading")
        elif reread.article is None:
            unverified = not same
            why = None if same else (
                f"the running extractor finds no article in version "
                f"{row.current_version}'s capture ({reread.reason or 'no reason given'}): "
                f"compared with {current.extractor_version}'s reading")
        else:
            baseline = content_fingerprint(reread.article)
            replace_reading(conn, current.id, reread.article, baseline, now)
            new_hash = {"current_hash": baseline}
            why = (f"compared with version {row.current_version} re-read by {running} "
                   f"(it was read by {current.extractor_version})")
    if baseline == fingerprint:
        _touch(conn, row, now, gone_at=None, **new_hash)
        if new_hash:  # a new reading: the version's change from the one before it too
            history.record_changes(conn, row.id, row.current_version)
        reason = "; ".join(filter(None, [why, came_back])) or None
        return ArchiveResult(Outcome.UNCHANGED, reason, row.id, row.current_version,
                             site_id=row.site_id), None

    number = row.current_version + 1
    raw_id = _store_version(conn, row.id, number, fetch, article, fingerprint, now, raw,
                            unverified=unverified)
    _touch(conn, row, now, gone_at=None, current_version=number,
           current_hash=fingerprint, last_changed_at=now)
    if now < row.last_fetched_at:
        # A later fetch, written first, found the previous content: it came back then.
        restored = history.restore_previous(conn, row.id, current.id, row.current_version,
                                            number, now, None)
        if restored is not None:
            _touch(conn, row, now, current_version=restored[0], current_hash=baseline,
                   last_changed_at=restored[1])
    history.record_changes(conn, row.id, row.current_version if new_hash else number)
    return ArchiveResult(Outcome.NEW_VERSION, why, row.id, number, site_id=row.site_id), raw_id


def _late_capture(
    conn: Connection,
    row: Any,
    fetch: Fetch,
    article: Article,
    fingerprint: str,
    now: datetime,
    raw: PackedBody | None,
) -> tuple[ArchiveResult, int | None] | None:
    """A capture older than the current version (see :mod:`archiver.storage.history`);
    None when no version was captured after it (then it is compared as a current one)."""
    gone = {} if row.gone_at is None or row.gone_at > now else {"gone_at": None}
    after = history.version_after(conn, row.id, now)
    if after is None:
        return None
    before = history.version_at(conn, row.id, now)
    if before is not None and before.content_hash == fingerprint:
        _touch(conn, row, now, **gone)
        return ArchiveResult(Outcome.UNCHANGED, "a late capture, the same as the version "
                             "current at its time", row.id, before.version,
                             site_id=row.site_id), None
    first = {} if before is not None else {"first_seen_at": now}  # seen earlier than thought
    if after.content_hash == fingerprint:
        _touch(conn, row, now, **gone, **first)
        return ArchiveResult(Outcome.UNCHANGED, f"a late capture, an earlier sighting of "
                             f"version {after.version} (captured at "
                             f"{after.captured_at.isoformat()})", row.id, after.version,
                             site_id=row.site_id), None
    number = before.version + 1 if before is not None else 1
    history.make_room(conn, row.id, number - 1)
    # Compared with that version's stored reading: re-reading is for the current version.
    unverified = before is not None and before.extractor_version != _extractor_version(article)
    raw_id = _store_version(conn, row.id, number, fetch, article, fingerprint, now, raw,
                            unverified=unverified)
    _touch(conn, row, now, **gone, **first)
    if before is not None:
        history.restore_previous(conn, row.id, before.id, before.version, number, now,
                                 after.captured_at)
    # Every version from the inserted one on has a new predecessor or new earlier ones.
    history.record_changes(conn, row.id, number)
    why = (f"a late capture, placed in history before the version captured at "
           f"{after.captured_at.isoformat()}")
    return ArchiveResult(Outcome.NEW_VERSION, why, row.id, number, site_id=row.site_id), raw_id


def _extractor_version(article: Article) -> str:
    return (clean_text(article.extractor_version) or "unknown")[:255]


def _current_version(conn: Connection, row: Any) -> Any:
    return conn.execute(
        select(Versions.c.id, Versions.c.raw_capture_id, Versions.c.extractor_version).where(
            Versions.c.article_id == row.id, Versions.c.version == row.current_version
        )
    ).one()


def _store_version(
    conn: Connection,
    article_id: int,
    number: int,
    fetch: Fetch,
    article: Article,
    fingerprint: str,
    now: datetime,
    raw: PackedBody | None,
    *,
    unverified: bool = False,
) -> int | None:
    raw_id = None
    if raw is not None or fetch.body:
        raw_id = _store_raw(conn, fetch, raw, now)
    conn.execute(
        _INSERT_VERSION,
        dict(
            article_id=article_id,
            version=number,
            captured_at=now,
            raw_capture_id=raw_id,
            unverified_change=unverified,
            **reading_values(article, fingerprint, fetch.final_url or fetch.url),
        ),
    )
    return raw_id


def reading_values(article: Article, fingerprint: str, url: str | None) -> dict[str, Any]:
    """The columns of a reading (a ``versions`` or ``readings`` row) made of ``article``."""
    authors = [a for a in (clean_text(a) for a in article.authors) if a]
    meta = dict(article.metadata)
    meta.update(
        authors=authors,
        canonical_url=article.canonical_url,
        image=article.image,
        url=url,
    )
    return dict(
        title=clean_text(article.title),
        authors="; ".join(authors) or None,
        published_at=clean_datetime(article.published_at),
        modified_at=clean_datetime(article.modified_at),
        language=(clean_text(article.language) or "")[:35] or None,
        site_name=clean_text(article.site_name),
        description=clean_text(article.description),
        text=clean_text(article.text) or "",
        paywalled=bool(article.paywalled),
        paywall_evidence=clean_json(list(article.paywall_evidence)),
        content_hash=fingerprint,
        extractor_version=_extractor_version(article),
        metadata=clean_json(meta),
    )


#: The reading columns a ``versions`` row shares with a ``readings`` row.
_READING_COLUMNS = (
    "title", "authors", "published_at", "modified_at", "language", "site_name",
    "description", "text", "paywalled", "paywall_evidence", "content_hash",
    "extractor_version", "metadata",
)


def replace_reading(
    conn: Connection, version_id: int, article: Article, fingerprint: str, now: datetime
) -> bool:
    """Make ``article`` the newest reading of a version, keeping the one it replaces.

    Runs in the caller's transaction, which must hold the article's row lock. A reading by
    the extractor version that made the current one changes nothing.

    Returns:
        Whether the version's reading was replaced.
    """
    values = reading_values(article, fingerprint, None)
    current = conn.execute(
        select(*(Versions.c[c] for c in _READING_COLUMNS), Versions.c.read_at,
               Versions.c.captured_at).where(Versions.c.id == version_id)
    ).one()._mapping
    if current["extractor_version"] == values["extractor_version"]:
        return False
    values["metadata"] = clean_json({**(current["metadata"] or {}), **values["metadata"],
                                     "url": (current["metadata"] or {}).get("url")})
    # Race: two re-readings of one version by the same extractor at once (two reextract
    # runs); the unique (version_id, extractor_version) keeps one copy of the old reading.
    conn.execute(
        insert_ignore(conn, models.Reading, ["version_id", "extractor_version"]),
        dict(
            version_id=version_id,
            read_at=current["read_at"] or current["captured_at"],
            superseded_at=now,
            **{c: current[c] for c in _READING_COLUMNS},
        ),
    )
    # Back to an extractor version that read this version before (a rolled-back release):
    # its reading is the newest again, not an earlier one as well.
    conn.execute(
        Readings.delete().where(
            Readings.c.version_id == version_id,
            Readings.c.extractor_version == values["extractor_version"],
        )
    )
    conn.execute(
        update(Versions).where(Versions.c.id == version_id).values(read_at=now, **values)
    )
    return True


#: Site ids by (database, domain). Sites are never deleted, so a cached id stays valid.
_site_ids: dict[tuple[str, str], int] = {}


def _site_id(
    conn: Connection, url: str, name: str | None, now: datetime, *, cache: bool = True
) -> int:
    """The id of ``url``'s site, inserting it if new. With ``cache``, call it at most once
    per transaction: a conflicting row is taken to be committed (another transaction's);
    a transaction that may have inserted the site itself earlier passes ``cache=False``."""
    domain = site_domain(url)[:255]
    key = (str(conn.engine.url), domain)
    if key in _site_ids:
        return _site_ids[key]
    # Race: two crawls meet a new site at once; the unique domain keeps one row.
    site_id = conn.scalar(
        insert_ignore(conn, models.Site, ["domain"], Sites.c.id),
        dict(domain=domain, name=(clean_text(name) or "")[:1000] or None, first_seen_at=now),
    )
    if site_id is not None:
        # Not cached: this transaction may still roll back and take the row with it.
        return site_id
    # The row existed before this transaction began, so its id is safe to cache.
    site_id = conn.scalar(select(Sites.c.id).where(Sites.c.domain == domain))
    if cache:
        _site_ids[key] = site_id
    return site_id


def _lock_article(conn: Connection, where: Any, *, missing_ok: bool = False) -> Any:
    """The article row matching ``where``, locked until the transaction ends."""
    result = conn.execute(
        select(Articles.c.id, Articles.c.current_version, Articles.c.current_hash,
               Articles.c.last_fetched_at, Articles.c.gone_at, Articles.c.site_id,
               Articles.c.last_changed_at)
        .where(where)
        .with_for_update()
    )
    return result.first() if missing_ok else result.one()


def _touch(conn: Connection, row: Any, now: datetime, **values: Any) -> None:
    """Update the locked article row; ``last_fetched_at`` never moves back (a replayed
    spool file may hold fetches older than the last crawl)."""
    conn.execute(
        update(Articles)
        .where(Articles.c.id == row.id)
        .values(last_fetched_at=max(row.last_fetched_at, now), **values)
    )


def _known_article(conn: Connection, fetch: Fetch) -> int | None:
    """The article a URL was archived as, if any: by its own normalised URL, else by the
    last fetch of the same URL that reached an article (a page whose canonical differs)."""
    urls = {normalise_url(u) for u in (fetch.url, fetch.final_url) if u}
    found = conn.scalar(select(Articles.c.id).where(url_in(Articles, urls)))
    if found is not None:
        return found
    return conn.scalar(
        select(Fetches.c.article_id)
        .where(url_is(Fetches, clean_text(fetch.url) or ""), Fetches.c.article_id.is_not(None))
        .order_by(Fetches.c.fetched_at.desc())
        .limit(1)
    )


def validators(session: Session, url: str) -> dict[str, str]:
    """Conditional-request headers for ``url`` from its last successful fetch.

    Returns:
        ``{"If-None-Match": etag, "If-Modified-Since": last_modified}`` with whichever
        the last 200/304 response of that URL sent; ``{}`` if none.
    """
    return validators_for(session, [url]).get(url, {})


def validators_for(session: Session, urls: Iterable[str]) -> dict[str, dict[str, str]]:
    """:func:`validators` for many URLs in one query per thousand URLs."""
    wanted = list(dict.fromkeys(urls))
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start:start + 1000]
        rows = session.execute(
            select(models.Fetch.url, models.Fetch.etag, models.Fetch.last_modified)
            .where(
                url_in(Fetches, chunk),
                models.Fetch.status.in_((200, 304)),
                (models.Fetch.etag.is_not(None)) | (models.Fetch.last_modified.is_not(None)),
            )
            .order_by(models.Fetch.fetched_at)
        )
        for row in rows:  # oldest first: the newest fetch of each URL wins
            headers: dict[str, str] = {}
            if row.etag:
                headers["If-None-Match"] = row.etag
            if row.last_modified:
                headers["If-Modified-Since"] = row.last_modified
            found[row.url] = headers
    return found


def start_crawl_run(session: Session, spider: str, args: dict[str, Any]) -> int:
    """Record the start of a crawl; returns its id."""
    with session.begin():
        run = models.CrawlRun(
            spider=spider,
            args=clean_json(args),
            started_at=datetime.now(timezone.utc),
            status="running",
            stats={},
        )
        session.add(run)
        session.flush()
        return run.id


def finish_crawl_run(session: Session, run_id: int, status: str, stats: dict[str, Any]) -> None:
    """Record how a crawl ended, with its counts."""
    with session.begin():
        session.execute(
            update(models.CrawlRun)
            .where(models.CrawlRun.id == run_id)
            .values(
                finished_at=datetime.now(timezone.utc),
                status=status[:64],
                stats=clean_json(stats),
            )
        )


def archived_article(conn: Connection, url: str, article: Article) -> int | None:
    """The id of an article archived under the page's URL or the canonical URL it
    declares, or None: whether :func:`recover_article` would link rather than create
    (reads only, for ``reextract --dry-run``; it does not weigh the canonical claim)."""
    for candidate in (url, article.canonical_url):
        if candidate:
            found = conn.scalar(
                select(Articles.c.id).where(url_is(Articles, normalise_url(candidate))))
            if found is not None:
                return found
    return None


def recover_article(
    conn: Connection,
    fetch_id: int,
    url: str,
    fetched_at: datetime,
    raw_capture_id: int,
    article: Article,
) -> tuple[int, str]:
    """Turn a kept ``not_article`` fetch into an article, its first version dated at that
    fetch (``archiver reextract`` with a better extractor). Runs in the caller's
    transaction.

    Returns:
        ``(article_id, outcome)``: ``"created"``; ``"linked"`` when a later fetch had
        archived the URL as an article already: the fetch then points at that article
        (no version is made: versions stay numbered in capture order, and an earlier one
        cannot be slipped under them), whose ``first_seen_at`` moves back to it, so its
        body stays with the article and no later run reads it again; ``"done"`` when
        another run recovered or linked this fetch at the same time (nothing written).
    """
    url = identity.choose(conn, url, article).url  # a canonical is a claim to check
    fingerprint = content_fingerprint(article)
    # Race: two reextract runs (or a crawl) archive this URL at once; the unique url
    # (its digest) keeps one article, and only the run whose insert succeeded writes its
    # version.
    article_id = conn.scalar(
        insert_ignore(conn, models.Article, ["url_sha256"], Articles.c.id),
        dict(
            site_id=_site_id(conn, url, article.site_name, fetched_at, cache=False),
            url=url,
            url_sha256=url_sha256(url),
            first_seen_at=fetched_at,
            last_fetched_at=fetched_at,
            last_changed_at=fetched_at,
            current_version=1,
            current_hash=fingerprint,
        ),
    )
    if article_id is None:
        article_id = conn.scalar(select(Articles.c.id).where(url_is(Articles, url)))
        assert article_id is not None  # the insert found it
        linked = conn.execute(
            update(Fetches)
            .where(Fetches.c.id == fetch_id, Fetches.c.article_id.is_(None))
            .values(article_id=article_id)
        ).rowcount
        if not linked:
            return article_id, "done"
        conn.execute(
            update(Articles)
            .where(Articles.c.id == article_id, Articles.c.first_seen_at > fetched_at)
            .values(first_seen_at=fetched_at)
        )
        return article_id, "linked"
    conn.execute(
        _INSERT_VERSION,
        dict(
            article_id=article_id,
            version=1,
            captured_at=fetched_at,
            raw_capture_id=raw_capture_id,
            unverified_change=False,
            read_at=datetime.now(timezone.utc),
            **reading_values(article, fingerprint, url),
        ),
    )
    # The fetch keeps its outcome (what was decided then) and now points at the article.
    conn.execute(
        update(Fetches)
        .where(Fetches.c.id == fetch_id, Fetches.c.article_id.is_(None))
        .values(article_id=article_id, version=1)
    )
    return article_id, "created"


def lock_article(conn: Connection, article_id: int) -> Any:
    """The article row, locked until the transaction ends (for re-readings)."""
    return _lock_article(conn, Articles.c.id == article_id)
