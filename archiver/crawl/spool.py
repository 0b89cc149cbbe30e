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
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    #: The crawl run as the database that started it knew it (id, spider, started_at):
    #: tells it apart from another database's run of the same id. None in old spools.
    crawl_run: dict[str, Any] | None = None


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

    def __init__(self, path: str | Path, run: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        #: The crawl run's identity (:func:`run_identity`), written with every record.
        self.run = run
        self.count = 0
        self._fd: int | None = None
        #: A cut line could not be removed: the next record starts on a line of its own.
        self._cut = False
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
        """Append one record, or raise OSError (disk full, directory not writable) having
        written nothing: a partly written line is cut off again, so that it never glues
        itself to the next record."""
        record = {
            "format": SPOOL_FORMAT,
            "fetch": _fetch_to_dict(fetch),
            "article": article.to_dict() if article is not None else None,
            "outcome": outcome,
            "reason": reason,
            "crawl_run_id": crawl_run_id,
            "crawl_run": self.run if self.run and self.run.get("id") == crawl_run_id else None,
        }
        # ASCII: a lone surrogate in a hostile page's text is escaped, never unencodable.
        data = (json.dumps(record, default=str) + "\n").encode("ascii")
        with self._lock:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            size = os.fstat(self._fd).st_size
            try:
                view = memoryview(b"\n" + data if self._cut else data)
                while view:
                    view = view[os.write(self._fd, view):]
                os.fsync(self._fd)
            except OSError:
                try:
                    os.ftruncate(self._fd, size)
                except OSError:
                    self._cut = True  # replay sets the cut line aside
                raise
            self._cut = False
            self.count += 1

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class SpoolFormatError(Exception):
    """A spool file line that cannot be read back."""


@dataclass(slots=True)
class SpoolLine:
    """One line of a spool file: its record, or why it cannot be read."""

    number: int
    raw: bytes
    record: SpooledFetch | None = None
    error: str | None = None


def _parse(line: bytes) -> SpooledFetch:
    """A spool record from one line; ValueError (or KeyError, TypeError) says why not."""
    from archiver.storage.models import Outcome

    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON record ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise TypeError("not a JSON object")
    if record.get("format") != SPOOL_FORMAT:
        raise ValueError(f"unknown spool format {record.get('format')!r}")
    data = record.get("fetch")
    if not isinstance(data, dict):
        raise TypeError("no fetch in the record")
    for key in ("id", "url", "fetched_at"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ValueError(f"the fetch has no {key}")
    outcome = record.get("outcome")
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        raise ValueError(f"unknown outcome {outcome!r}")
    crawl_run_id = record.get("crawl_run_id")
    if crawl_run_id is not None and not isinstance(crawl_run_id, int):
        raise ValueError(f"crawl_run_id is not a number: {crawl_run_id!r}")
    run = record.get("crawl_run")
    if run is not None and not (
        isinstance(run, dict) and isinstance(run.get("spider"), str)
        and isinstance(run.get("started_at"), str)
    ):
        raise ValueError(f"crawl_run is not a crawl run: {run!r}")
    if run is not None:
        datetime.fromisoformat(run["started_at"])  # ValueError if not a time
    article = record.get("article")
    return SpooledFetch(
        fetch=_fetch_from_dict(data),
        article=Article.from_dict(article) if article else None,
        outcome=outcome,
        reason=record.get("reason"),
        crawl_run_id=crawl_run_id,
        crawl_run=run,
    )


def run_identity(session: Any, run_id: int) -> dict[str, Any]:
    """What tells crawl run ``run_id`` apart from another database's run of that id."""
    from sqlalchemy import select

    from archiver.storage import models

    row = session.execute(
        select(models.CrawlRun.spider, models.CrawlRun.started_at)
        .where(models.CrawlRun.id == run_id)
    ).one()
    return {"id": run_id, "spider": row.spider, "started_at": row.started_at.isoformat()}


def read_lines(path: str | Path) -> Iterator[SpoolLine]:
    """Every non-blank line of a spool file, read or with the reason it cannot be. A bad
    line (garbled, invalid UTF-8, truncated by a crash mid-write) never hides the others."""
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield SpoolLine(number, line, record=_parse(line))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                yield SpoolLine(number, line, error=str(exc) or type(exc).__name__)


def read_spool(path: str | Path) -> Iterator[SpooledFetch]:
    """The records of a spool file, in order.

    Raises:
        SpoolFormatError: at the first line that cannot be read.
    """
    for line in read_lines(path):
        if line.record is None:
            raise SpoolFormatError(f"{path}:{line.number}: unreadable spool record: {line.error}")
        yield line.record


@dataclass(slots=True)
class ReplayReport:
    records: int = 0
    #: Archived by this replay.
    loaded: int = 0
    #: Archived before (by the crawl, or an earlier replay): nothing written.
    already_present: int = 0
    #: Lines that could not be read or written, with their line numbers and reasons, in
    #: :attr:`rejects_path`.
    set_aside: int = 0
    rejects_path: Path | None = None
    #: Crawl runs of the spool that this database did not have: spool run id -> new id.
    runs_recreated: dict[int, int] = field(default_factory=dict)


class _Rejects:
    """The rejects file, made on the first rejected line: one JSON line per rejected spool
    line, with its line number, the reason and the line as it was."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None

    def add(self, line: SpoolLine, reason: str) -> None:
        if self._file is None:
            self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        entry = {"line": line.number, "reason": reason,
                 "raw": line.raw.rstrip(b"\n").decode("utf-8", "backslashreplace")}
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def rejects_path_for(path: str | Path) -> Path:
    """Where the lines of spool file ``path`` that could not be loaded are set aside."""
    return Path(f"{path}.rejects")


def replay(
    path: str | Path, database_url: str | None = None, rejects: str | Path | None = None
) -> ReplayReport:
    """Archive every fetch of a spool file that can be archived; set the others aside.

    Idempotent: a fetch already archived (by ``Fetch.id``) is counted and left alone, so
    replaying twice changes nothing. A line that cannot be read (garbled, invalid UTF-8,
    unknown outcome, no fetch id, ...) or that the database refuses is written to the
    rejects file (default: ``FILE.rejects``) with its line number and reason, and the
    rest loads. A crawl run the database does not have (a spool from another database, or
    a restored one) is recreated as a run of spider ``replay`` naming the spool's run id.

    Raises:
        StorageError: the database is unreachable, its schema is missing, or it went away
            during the replay (what was loaded stays loaded; replay again).
        OSError: the spool file cannot be read, or the rejects file written.
    """
    from sqlalchemy.exc import DBAPIError

    from archiver.storage.archive import Outcome, archive
    from archiver.storage.errors import is_transient
    from archiver.storage.session import (
        check_database,
        make_engine,
        make_sessionmaker,
        unreachable,
    )

    report = ReplayReport(rejects_path=Path(rejects) if rejects else rejects_path_for(path))
    set_aside = _Rejects(report.rejects_path)
    engine = make_engine(database_url)
    try:
        check_database(engine)
        Session = make_sessionmaker(engine)
        runs = _RunMap(Session, str(Path(path).resolve()), report.runs_recreated)
        for line in read_lines(path):
            report.records += 1
            record = line.record
            if record is None:
                set_aside.add(line, line.error or "unreadable")
                report.set_aside += 1
                continue
            try:
                with Session() as session:
                    result = archive(
                        session,
                        record.fetch,
                        record.article,
                        crawl_run_id=runs.get(record.crawl_run_id, record.crawl_run),
                        outcome=Outcome(record.outcome) if record.outcome else None,
                        reason=record.reason,
                    )
            except DBAPIError as exc:
                if is_transient(exc):
                    raise unreachable(engine.url.render_as_string(hide_password=False),
                                      exc) from exc
                first = str(exc.orig or exc).strip().splitlines()
                set_aside.add(line, "the database refused it: "
                              + (first[0] if first else type(exc).__name__))
                report.set_aside += 1
                continue
            except ValueError as exc:  # an outcome the versioning rule decides, ...
                set_aside.add(line, f"cannot be archived: {exc}")
                report.set_aside += 1
                continue
            if result.duplicate:
                report.already_present += 1
            else:
                report.loaded += 1
        return report
    finally:
        set_aside.close()
        engine.dispose()


class _RunMap:
    """The crawl run each spooled fetch belongs to in this database: its own, when the
    database has it (same id, and the same spider and start where the spool says them),
    else a copy made once (spider and start kept, status ``replayed``)."""

    def __init__(self, sessions: Any, path: str, recreated: dict[int, int]) -> None:
        self.sessions = sessions
        self.path = path
        self.recreated = recreated
        self.known: dict[int, int] = {}

    def get(self, run_id: int | None, identity: dict[str, Any] | None) -> int | None:
        if run_id is None:
            return None
        if run_id in self.known:
            return self.known[run_id]
        from sqlalchemy import select

        from archiver.storage import models

        CrawlRun = models.CrawlRun
        started = datetime.fromisoformat(identity["started_at"]) if identity else None
        spider = identity["spider"] if identity else "replay"
        tag = (f"run {run_id} of spider {spider} started at {identity['started_at']}"
               if identity else f"run {run_id} of {self.path}")
        with self.sessions() as session, session.begin():
            row = session.get(CrawlRun, run_id)
            if row is not None and (identity is None or (
                    row.spider == spider and row.started_at == started)):
                self.known[run_id] = run_id
                return run_id
            # Replayed before: the copy made then. Few candidates (same spider and start,
            # or spider "replay"); args is JSON, compared here.
            where = [CrawlRun.spider == spider, CrawlRun.status == "replayed"]
            if started is not None:
                where.append(CrawlRun.started_at == started)
            for found in session.execute(select(CrawlRun.id, CrawlRun.args).where(*where)):
                if (found.args or {}).get("replayed_crawl_run") == tag:
                    self.known[run_id] = found.id
                    return found.id
            now = datetime.now(UTC)
            copy = CrawlRun(
                spider=spider, args={"replayed_crawl_run": tag, "spool": self.path},
                started_at=started or now, finished_at=now, status="replayed",
                stats={"note": f"{tag}: not in this database, recreated to load the spool"},
            )
            session.add(copy)
            session.flush()
            new_id = copy.id
        self.recreated[run_id] = self.known[run_id] = new_id
        return new_id
