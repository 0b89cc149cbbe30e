"""The database goes away mid-crawl: retries, then a spool file, a non-zero exit, and an
idempotent `archiver replay`.

PostgreSQL only: a server can be stopped under a running crawl (here: connections
refused and the crawl's sessions killed). An SQLite file has no server to stop; a writer
that finds it locked waits out the busy timeout instead.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import psycopg
from sqlalchemy import make_url

from tests.crawl.conftest import crawl_command, crawl_env
from tests.crawl.mockserver import MockServer


def _admin(pg_url: str, sql: str) -> None:
    admin = make_url(pg_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(sql)


def test_database_stopped_mid_crawl_then_replayed(server: MockServer, pg_url, tmp_path, archive_of):
    site = server.new_site(n=40, seed=8)
    name = make_url(pg_url).database
    spool = tmp_path / "spool"
    server.delay = 0.15  # slow pages, so that the database can go away mid-crawl
    try:
        proc = subprocess.Popen(
            crawl_command(
                {"sitemap": server.sitemap_url(site)},
                {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "ARCHIVER_DB_RETRY_TIMES": "2",
                 "ARCHIVER_DB_RETRY_BACKOFF": "0.2"},
            ),
            env=crawl_env(pg_url, spool), cwd=tmp_path,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120
        while len([p for p in server.requests_for(site.prefix) if p.endswith(".html")]) < 8:
            assert proc.poll() is None and time.monotonic() < deadline, "crawl ended too early"
            time.sleep(0.05)
        # Stop the database: refuse new connections, kill the crawl's sessions.
        _admin(pg_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        _admin(pg_url, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       f"WHERE datname = '{name}'")
        log = proc.communicate(timeout=180)[1]
    finally:
        server.delay = 0.0
    assert proc.returncode == 75, log[-3000:]
    summary = next(l for l in reversed(log.splitlines()) if "Crawl run" in l)
    assert "database_unavailable" in summary and "archiver replay" in summary
    fetched = int(re.search(r"(\d+) fetched", summary).group(1))
    files = sorted(spool.glob("*.jsonl"))
    assert len(files) == 1 and files[0].stat().st_size > 0

    _admin(pg_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    archive = archive_of(pg_url)
    before = archive.scalar("SELECT count(*) FROM fetches")
    assert before < fetched  # some pages were only in the spool

    def replay() -> str:
        out = subprocess.run(
            [sys.executable, "-m", "archiver.cli", "--database-url", pg_url, "replay", str(files[0])],
            capture_output=True, text=True, timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    first = replay()
    # Every fetched page is in the archive now: written during the crawl or replayed.
    assert archive.scalar("SELECT count(*) FROM fetches") == fetched
    spooled = int(re.search(r"(\d+) spooled fetches", first).group(1))
    assert f"{spooled} loaded, 0 already present, 0 set aside" in first
    counts = (archive.scalar("SELECT count(*) FROM fetches"),
              archive.scalar("SELECT count(*) FROM versions"),
              archive.scalar("SELECT count(*) FROM articles"))
    second = replay()
    assert f"0 loaded, {spooled} already present, 0 set aside" in second
    assert counts == (archive.scalar("SELECT count(*) FROM fetches"),
                      archive.scalar("SELECT count(*) FROM versions"),
                      archive.scalar("SELECT count(*) FROM articles"))
    # No article got two versions out of one page.
    assert archive.scalar("SELECT max(version_count) FROM article_latest") == 1
