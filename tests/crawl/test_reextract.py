"""`archiver reextract`: archives made by real crawls of the loopback server, read again."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from archiver.crawl.extractors import Readers
from archiver.ops.reextract import reextract
from tests.crawl.conftest import REPO
from tests.crawl.mockserver import MockServer
from tests.crawl.plugged import EXTRACTOR_VERSION
from tests.crawl.test_upgrade import UPGRADED, plugged_crawl  # noqa: F401 - fixture

BUILTIN = Readers()


def test_articles_missed_by_the_crawl_are_recovered_once(
    server: MockServer, db_url: str, plugged_crawl: Any, archive_of: Any  # noqa: F811
) -> None:
    site = server.new_site(n=12, seed=21)
    archive = archive_of(db_url)
    done = plugged_crawl(db_url, extractor="tests.crawl.plugged:misses_a_third",
                         sitemap=server.sitemap_url(site))
    assert done.returncode == 0, done.log[-3000:]
    missed = archive.rows(
        "SELECT url, fetched_at, reason, raw_capture_id FROM fetches "
        "WHERE outcome = 'not_article' AND kind = 'article'"
    )
    assert 1 <= len(missed) <= 11
    assert all(m.raw_capture_id is not None and "found no article" in m.reason for m in missed)
    # The sitemap, a listing fetched for its links, is not kept.
    assert archive.scalar(
        "SELECT count(*) FROM fetches WHERE kind = 'sitemap' AND raw_capture_id IS NOT NULL"
    ) == 0

    dry = reextract(db_url, readers=BUILTIN, dry_run=True, workers=2)
    assert dry.totals["recovered"] == len(missed)
    assert archive.scalar("SELECT count(*) FROM articles") == 12 - len(missed)

    first = reextract(db_url, readers=BUILTIN, workers=2)
    assert first.totals["recovered"] == len(missed) and not first.interrupted
    rows = archive.rows("SELECT url, version_count, last_changed_at FROM article_latest")
    assert len(rows) == 12 and {r.version_count for r in rows} == {1}
    captured = dict(archive.rows("SELECT url, captured_at FROM article_versions"))
    for m in missed:
        assert captured[m.url] == m.fetched_at  # its first version dated at that fetch

    again = reextract(db_url, readers=BUILTIN, workers=2)
    assert again.totals["read"] == 0  # idempotent: nothing left to read


def test_upgrade_reextract_dry_run_interrupt_resume_idempotent(
    server: MockServer, db_url: str, plugged_crawl: Any, archive_of: Any  # noqa: F811
) -> None:
    site = server.new_site(n=10, seed=22)
    archive = archive_of(db_url)
    assert plugged_crawl(db_url, sitemap=server.sitemap_url(site)).returncode == 0
    before = archive.rows("SELECT url, title, text FROM article_latest ORDER BY url")
    upgraded = Readers(UPGRADED)

    dry = reextract(db_url, readers=upgraded, dry_run=True, workers=2)
    changed = dry.totals["metadata_changed"]
    assert dry.totals["read"] == 10, (dry.totals, archive.outcomes(),
                                      archive.rows("SELECT url, outcome, reason FROM fetch_log"))
    assert 2 <= changed <= 8
    assert dry.totals["unchanged"] == 10 - changed
    [examples] = dry.examples.values()
    assert examples and all("(full headline)" in e.diff for e in examples)
    assert archive.rows("SELECT url, title, text FROM article_latest ORDER BY url") == before
    assert archive.scalar("SELECT count(*) FROM readings") == 0

    def stop_after_first_batch(done: int) -> None:
        raise KeyboardInterrupt

    stopped = reextract(db_url, readers=upgraded, workers=2, batch_size=3,
                        progress=stop_after_first_batch)
    assert stopped.interrupted and stopped.totals["read"] == 3
    assert archive.scalar("SELECT count(*) FROM readings") == 3  # the batch is committed

    rest = reextract(db_url, readers=upgraded, workers=2, batch_size=3)
    assert not rest.interrupted and rest.totals["read"] == 7
    assert archive.scalar("SELECT count(*) FROM readings") == 10
    assert archive.scalar(
        "SELECT count(*) FROM article_latest WHERE extractor_version = :v", v=EXTRACTOR_VERSION
    ) == 10
    assert archive.scalar(
        "SELECT count(*) FROM article_latest WHERE title LIKE '%(full headline)'") == changed

    again = reextract(db_url, readers=upgraded, workers=2)
    assert again.totals["read"] == 0
    assert archive.scalar("SELECT count(*) FROM version_readings") == 20

    # The next crawl with the upgraded extractor finds every reading up to date.
    site.state = 2
    crawl = plugged_crawl(db_url, extractor=UPGRADED, sitemap=server.sitemap_url(site))
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert archive.outcomes(archive.last_run()).get("new_version", 0) == 0
    assert "archiver/reread" not in crawl.log


@pytest.mark.postgres
def test_two_runs_at_once_never_both_rewrite(
    server: MockServer, pg_url: str, plugged_crawl: Any, archive_of: Any  # noqa: F811
) -> None:
    """On PostgreSQL, where two writers really run at once (SQLite serialises them)."""
    db_url = pg_url
    site = server.new_site(n=8, seed=23)
    archive = archive_of(db_url)
    assert plugged_crawl(db_url, sitemap=server.sitemap_url(site)).returncode == 0
    reports: list[Any] = []

    def run() -> None:
        reports.append(reextract(db_url, readers=Readers(UPGRADED), workers=1, batch_size=2))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert archive.scalar("SELECT count(*) FROM readings") == 8  # one old reading each
    written = sum(r.totals["unchanged"] + r.totals["metadata_changed"] for r in reports)
    skipped = sum(r.totals["skipped"] for r in reports)
    assert written + skipped == sum(r.totals["read"] for r in reports)
    assert written == 8  # each version rewritten by exactly one run


def test_command_line_dry_run_and_bad_extractor(
    server: MockServer, sqlite_url: str, plugged_crawl: Any, tmp_path: Any  # noqa: F811
) -> None:
    site = server.new_site(n=4, seed=24)
    assert plugged_crawl(sqlite_url, sitemap=server.sitemap_url(site)).returncode == 0
    env = {"PATH": str(REPO / ".venv" / "bin"), "PYTHONPATH": str(REPO),
           "ARCHIVER_DATABASE_URL": sqlite_url, "ARCHIVER_EXTRACTOR": UPGRADED}

    def cli(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "archiver.cli", "reextract", *args],
                              cwd=tmp_path, env={**env, **extra}, capture_output=True,
                              text=True, timeout=300)

    dry = cli("--dry-run", "--workers", "2")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("Dry run (nothing written): 4 captures read")
    assert "\n  127.0.0.1:" in dry.stdout and "(full headline)" in dry.stdout
    assert dry.stderr == ""  # no progress bar when stderr is not a terminal

    bad = cli(ARCHIVER_EXTRACTOR="no.such.module:extract")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "archiver: error: ARCHIVER_EXTRACTOR: extractor 'no.such.module:extract': module "
        "'no.such.module' does not import: ModuleNotFoundError: No module named 'no'"
    ]
