"""The archive's tables (SQLAlchemy 2.0 typed models).

Analysts should read the views (``article_latest``, ``article_versions``, ``fetch_log``)
made by the migrations; these tables may evolve behind them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from archiver.storage.types import BigIntPK, JSONType, UTCDateTime, intpk
from archiver.storage.urlkey import default_url_sha256


class Outcome(StrEnum):
    """What came of one fetch. Every fetch row has exactly one."""

    NEW_ARTICLE = "new_article"
    NEW_VERSION = "new_version"
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not_modified"
    NOT_ARTICLE = "not_article"
    GONE = "gone"
    SKIPPED = "skipped"
    ERROR = "error"


# Named constraints, so that Alembic can find and drop them (on SQLite too).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Titles, authors and URLs of any length are stored whole (news-please's varchar(255)
    # titles break on real pages); every timestamp is timezone-aware.
    type_annotation_map = {
        str: Text(),
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
    }


class Site(Base):
    """A publisher, keyed by its domain (host without ``www.``)."""

    __tablename__ = "sites"

    id: Mapped[intpk]
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(1000))
    first_seen_at: Mapped[datetime]


class SiteEditHours(Base):
    """A site's working hours as the revisit policy learned them from its fetch log
    (archiver/storage/schedule.py): 24 relative edit rates by hour of day (UTC, mean 1),
    None while the site has shown too few changes to tell."""

    __tablename__ = "site_hours"

    site_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("sites.id"), primary_key=True)
    weights: Mapped[list[float] | None] = mapped_column(JSONType)
    changes: Mapped[int]
    learned_at: Mapped[datetime]


class Article(Base):
    """One article, identified by its normalised canonical URL."""

    __tablename__ = "articles"

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("sites.id"), index=True)
    #: Of any length: unique through ``url_sha256`` (archiver/storage/urlkey.py).
    url: Mapped[str]
    #: SHA-256 of ``url``: the article's identity in the unique index (migration 0010).
    url_sha256: Mapped[str] = mapped_column(
        String(64), unique=True, default=default_url_sha256
    )
    first_seen_at: Mapped[datetime]
    last_fetched_at: Mapped[datetime]
    #: When the current version was captured.
    last_changed_at: Mapped[datetime]
    #: Set when the page answered 404/410 after having been archived; cleared if it returns.
    gone_at: Mapped[datetime | None]
    current_version: Mapped[int]
    #: The content fingerprint of the current version; compared under a row lock.
    current_hash: Mapped[str] = mapped_column(String(64))
    #: When the revisit crawl should fetch the article again (archiver/revisit.py);
    #: NULL: no longer followed.
    next_visit_at: Mapped[datetime | None] = mapped_column(index=True)
    #: A revisit crawl claimed the article until then (archiver/storage/schedule.py).
    claimed_until: Mapped[datetime | None]

    site: Mapped[Site] = relationship()


class RawCapture(Base):
    """A response body, zstd-compressed, stored once per distinct body."""

    __tablename__ = "raw_captures"

    id: Mapped[intpk]
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    compressed_size: Mapped[int]
    content_type: Mapped[str | None] = mapped_column(String(255))
    charset: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Version(Base):
    """One snapshot of an article, made only when its content fingerprint changed."""

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("article_id", "version", name="uq_versions_article_id_version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[intpk]
    article_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("articles.id"))
    version: Mapped[int]
    captured_at: Mapped[datetime]
    title: Mapped[str | None]
    #: Author names joined with "; " (the list is also in ``metadata["authors"]``).
    authors: Mapped[str | None]
    published_at: Mapped[datetime | None]
    modified_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(35))
    site_name: Mapped[str | None]
    description: Mapped[str | None]
    text: Mapped[str]
    paywalled: Mapped[bool]
    paywall_evidence: Mapped[list[str]]
    content_hash: Mapped[str] = mapped_column(String(64))
    extractor_version: Mapped[str] = mapped_column(String(255))
    raw_capture_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("raw_captures.id"), index=True
    )
    meta: Mapped[dict[str, Any]] = mapped_column("metadata")
    #: When the reading above was made, if not at capture (a re-reading by a newer extractor).
    read_at: Mapped[datetime | None]
    #: True when this version was made by comparing the fetch with a previous version read
    #: by another extractor version whose raw capture could not be re-read: the change may
    #: be the extractor's, not the publisher's.
    unverified_change: Mapped[bool] = mapped_column(server_default=false())
    #: What kind of change this version is from the one before it in time order
    #: (:mod:`archiver.storage.changes`): classes joined by commas, e.g.
    #: ``headline,substantive``; NULL for a first version.
    change_classes: Mapped[str | None] = mapped_column(String(100))
    #: Words of the body added and removed since the version before (NULL for the first).
    words_added: Mapped[int | None]
    words_removed: Mapped[int | None]


class Reading(Base):
    """An earlier reading of a version: what another extractor version made of its capture.

    A version is a capture; its title, authors, text and dates are one extractor's reading
    of it. The newest reading lives in the ``versions`` row (so the analyst views read one
    row); every reading it replaced is kept here, one per extractor version.
    """

    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint(
            "version_id", "extractor_version", name="uq_readings_version_id_extractor_version"
        ),
    )

    id: Mapped[intpk]
    version_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("versions.id"))
    extractor_version: Mapped[str] = mapped_column(String(255))
    #: When this reading was made (the capture time for a reading made at capture).
    read_at: Mapped[datetime]
    #: When a newer reading replaced it.
    superseded_at: Mapped[datetime]
    title: Mapped[str | None]
    authors: Mapped[str | None]
    published_at: Mapped[datetime | None]
    modified_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(35))
    site_name: Mapped[str | None]
    description: Mapped[str | None]
    text: Mapped[str]
    paywalled: Mapped[bool]
    paywall_evidence: Mapped[list[str]]
    content_hash: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata")


class CrawlRun(Base):
    """One crawl: a spider, its arguments, when, how it ended, its counts."""

    __tablename__ = "crawl_runs"

    id: Mapped[intpk]
    spider: Mapped[str] = mapped_column(String(255))
    args: Mapped[dict[str, Any]]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    #: running, finished, failed, interrupted, skipped (the job's lock was held),
    #: abandoned (its process died), or Scrapy's close reason.
    status: Mapped[str] = mapped_column(String(64))
    stats: Mapped[dict[str, Any]]
    #: The job: the crawl's normalised arguments (archiver/service/jobs.py), which its
    #: lock is named after; NULL before migration 0012.
    job: Mapped[str | None] = mapped_column(index=True)
    #: Written every ARCHIVER_HEARTBEAT_INTERVAL seconds while the crawl runs.
    heartbeat_at: Mapped[datetime | None]
    #: The process running the crawl, to tell a dead one from a live one.
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))


class Fetch(Base):
    """Every attempt to fetch a URL, whatever its outcome."""

    __tablename__ = "fetches"
    __table_args__ = (
        CheckConstraint(
            "outcome IN (" + ", ".join(f"'{o.value}'" for o in Outcome) + ")", name="outcome"
        ),
        Index("ix_fetches_url_sha256_fetched_at", "url_sha256", "fetched_at"),
    )

    id: Mapped[intpk]
    #: Made by the crawler with the fetch; writing the same fetch twice changes nothing.
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str]
    #: SHA-256 of ``url``, indexed with ``fetched_at`` for lookups by URL (migration 0010).
    url_sha256: Mapped[str] = mapped_column(String(64), default=default_url_sha256)
    final_url: Mapped[str | None]
    status: Mapped[int | None]
    fetched_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None]
    article_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("articles.id"), index=True)
    #: The version this fetch made or found unchanged.
    version: Mapped[int | None]
    raw_capture_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("raw_captures.id"))
    crawl_run_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("crawl_runs.id"), index=True
    )
    etag: Mapped[str | None]
    last_modified: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(255))
    headers: Mapped[dict[str, Any]]
    #: What the page was fetched as: ``article`` (a possible article: from a sitemap,
    #: feed, URL list, article-pattern link or revisit), or the listing it was
    #: (``sitemap``, ``feed``, ``robots``, ``start_page``); NULL before migration 0005.
    kind: Mapped[str | None] = mapped_column(String(16))
    #: The site (``sites.id``) of a page fetched as a possible article, for extraction
    #: health. No foreign key: SQLite cannot add one to a table that views read.
    site_id: Mapped[int | None] = mapped_column(BigIntPK, index=True)
    #: The extractor version that last read this fetch's kept ``not_article`` body again
    #: (``archiver reextract``) and still found no article in it: the next run with that
    #: version skips it. NULL: only the crawl has judged it (migration 0014).
    reread_by: Mapped[str | None] = mapped_column(String(255))
