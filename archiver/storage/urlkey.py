"""URL identity through a fixed-size digest.

A publisher decides how long its URLs are: a redirect to a 5,000-character URL is one
line of its server's configuration. A B-tree index holds at most about 2.7 kB per row on
PostgreSQL, so a unique index on ``articles.url`` (or any index on ``fetches.url``)
refuses such a row, and the row's fetch with it. The URL columns are therefore never
indexed themselves: each table that is looked up by URL carries ``url_sha256``, the
SHA-256 of the URL exactly as stored (UTF-8, lower-case hex: 64 characters whatever the
URL's length), and its unique or lookup index is on that (migration 0010). Two URLs
share a digest only if they are the same string.

Every insert of an article or a fetch passes ``url_sha256`` (the models also compute it
as a default), and every lookup by URL goes through :func:`url_is` / :func:`url_in`, so
it uses the index. Migration 0010 computes the same digest in SQL on PostgreSQL
(``encode(sha256(convert_to(url, 'UTF8')), 'hex')``) and with this function on SQLite.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Table


def url_sha256(url: str) -> str:
    """The digest naming ``url`` in the archive's indexes (64 hex characters)."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def url_is(table: Table, url: str) -> ColumnElement[bool]:
    """``table.url = url``, through the digest's index."""
    return table.c.url_sha256 == url_sha256(url)


def url_in(table: Table, urls: Iterable[str]) -> ColumnElement[bool]:
    """``table.url IN urls``, through the digest's index."""
    return table.c.url_sha256.in_(sorted({url_sha256(u) for u in urls}))


def default_url_sha256(context: Any) -> str:
    """Column default: the digest of the row's ``url`` (for writers that do not pass it)."""
    return url_sha256(context.get_current_parameters()["url"])
