"""Nothing fetched is lost: a page is archived, spooled, or counted and reported as not
kept, and a crawl that could not keep pages exits non-zero with its run row saying why.

The full disk is a small tmpfs, mounted for the test (root only; skipped with the reason
elsewhere). The crawls run against SQLite, whose file is what fills the disk.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
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
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)


def _crawl(server: MockServer, site, db_file: Path, spool: Path, cwd: Path,  # noqa: ANN001
           **settings: str) -> tuple[int, str]:
    proc = subprocess.run(
        crawl_command({"sitemap": server.sitemap_url(site)},
                      {"ARCHIVER_DB_RETRY_BACKOFF": "0.1", **settings}),
        env=crawl_env(f"sqlite:///{db_file}", spool), cwd=cwd,
        capture_output=True, text=True, timeout=300,
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
