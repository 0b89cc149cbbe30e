"""The spool: fetched pages the database could not take, kept in a local file.

When the database stays unreachable, the pipeline appends every fetched-but-unwritten
page to a JSON-lines file (body base64-encoded, extracted article included) and the crawl
stops. ``archiver replay FILE`` archives them later; because :func:`archive` is
idempotent on ``Fetch.id``, replaying a file twice changes nothing.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver.extract import Article
from archiver.items import Fetch

SPOOL_FORMAT = 1


@dataclass(slots=True)
class SpooledFetch:
    fetch: Fetch
    article: Article | None
    outcome: str | None
    reason: str | None
    crawl_run_id: int | None


def _fetch_to_dict(fetch: Fetch) -> dict[str, Any]:
    return {
        "id": fetch.id,
        "url": fetch.url,
        "final_url": fetch.final_url,
        "status": fetch.status,
        "headers": fetch.headers,
        "body": base64.b64encode(fetch.body).decode("ascii") if fetch.body is not None else None,
        "fetched_at": fetch.fetched_at.isoformat(),
        "error": fetch.error,
        "meta": fetch.meta,
    }


def _fetch_from_dict(data: dict[str, Any]) -> Fetch:
    body = data.get("body")
    return Fetch(
        id=data["id"],
        url=data["url"],
        final_url=data.get("final_url"),
        status=data.get("status"),
        headers=data.get("headers") or {},
        body=base64.b64decode(body) if body is not None else None,
        fetched_at=datetime.fromisoformat(data["fetched_at"]),
        error=data.get("error"),
        meta=data.get("meta") or {},
    )


class SpoolWriter:
    """Appends spooled fetches to one file, durably (flushed and fsynced per record).

    Thread-safe; the file is created on the first write, so a crawl that never needed
    the spool leaves nothing behind.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0
        self._file: Any = None
        self._lock = threading.Lock()

    def write(
        self,
        fetch: Fetch,
        article: Article | None,
        *,
        outcome: str | None = None,
        reason: str | None = None,
        crawl_run_id: int | None = None,
    ) -> None:
        record = {
            "format": SPOOL_FORMAT,
            "fetch": _fetch_to_dict(fetch),
            "article": article.to_dict() if article is not None else None,
            "outcome": outcome,
            "reason": reason,
            "crawl_run_id": crawl_run_id,
        }
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())
            self.count += 1

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class SpoolFormatError(Exception):
    """A spool file line that cannot be read back."""


def read_spool(path: str | Path) -> Iterator[SpooledFetch]:
    """The records of a spool file, in order. A truncated last line (the process died
    mid-write) is reported, not silently dropped."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if record.get("format") != SPOOL_FORMAT:
                    raise ValueError(f"unknown spool format {record.get('format')!r}")
                article = record.get("article")
                yield SpooledFetch(
                    fetch=_fetch_from_dict(record["fetch"]),
                    article=Article.from_dict(article) if article else None,
                    outcome=record.get("outcome"),
                    reason=record.get("reason"),
                    crawl_run_id=record.get("crawl_run_id"),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise SpoolFormatError(f"{path}:{number}: unreadable spool record: {exc}") from exc


@dataclass(slots=True)
class ReplayReport:
    records: int = 0
    written: int = 0
    already_archived: int = 0


def replay(path: str | Path, database_url: str | None = None) -> ReplayReport:
    """Archive every fetch of a spool file. Idempotent: a fetch already archived (by
    ``Fetch.id``) is counted and left alone, so replaying twice changes nothing.

    Raises:
        StorageError: the database is unreachable or its schema is missing.
        SpoolFormatError: a record cannot be read (records before it are archived).
    """
    from archiver.storage.archive import Outcome, archive
    from archiver.storage.session import check_database, make_engine, make_sessionmaker

    engine = make_engine(database_url)
    try:
        check_database(engine)
        Session = make_sessionmaker(engine)
        report = ReplayReport()
        for record in read_spool(path):
            report.records += 1
            with Session() as session:
                result = archive(
                    session,
                    record.fetch,
                    record.article,
                    crawl_run_id=record.crawl_run_id,
                    outcome=Outcome(record.outcome) if record.outcome else None,
                    reason=record.reason,
                )
            if result.duplicate:
                report.already_archived += 1
            else:
                report.written += 1
        return report
    finally:
        engine.dispose()
