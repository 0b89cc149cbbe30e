"""What spiders hand to pipelines: a :class:`Fetch`, one per HTTP attempt.

Plain dataclasses (Scrapy accepts them as items) so that storage can use them without
importing Scrapy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

#: How a fetch's ``error`` begins when its URL's redirects never end on a page: written
#: by the news spider, read by storage/identity.py (such a URL names no article).
REDIRECT_LOOP = "redirect loop"
TOO_MANY_REDIRECTS = "too many redirects"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(slots=True)
class Fetch:
    """One attempt to fetch a URL, whatever came of it (Fundus's frozen ``HTML``).

    ``id`` is made when the fetch is made and is unique in the archive: writing the same
    fetch twice (a retried transaction, a replayed spool file) changes nothing.
    """

    url: str
    final_url: str | None = None
    #: HTTP status, or None when no response came (DNS failure, timeout, size cap).
    status: int | None = None
    #: Response headers, names lower-cased, the last value of each.
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    fetched_at: datetime = field(default_factory=_utcnow)
    #: Why no usable response came, for fetches that failed before or during download.
    error: str | None = None
    #: What the source said about the URL (sitemap lastmod, news:title, feed, source name).
    meta: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=_new_id)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")
