"""History in time's order, whatever order the writes arrive in.

Writes do not always arrive in the order pages were fetched: a slow writer, a spool file
replayed after a later crawl, workers on other machines. A capture older than the
article's current version is therefore compared with the version that was current *at its
own time*, never with the current one:

- the same content: an unchanged fetch of that version;
- the same content as the version captured next: an earlier sighting of that version
  (unchanged; the version keeps the capture it was made from);
- other content: a version of its own, inserted at its time. Version numbers follow
  capture time, so the versions after it are renumbered (with the fetches that name
  them), inside the article's transaction, under its row lock. The current version stays
  the newest capture, and ``last_changed_at`` never moves back.

When the inserted capture is followed by fetches that found the *previous* content again
(an unchanged fetch made after it, written before it), the previous content came back:
it is restored as a version of its own at the first of those fetches, which is recorded
as the new version it was. Everything here runs in :func:`archiver.storage.archive.archive`'s
transaction, which holds the article's row lock.

Each version records what kind of change it is from the version before it in time order
(:mod:`archiver.storage.changes`); :func:`record_changes` classifies again every version
whose predecessor moved, changed its reading, or whose earlier versions did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from archiver.storage import models
from archiver.storage.changes import Snapshot, classify_history

Articles = models.Article.__table__
Versions = models.Version.__table__
Fetches = models.Fetch.__table__

#: Fetch outcomes that say what content the page had at the fetch's time.
_ATTESTING = (
    models.Outcome.NEW_ARTICLE.value, models.Outcome.NEW_VERSION.value,
    models.Outcome.UNCHANGED.value, models.Outcome.NOT_MODIFIED.value,
)
#: Versions are moved out of the way through numbers this high, so that renumbering never
#: meets the unique (article_id, version) halfway (PostgreSQL checks it row by row).
_OFFSET = 1_000_000


def version_at(conn: Connection, article_id: int, at: datetime) -> Any:
    """The version current at ``at`` (the newest captured at or before it), or None."""
    return conn.execute(
        select(Versions.c.id, Versions.c.version, Versions.c.captured_at,
               Versions.c.content_hash, Versions.c.extractor_version)
        .where(Versions.c.article_id == article_id, Versions.c.captured_at <= at)
        .order_by(Versions.c.captured_at.desc(), Versions.c.version.desc())
        .limit(1)
    ).first()


def version_after(conn: Connection, article_id: int, at: datetime) -> Any:
    """The first version captured after ``at``, or None."""
    return conn.execute(
        select(Versions.c.id, Versions.c.version, Versions.c.captured_at,
               Versions.c.content_hash)
        .where(Versions.c.article_id == article_id, Versions.c.captured_at > at)
        .order_by(Versions.c.captured_at, Versions.c.version)
        .limit(1)
    ).first()


def make_room(conn: Connection, article_id: int, after: int) -> None:
    """Renumber the article's versions after ``after`` (and the fetches naming them) one
    up, so that a version can be inserted as ``after + 1``."""
    conn.execute(
        update(Versions)
        .where(Versions.c.article_id == article_id, Versions.c.version > after)
        .values(version=Versions.c.version + _OFFSET)
    )
    conn.execute(
        update(Versions)
        .where(Versions.c.article_id == article_id, Versions.c.version > _OFFSET)
        .values(version=Versions.c.version - (_OFFSET - 1))
    )
    conn.execute(
        update(Fetches)
        .where(Fetches.c.article_id == article_id, Fetches.c.version > after)
        .values(version=Fetches.c.version + 1)
    )
    conn.execute(
        update(Articles)
        .where(Articles.c.id == article_id)
        .values(current_version=Articles.c.current_version + 1)
    )


def restore_previous(
    conn: Connection,
    article_id: int,
    previous_id: int,
    previous: int,
    inserted: int,
    since: datetime,
    until: datetime | None,
) -> tuple[int, datetime] | None:
    """After a version was inserted as number ``inserted`` at ``since``: if a fetch made
    after ``since`` (and before ``until``, the next version's capture) found
    the content of version ``previous`` (row ``previous_id``), that content came back
    then. Copy it as version
    ``inserted + 1`` at that fetch's time, point the fetches that found it at the copy, and
    record the first of them as the new version it was.

    Returns:
        ``(number, captured_at)`` of the restored version, or None if nothing found it.
    """
    where = [Fetches.c.article_id == article_id, Fetches.c.version == previous,
             Fetches.c.outcome.in_(_ATTESTING), Fetches.c.fetched_at > since]
    if until is not None:
        where.append(Fetches.c.fetched_at < until)
    first = conn.execute(
        select(Fetches.c.id, Fetches.c.fetched_at).where(*where)
        .order_by(Fetches.c.fetched_at, Fetches.c.id).limit(1)
    ).first()
    if first is None:
        return None
    make_room(conn, article_id, inserted)
    number = inserted + 1
    source = conn.execute(select(Versions).where(Versions.c.id == previous_id)).one()._mapping
    values = {c: source[c] for c in source if c not in ("id", "version", "captured_at")}
    conn.execute(Versions.insert(), dict(values, version=number, captured_at=first.fetched_at))
    conn.execute(update(Fetches).where(*where).values(version=number))
    conn.execute(
        update(Fetches).where(Fetches.c.id == first.id).values(
            outcome=models.Outcome.NEW_VERSION.value,
            reason=f"the content of version {previous} again, after a capture "
                   f"made at {since.isoformat()} and written later",
        )
    )
    return number, first.fetched_at


def record_changes(conn: Connection, article_id: int, first: int) -> None:
    """Classify the article's versions from number ``first`` to its newest, each against
    the version before it (:func:`archiver.storage.changes.classify_history`), and store
    the classes and diff sizes. Reads the texts of those versions and the one before them,
    and only the content hashes of the earlier ones (for reverts): appending a version
    costs two texts. Version 1 has no classes."""
    if first <= 1:
        conn.execute(update(Versions).where(Versions.c.article_id == article_id,
                                            Versions.c.version == 1)
                     .values(change_classes=None, words_added=None, words_removed=None))
        first = 2
    rows = conn.execute(
        select(Versions.c.id, Versions.c.title, Versions.c.authors, Versions.c.published_at,
               Versions.c.text, Versions.c.content_hash)
        .where(Versions.c.article_id == article_id, Versions.c.version >= first - 1)
        .order_by(Versions.c.version)
    ).all()
    if len(rows) < 2:
        return
    earlier = conn.scalars(
        select(Versions.c.content_hash)
        .where(Versions.c.article_id == article_id, Versions.c.version < first - 1)
    ).all()
    changes = classify_history(
        [Snapshot(r.title, r.authors, r.published_at, r.text, r.content_hash) for r in rows],
        earlier,
    )
    for row, change in zip(rows[1:], changes):
        conn.execute(update(Versions).where(Versions.c.id == row.id).values(
            change_classes=change.label, words_added=change.words_added,
            words_removed=change.words_removed))
