"""Free space where the crawl keeps pages: the SQLite file's disk and the spool's.

A crawl that keeps fetching onto a full disk loses what it fetches. The pipeline asks
:meth:`SpaceGuard.low` before the crawl starts and for every page (a statvfs call each);
below the minimum (``ARCHIVER_MIN_FREE_MB``) it stops fetching, and the reserve left is
what the pages already in hand and the crawl-run row are written into.
"""

from __future__ import annotations

import errno
import shutil
import time
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError

#: SQLSTATE of PostgreSQL's "could not extend file: No space left on device".
_PG_DISK_FULL = "53100"


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite database URL, or None (a server database, or in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def free_bytes(path: Path) -> int:
    """Free bytes on the disk that holds ``path`` (or would, once it is created)."""
    path = path.absolute()
    for candidate in (path, *path.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return shutil.disk_usage("/").free


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error says the disk is full (retrying it only wastes the crawl's time)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        if getattr(orig, "sqlite_errorname", None) == "SQLITE_FULL":
            return True
        if getattr(orig, "sqlstate", None) == _PG_DISK_FULL:
            return True
        return "database or disk is full" in str(orig)
    return False


class SpaceGuard:
    """Says when a watched disk has less free space than the minimum."""

    def __init__(self, paths: dict[str, Path], minimum_bytes: int, interval: float = 0.0) -> None:
        #: What each path is ("the archive", "the spool"), for the message.
        self.paths = paths
        self.minimum = minimum_bytes
        self.interval = interval
        self._checked = float("-inf")
        self._low: str | None = None

    def low(self) -> str | None:
        """Why the crawl cannot go on keeping pages (free space under the minimum), or None.
        Looked at once per ``interval`` seconds at most; once low, it stays low."""
        if self.minimum <= 0 or self._low is not None:
            return self._low
        now = time.monotonic()
        if now - self._checked < self.interval:
            return None
        self._checked = now
        for what, path in self.paths.items():
            free = free_bytes(path)
            if free < self.minimum:
                self._low = (
                    f"{free / 2**20:.1f} MB free on the disk of {what} ({path}), below the "
                    f"minimum of {self.minimum / 2**20:.1f} MB (ARCHIVER_MIN_FREE_MB)"
                )
        return self._low
