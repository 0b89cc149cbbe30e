"""Raw captures: response bodies, zstd-compressed, stored once per distinct body.

A body is kept so that a better extractor can be re-run over history. Bodies are 20-30x
larger than the text they carry, and compress about 5-10x with zstd.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import zstandard
from sqlalchemy import select
from sqlalchemy.orm import Session

from archiver.storage.models import RawCapture
from archiver.storage.upsert import insert_ignore

ZSTD_LEVEL = 9


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def compress(body: bytes) -> bytes:
    # A compressor is cheap to make and not safe to share between threads.
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)


def decompress(blob: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(blob)


def store_raw(
    session: Session,
    body: bytes,
    *,
    content_type: str | None,
    charset: str | None,
    now: datetime,
) -> int:
    """The id of the raw capture holding ``body``, inserting it if it is new.

    Must run inside a transaction. Two writers storing the same body at once both get
    the one row: the insert does nothing on a conflicting SHA-256.
    """
    digest = sha256(body)
    existing = session.scalar(select(RawCapture.id).where(RawCapture.sha256 == digest))
    if existing is not None:
        return existing
    blob = compress(body)
    # Race: another crawl stores the same body between our select and insert.
    session.execute(
        insert_ignore(session, RawCapture, ["sha256"]).values(
            sha256=digest,
            body=blob,
            size=len(body),
            compressed_size=len(blob),
            content_type=(content_type or "")[:255] or None,
            charset=(charset or "")[:64] or None,
            created_at=now,
        )
    )
    return session.scalar(select(RawCapture.id).where(RawCapture.sha256 == digest))


def load_raw(session: Session, raw_capture_id: int) -> bytes:
    """The original bytes of a raw capture."""
    blob = session.scalar(select(RawCapture.body).where(RawCapture.id == raw_capture_id))
    if blob is None:
        raise KeyError(raw_capture_id)
    return decompress(blob)
