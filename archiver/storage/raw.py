"""Raw captures: response bodies, zstd-compressed, stored once per distinct body.

A body is kept so that a better extractor can be re-run over history. Bodies are 20-30x
larger than the text they carry, and compress about 5-10x with zstd.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import zstandard
from sqlalchemy import Connection, delete, exists, select, update
from sqlalchemy.orm import Session

from archiver.storage.models import RawCapture
from archiver.storage.upsert import insert_ignore

_RAW = RawCapture.__table__

#: zstd level 3 compresses a news page about 6x at ~0.7 ms; level 9 gains ~10% for 3x
#: the CPU, which a crawl on two cores can't spare.
ZSTD_LEVEL = 3


@dataclass(frozen=True, slots=True)
class PackedBody:
    """A body ready to store: its SHA-256, its zstd blob and its original size.

    Made by :func:`pack`, a pure function, so crawl workers can do the hashing and
    compression in parallel and hand the (small) result to the writer.
    """

    sha256: str
    blob: bytes
    size: int


def pack(body: bytes) -> PackedBody:
    return PackedBody(hashlib.sha256(body).hexdigest(), compress(body), len(body))


def compress(body: bytes) -> bytes:
    # A compressor is cheap to make and not safe to share between threads.
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)


def decompress(blob: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(blob)


def store_raw(
    session: Session | Connection,
    body: bytes | PackedBody,
    *,
    content_type: str | None,
    charset: str | None,
    now: datetime,
) -> int:
    """The id of the raw capture holding ``body``, inserting it if it is new.

    Must run inside a transaction. Two writers storing the same body at once both get
    the one row: the insert does nothing on a conflicting SHA-256, and the second
    writer then reads the first one's row.
    """
    packed = body if isinstance(body, PackedBody) else pack(body)
    # Race: another crawl stores the same body at the same moment; the unique sha256 wins.
    raw_id = session.scalar(
        insert_ignore(session, RawCapture, ["sha256"], _RAW.c.id),
        dict(
            sha256=packed.sha256,
            body=packed.blob,
            size=packed.size,
            compressed_size=len(packed.blob),
            content_type=(content_type or "")[:255] or None,
            charset=(charset or "")[:64] or None,
            created_at=now,
        ),
    )
    if raw_id is None:
        raw_id = session.scalar(select(_RAW.c.id).where(_RAW.c.sha256 == packed.sha256))
    return raw_id


def load_raw(session: Session, raw_capture_id: int) -> bytes:
    """The original bytes of a raw capture."""
    blob = session.scalar(select(RawCapture.body).where(RawCapture.id == raw_capture_id))
    if blob is None:
        raise KeyError(raw_capture_id)
    return decompress(blob)


def load_capture(session: Session, raw_capture_id: int) -> tuple[bytes, str | None]:
    """A raw capture as stored: its zstd blob (decompressed where it is read again, in an
    extraction worker) and the charset its response named."""
    row = session.execute(
        select(RawCapture.body, RawCapture.charset).where(RawCapture.id == raw_capture_id)
    ).first()
    if row is None:
        raise KeyError(raw_capture_id)
    return row.body, row.charset


def prune_kept_bodies(session: Session, older_than: datetime) -> int:
    """Forget the raw bodies kept for ``not_article`` fetches made before ``older_than``
    (``ARCHIVER_KEEP_NOT_ARTICLE_DAYS``); a body that a version or another fetch still
    uses stays. Commits.

    Returns:
        How many raw captures were deleted.
    """
    from archiver.storage.models import Fetch, Version

    old = (
        (Fetch.outcome == "not_article")
        & Fetch.article_id.is_(None)
        & Fetch.raw_capture_id.is_not(None)
        & (Fetch.fetched_at < older_than)
    )
    deleted = 0
    while True:
        with session.begin():
            ids = list(session.scalars(
                select(Fetch.raw_capture_id).where(old).distinct().limit(500)
            ))
            if not ids:
                return deleted
            session.execute(
                update(Fetch).where(old, Fetch.raw_capture_id.in_(ids)).values(raw_capture_id=None)
            )
            # Race: a crawl storing the same body now references it again; then the row
            # stays (the NOT EXISTS sees its committed fetch, or the FK stops the delete).
            result = session.execute(
                delete(RawCapture).where(
                    RawCapture.id.in_(ids),
                    ~exists().where(Version.raw_capture_id == RawCapture.id),
                    ~exists().where(Fetch.raw_capture_id == RawCapture.id),
                )
            )
            deleted += result.rowcount or 0
