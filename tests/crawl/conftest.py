"""Fixtures for crawl tests: the loopback server, and real crawls in a subprocess.

A Twisted reactor cannot be restarted in one process, so each crawl is
``python -m scrapy crawl news ...`` in a subprocess, exactly as a user runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from archiver.storage.session import make_engine
from tests.crawl.mockserver import MockServer

REPO = Path(__file__).resolve().parents[2]

#: Loopback needs no politeness delays; retries wait a tenth of a second, not seconds.
FAST = {
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "ARCHIVER_RETRY_BACKOFF": "0.1",
    "ARCHIVER_EXTRACT_WORKERS": "2",
    "DOWNLOAD_MAXSIZE": str(1024 * 1024),
    "DOWNLOAD_WARNSIZE": "0",
    "LOG_LEVEL": "INFO",
}


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    srv = MockServer().start()
    assert isinstance(srv, MockServer)
    yield srv
    srv.stop()


@dataclass
class CrawlResult:
    returncode: int
    log: str

    @property
    def summary(self) -> str:
        return next((l for l in reversed(self.log.splitlines()) if "Crawl run" in l), "")


def wait_for(predicate: Any, what: str, timeout: float = 60.0) -> Any:
    """Poll ``predicate`` until it returns something true, and return that; fail the
    test, naming ``what``, after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def crawl_command(args: dict[str, str], settings: dict[str, str] | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news"]
    for name, value in args.items():
        cmd += ["-a", f"{name}={value}"]
    for name, value in {**FAST, **(settings or {})}.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def crawl_env(db_url: str, spool_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ARCHIVER_DATABASE_URL=db_url,
        ARCHIVER_SPOOL_DIR=str(spool_dir),
        SCRAPY_SETTINGS_MODULE="archiver.settings",
        **extra,
    )
    return env


@pytest.fixture
def crawl(tmp_path: Path) -> Any:
    """``crawl(db_url, sitemap=..., settings={...})``: one whole crawl, to completion."""

    def run(db_url: str, settings: dict[str, str] | None = None, **args: str) -> CrawlResult:
        proc = subprocess.run(
            crawl_command(args, settings),
            env=crawl_env(db_url, tmp_path / "spool"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return CrawlResult(proc.returncode, proc.stderr)

    return run


class Archive:
    """Read-only questions about an archive, in SQL over the documented views/tables."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def outcomes(self, run_id: int | None = None) -> dict[str, int]:
        where = "WHERE crawl_run_id = :run" if run_id is not None else ""
        return {
            r.outcome: r.n
            for r in self.rows(
                f"SELECT outcome, count(*) AS n FROM fetch_log {where} GROUP BY outcome",
                run=run_id,
            )
        }

    def last_run(self) -> int:
        return self.scalar("SELECT max(id) FROM crawl_runs")

    def fetch(self, url: str, run_id: int | None = None) -> Any:
        """The last fetch row of a URL (in a run)."""
        sql = "SELECT * FROM fetches WHERE url = :url"
        if run_id is not None:
            sql += " AND crawl_run_id = :run"
        rows = self.rows(sql + " ORDER BY id DESC", url=url, run=run_id)
        assert rows, f"no fetch row for {url}"
        return rows[0]

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def archive_of() -> Iterator[Any]:
    opened: list[Archive] = []

    def make(url: str) -> Archive:
        a = Archive(url)
        opened.append(a)
        return a

    yield make
    for a in opened:
        a.close()
