"""Nothing fetched is lost: a page is archived, spooled, or counted and reported as not
kept, and a crawl that could not keep pages exits non-zero with its run row saying why.

The full disk is a small tmpfs, mounted for the test (root only; skipped with the reason
elsewhere). The crawls run against SQLite, whose file is what fills the disk.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.crawl.conftest import crawl_command, crawl_env
from tests.crawl.mockserver import MockServer

ARTICLES = 150


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Any]:
    """``small_disk(size)``: a disk of its own, ``size`` as tmpfs takes it (``1m``)."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        disk = tmp_path / f"disk{len(mounted)}"
        disk.mkdir()
        try:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
                           check=True, capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or str(exc).encode()
            pytest.skip(f"cannot mount a small tmpfs here (needs root): "
                        f"{detail.decode().strip()}")
        mounted.append(disk)
        return disk

    yield mount
    for disk in mounted:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30, check=False)


def _crawl(server: MockServer, site, db_file: Path, spool: Path, cwd: Path,
           **settings: str) -> tuple[int, str]:
    proc = subprocess.run(
        crawl_command({"sitemap": server.sitemap_url(site)},
                      {"ARCHIVER_DB_RETRY_BACKOFF": "0.1", **settings}),
        env=crawl_env(f"sqlite:///{db_file}", spool), cwd=cwd,
        capture_output=True, text=True, timeout=300, check=False,
    )
    return proc.returncode, proc.stderr


def _accounted(log: str, spool: Path) -> tuple[int, int, int]:
    """(fetched, spooled lines, not kept) from the crawl's summary and its spool."""
    summary = next(l for l in reversed(log.splitlines()) if "Crawl run" in l)
    fetched = int(re.search(r"(\d+) fetched", summary).group(1))
    not_kept = re.search(r"(\d+) fetched pages NOT KEPT", summary)
    spooled = sum(len(f.read_bytes().splitlines()) for f in spool.glob("*.jsonl"))
    return fetched, spooled, int(not_kept.group(1)) if not_kept else 0


def _db_fetches(db_file: Path) -> int:
    import sqlite3

    with sqlite3.connect(db_file) as conn:
        return conn.execute("SELECT count(*) FROM fetches").fetchone()[0]


def _last_run(db_file: Path) -> tuple[str, dict]:
    import sqlite3

    with sqlite3.connect(db_file) as conn:
        status, stats = conn.execute(
            "SELECT status, stats FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    return status, json.loads(stats)


def test_disk_full_with_the_spool_on_it(server: MockServer, sqlite_template: Path,
                                        small_disk: Any, tmp_path: Path) -> None:
    site = server.new_site(n=ARTICLES, seed=31)
    disk = small_disk("1m")
    db_file = disk / "archive.db"
    shutil.copyfile(sqlite_template, db_file)
    spool = disk / "spool"
    code, log = _crawl(server, site, db_file, spool, tmp_path, ARCHIVER_MIN_FREE_MB="0")
    assert code == 74, log[-3000:]
    fetched, spooled, not_kept = _accounted(log, spool)
    assert not_kept > 0, log[-3000:]
    assert "neither the database nor the spool could take pages" in log
    # Every fetched page is archived, spooled or counted as not kept; the crawl stopped
    # fetching instead of going through the whole site.
    assert _db_fetches(db_file) + spooled + not_kept == fetched
    assert fetched < ARTICLES


def test_disk_full_with_the_spool_elsewhere(server: MockServer, sqlite_template: Path,
                                            small_disk: Any, tmp_path: Path) -> None:
    site = server.new_site(n=ARTICLES, seed=32)
    disk = small_disk("1m")
    db_file = disk / "archive.db"
    shutil.copyfile(sqlite_template, db_file)
    spool = tmp_path / "spool"
    code, log = _crawl(server, site, db_file, spool, tmp_path, ARCHIVER_MIN_FREE_MB="0")
    assert code == 75, log[-3000:]
    assert "its disk is full" in log
    fetched, spooled, not_kept = _accounted(log, spool)
    assert not_kept == 0 and spooled > 0
    assert _db_fetches(db_file) + spooled == fetched


def test_low_free_space_stops_the_crawl_with_the_pages_in_hand_kept(
        server: MockServer, sqlite_template: Path, small_disk: Any, tmp_path: Path) -> None:
    site = server.new_site(n=ARTICLES, seed=33)
    disk = small_disk("4m")
    db_file = disk / "archive.db"
    shutil.copyfile(sqlite_template, db_file)
    spool = disk / "spool"
    # SQLite's write-ahead log grows by a few pages per archived fetch: the reserve holds
    # the pages in hand when the crawl stops.
    code, log = _crawl(server, site, db_file, spool, tmp_path, ARCHIVER_MIN_FREE_MB="2.5")
    assert code == 74, log[-3000:]
    fetched, spooled, not_kept = _accounted(log, spool)
    assert not_kept == 0 and 0 < fetched < ARTICLES, log[-3000:]
    assert _db_fetches(db_file) + spooled == fetched
    status, stats = _last_run(db_file)
    assert status == "disk_space_low"
    assert "ARCHIVER_MIN_FREE_MB" in stats["stopped_because"]


def test_too_little_free_space_fetches_nothing(server: MockServer, sqlite_template: Path,
                                              small_disk: Any, tmp_path: Path) -> None:
    site = server.new_site(n=5, seed=34)
    disk = small_disk("1m")
    db_file = disk / "archive.db"
    shutil.copyfile(sqlite_template, db_file)
    code, log = _crawl(server, site, db_file, tmp_path / "spool", tmp_path,
                       ARCHIVER_MIN_FREE_MB="1")
    assert code == 74, log[-3000:]
    assert not [p for p in server.requests_for(site.prefix) if p.endswith(".html")]
    status, stats = _last_run(db_file)
    assert status == "disk_space_low" and stats["fetched"] == 0


def _html_fetch_rows(db_file: Path) -> int:
    import sqlite3

    with sqlite3.connect(db_file) as conn:
        return conn.execute("SELECT count(*) FROM fetches WHERE url LIKE '%.html'").fetchone()[0]


def test_kill_9_loses_at_most_the_pages_in_hand(server: MockServer, sqlite_url: str,
                                               tmp_path: Path) -> None:
    in_hand = 4
    site = server.new_site(n=120, seed=35)
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    proc = subprocess.Popen(
        crawl_command({"sitemap": server.sitemap_url(site)},
                      # Downloads outrun one extraction worker: without the bound,
                      # pages pile up between the downloader and the archive.
                      {"ARCHIVER_MAX_PAGES_IN_HAND": str(in_hand),
                       "ARCHIVER_EXTRACT_WORKERS": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "32"}),
        env=crawl_env(sqlite_url, tmp_path / "spool"), cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while _html_fetch_rows(db_file) < 40:
            assert proc.poll() is None and time.monotonic() < deadline, "crawl ended too early"
            time.sleep(0.05)
    finally:
        proc.kill()  # SIGKILL: nothing runs after it
        proc.wait(timeout=60)
    served = len([p for p in server.requests_for(site.prefix) if p.endswith(".html")])
    recorded = _html_fetch_rows(db_file)
    assert recorded < 120  # killed mid-crawl
    assert served - recorded <= in_hand


def test_sigterm_ends_the_crawl_while_database_writes_wait_to_retry(
        server: MockServer, pg_url: str, tmp_path: Path) -> None:
    from sqlalchemy import make_url

    from tests.crawl.test_database_down import _admin

    site = server.new_site(n=40, seed=36)
    name = make_url(pg_url).database
    spool = tmp_path / "spool"
    server.delay = 0.1
    lines: list[str] = []
    try:
        # Retries that would wait minutes: 2 + 4 + ... + 256 seconds.
        proc = subprocess.Popen(
            crawl_command({"sitemap": server.sitemap_url(site)},
                          {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "ARCHIVER_DB_RETRY_TIMES": "8",
                           "ARCHIVER_DB_RETRY_BACKOFF": "2"}),
            env=crawl_env(pg_url, spool), cwd=tmp_path,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while len([p for p in server.requests_for(site.prefix) if p.endswith(".html")]) < 6:
            assert proc.poll() is None and time.monotonic() < deadline, "crawl ended too early"
            time.sleep(0.05)
        _admin(pg_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        _admin(pg_url, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       f"WHERE datname = '{name}'")
        while not any("Database write failed" in l for l in list(lines)):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)[-3000:]
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)  # far less than the retries would wait
        reader.join(timeout=30)
        proc.stderr.close()
    finally:
        server.delay = 0.0
        _admin(pg_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    log = "".join(lines)
    assert proc.returncode == 75, log[-3000:]
    summary = next(l for l in reversed(log.splitlines()) if "Crawl run" in l)
    assert "fetches spooled to" in summary and "NOT KEPT" not in summary
    assert sum(len(f.read_bytes().splitlines()) for f in spool.glob("*.jsonl")) > 0
