"""One article's history, for people who don't write SQL: find it by any form of its URL,
list its versions with their change classes, read one as it was, compare two.

Read-only. ``archiver history``, ``archiver diff`` and ``archiver show``
(:mod:`archiver.cli.history`) format what these functions return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, select

from archiver.storage import models
from archiver.storage.session import check_database, make_engine
from archiver.storage.urlkey import url_in
from archiver.urls import normalise_url

Articles = models.Article.__table__
Versions = models.Version.__table__
Fetches = models.Fetch.__table__
Sites = models.Site.__table__


class HistoryError(Exception):
    """What was asked for is not in the archive (an unknown URL, a version out of range,
    a time before the first capture); the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of an article: what ``history`` lists and ``show`` prints."""

    version: int
    captured_at: datetime
    #: Change classes from the version before (empty for the first version).
    classes: tuple[str, ...]
    words_added: int | None
    words_removed: int | None
    title: str | None
    authors: str | None
    published_at: datetime | None
    modified_at: datetime | None
    extractor_version: str
    #: The body; None when only the list was asked for.
    text: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "captured_at": self.captured_at.isoformat(),
            "classes": list(self.classes),
            "words_added": self.words_added,
            "words_removed": self.words_removed,
            "title": self.title,
            "authors": self.authors,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "modified_at": self.modified_at.isoformat() if self.modified_at else None,
            "extractor_version": self.extractor_version,
            **({"text": self.text} if self.text is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class ArticleHistory:
    """An article and its versions, oldest first."""

    article_id: int
    url: str
    site: str
    first_seen_at: datetime
    last_fetched_at: datetime
    gone_at: datetime | None
    versions: list[VersionInfo]

    def as_dict(self) -> dict[str, object]:
        return {
            "article_id": self.article_id,
            "url": self.url,
            "site": self.site,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_fetched_at": self.last_fetched_at.isoformat(),
            "gone_at": self.gone_at.isoformat() if self.gone_at else None,
            "versions": [v.as_dict() for v in self.versions],
        }


def url_candidates(url: str) -> list[str]:
    """The archive URLs ``url`` may name, the most likely first: its normalised form
    (no tracking parameters, no fragment), then with and without ``www.``, a trailing
    slash, and the other of http/https. A URL without a scheme is taken as https."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url.lstrip("/")
    parts = urlsplit(normalise_url(url))
    host = parts.netloc
    hosts = [host, host.removeprefix("www.") if host.startswith("www.") else "www." + host]
    path = parts.path or "/"
    paths = [path] if path == "/" else [path, path[:-1] if path.endswith("/") else path + "/"]
    schemes = [parts.scheme, {"https": "http", "http": "https"}.get(parts.scheme, "https")]
    found: list[str] = []
    for scheme in schemes:
        for h in hosts:
            for p in paths:
                candidate = urlunsplit((scheme, h, p, parts.query, ""))
                if candidate not in found:
                    found.append(candidate)
    return found


def find_article(conn: Connection, url: str) -> int:
    """The id of the article ``url`` names (see :func:`url_candidates`), else the article
    the last fetch of that URL reached (a page archived under its canonical URL).

    Raises:
        HistoryError: no article is archived under any form of the URL.
    """
    candidates = url_candidates(url)
    rows = dict(conn.execute(
        select(Articles.c.url, Articles.c.id).where(url_in(Articles, candidates))
    ).all())
    for candidate in candidates:
        if candidate in rows:
            return rows[candidate]
    fetched = conn.scalar(
        select(Fetches.c.article_id)
        .where(url_in(Fetches, [url.strip(), *candidates]), Fetches.c.article_id.is_not(None))
        .order_by(Fetches.c.fetched_at.desc())
        .limit(1)
    )
    if fetched is None:
        raise HistoryError(f"no article archived at {url}")
    return fetched


def article_history(database_url: str | None, url: str, *, texts: bool = False) -> ArticleHistory:
    """The article ``url`` names and its versions, oldest first (bodies with ``texts``).

    Raises:
        HistoryError: no article at that URL.
        StorageError: the database is unreachable or its schema is behind.
    """
    engine = make_engine(database_url)
    try:
        check_database(engine)
        with engine.connect() as conn:
            return _history(conn, find_article(conn, url), texts)
    finally:
        engine.dispose()


def _history(conn: Connection, article_id: int, texts: bool) -> ArticleHistory:
    article = conn.execute(
        select(Articles.c.id, Articles.c.url, Sites.c.domain, Articles.c.first_seen_at,
               Articles.c.last_fetched_at, Articles.c.gone_at)
        .join(Sites, Sites.c.id == Articles.c.site_id)
        .where(Articles.c.id == article_id)
    ).one()
    columns = [Versions.c.version, Versions.c.captured_at, Versions.c.change_classes,
               Versions.c.words_added, Versions.c.words_removed, Versions.c.title,
               Versions.c.authors, Versions.c.published_at, Versions.c.modified_at,
               Versions.c.extractor_version]
    if texts:
        columns.append(Versions.c.text)
    rows = conn.execute(
        select(*columns).where(Versions.c.article_id == article_id)
        .order_by(Versions.c.version)
    ).all()
    versions = [
        VersionInfo(r.version, r.captured_at,
                    tuple(c for c in (r.change_classes or "").split(",") if c),
                    r.words_added, r.words_removed, r.title, r.authors, r.published_at,
                    r.modified_at, r.extractor_version, r.text if texts else None)
        for r in rows
    ]
    return ArticleHistory(article.id, article.url, article.domain, article.first_seen_at,
                          article.last_fetched_at, article.gone_at, versions)


def pick_version(history: ArticleHistory, number: int | None = None,
                 as_of: datetime | None = None) -> VersionInfo:
    """Version ``number``, or the one current at ``as_of`` (the newest captured at or
    before it), or the newest.

    Raises:
        HistoryError: no such version, or nothing captured by then.
    """
    versions = history.versions
    if number is not None:
        if not 1 <= number <= len(versions):
            raise HistoryError(f"{history.url} has versions 1 to {len(versions)}, "
                               f"not {number}")
        return versions[number - 1]
    if as_of is not None:
        current = [v for v in versions if v.captured_at <= as_of]
        if not current:
            raise HistoryError(f"{history.url} was first captured at "
                               f"{versions[0].captured_at.isoformat()}, after {as_of.isoformat()}")
        return current[-1]
    return versions[-1]


def pick_pair(history: ArticleHistory, a: int | None = None,
              b: int | None = None) -> tuple[VersionInfo, VersionInfo]:
    """The two versions ``diff`` compares: ``a`` and ``b``; ``a`` and the newest; or,
    by default, the newest two.

    Raises:
        HistoryError: a version out of range, or only one version to compare.
    """
    count = len(history.versions)
    if a is None:
        if count < 2:
            raise HistoryError(f"{history.url} has one version only: nothing to compare")
        a, b = count - 1, count
    old = pick_version(history, a)
    new = pick_version(history, b if b is not None else count)
    return old, new
