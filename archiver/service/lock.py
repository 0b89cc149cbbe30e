"""One crawl per job at a time: a lock named after the job, freed when its holder dies.

On PostgreSQL, a session advisory lock (``pg_try_advisory_lock``) on a 64-bit hash of
the job name, held on a connection of its own for the crawl's life: the server frees it
when the connection ends, however the process ended. On SQLite, ``flock`` on a file in
``<archive>.locks/`` next to the database: the kernel frees it when the process dies.
Neither can be left behind by a ``kill -9``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from pathlib import Path

from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.pool import NullPool

from archiver.crawl.diskspace import sqlite_file
from archiver.storage.session import make_engine


def lock_key(job: str) -> int:
    """The signed 64-bit key of a job's advisory lock."""
    return int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big", signed=True)


def lock_file(database_url: str, job: str) -> Path | None:
    """Where an SQLite archive's lock for ``job`` lives (None: a server database)."""
    db = sqlite_file(database_url)
    if db is None:
        return None
    return db.parent / f"{db.name}.locks" / f"{lock_key(job) & 0xFFFFFFFFFFFFFFFF:016x}.lock"


class JobLock:
    """A held job lock. :meth:`try_acquire` returns one, or None when another holds it."""

    def __init__(self, job: str, engine: Engine | None = None, conn: Connection | None = None,
                 fd: int | None = None) -> None:
        self.job = job
        self._engine = engine
        self._conn = conn
        self._fd = fd

    @classmethod
    def try_acquire(cls, database_url: str, job: str) -> JobLock | None:
        """Take ``job``'s lock without waiting; None if another process holds it."""
        if make_url(database_url).get_backend_name() == "postgresql":
            engine = make_engine(database_url, poolclass=NullPool)
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                taken = conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(job)}
                ).scalar()
            except BaseException:
                conn.close()
                engine.dispose()
                raise
            if not taken:
                conn.close()
                engine.dispose()
                return None
            return cls(job, engine=engine, conn=conn)
        path = lock_file(database_url, job)
        if path is None:
            return cls(job)  # an in-memory database: one process sees it
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        # Who holds it, for a person looking at the file; the lock is the flock itself.
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"job": job, "pid": os.getpid(),
                                 "host": socket.gethostname()}).encode() + b"\n")
        return cls(job, fd=fd)

    def release(self) -> None:
        """Free the lock (also freed when the process or its connection ends)."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": lock_key(self.job)})
            finally:
                self._conn.close()
                self._conn = None
                if self._engine is not None:
                    self._engine.dispose()
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor frees the flock
            self._fd = None


def lock_held(database_url: str, job: str) -> bool | None:
    """Whether some session holds ``job``'s advisory lock (PostgreSQL), looked up in
    ``pg_locks`` without taking it; None on SQLite, where only the holder's host can tell
    (by its pid)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return None
    key = lock_key(job) & 0xFFFFFFFFFFFFFFFF
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            # A bigint advisory key is split into classid (high) and objid (low 32 bits); the
            # lock belongs to one database (tests share a server).
            return bool(conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                     "AND objsubid = 1 AND classid::bigint = :hi AND objid::bigint = :lo "
                     "AND database = (SELECT oid FROM pg_database "
                     "WHERE datname = current_database())"),
                {"hi": key >> 32, "lo": key & 0xFFFFFFFF},
            ).scalar())
    finally:
        engine.dispose()
