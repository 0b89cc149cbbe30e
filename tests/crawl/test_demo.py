"""The README's first Quickstart command: `archiver demo`, offline, into a temporary
SQLite file (never the configured archive)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path


def test_demo_archives_site_and_shows_the_correction(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "archiver.cli", "demo"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        # A configured archive is not where the demo writes (only --database-url is).
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path),
             "TMPDIR": str(tmp_path / "tmp"),
             "ARCHIVER_DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Crawl run 2 finished" in done.stdout
    assert "+++ after" in done.stdout and "Correction:" in done.stdout
    where = re.search(r"^Archive: (\S+), a new SQLite file for the demo", done.stdout, re.M)
    assert where, done.stdout
    demo_db = Path(where.group(1))
    assert demo_db.parent.parent == tmp_path / "tmp"
    assert f"sqlite3 {demo_db} " in done.stdout  # how to query it
    assert not (tmp_path / "production.db").exists() and not (tmp_path / "archive.db").exists()
    with sqlite3.connect(demo_db) as db:
        counts = db.execute(
            "SELECT version_count, count(*) FROM article_latest GROUP BY version_count"
        ).fetchall()
        outcomes = dict(db.execute(
            "SELECT outcome, count(*) FROM fetch_log WHERE crawl_run_id = 2 "
            "AND outcome IN ('new_version', 'unchanged', 'new_article') GROUP BY outcome"
        ).fetchall())
    # Six articles; the chrome churned on every page, only the corrected one changed.
    assert sorted(counts) == [(1, 5), (2, 1)]
    assert outcomes == {"new_version": 1, "unchanged": 5}
