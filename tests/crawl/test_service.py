"""Running the archive as a service: one crawl per job, runs that tell the truth, the
scheduler and ``archiver status`` (archiver/service/).

Crawls are real ``scrapy crawl news`` subprocesses against the loopback server. A crawl
that must still be running while another starts is slowed by ``DOWNLOAD_DELAY`` and
stopped once it has served its purpose.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archiver.cli import main as archiver_main
from archiver.service.jobs import JobsError, job_arguments, job_name, load_jobs, parse_interval
from tests.crawl.conftest import FAST, crawl_command, crawl_env, wait_for
from tests.crawl.mockserver import MockServer

#: A crawl of 30 pages that lasts long enough for others to start beside it.
SLOW = {"DOWNLOAD_DELAY": "0.5", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}


def _start(db_url: str, tmp_path: Path, settings: dict[str, str] | None = None,
           **args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        crawl_command(args, settings), env=crawl_env(db_url, tmp_path / "spool"), cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )



def _runs(archive: Any) -> list[Any]:
    return archive.rows("SELECT id, status, job, stats, pid FROM crawl_runs ORDER BY id")


def _stats(row: Any) -> dict[str, Any]:
    return row.stats if isinstance(row.stats, dict) else json.loads(row.stats)


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# --- jobs ---------------------------------------------------------------------------------


def test_a_job_is_its_normalised_arguments() -> None:
    assert job_name({"source": "b,a", "limit": 5}) == job_name({"source": ["a", "b"]})
    assert job_name({"source": "a"}) == "source=a"
    assert job_name({"revisit": "due", "site": ["Example.com"]}) == "revisit=due site=example.com"
    assert job_name({"sitemap": "HTTP://Example.com/s.xml?utm_source=x"}) == (
        "sitemap=http://example.com/s.xml"
    )
    assert job_arguments("revisit=due site=example.com") == {"revisit": "due",
                                                             "site": "example.com"}


def test_intervals() -> None:
    assert parse_interval("30m") == timedelta(minutes=30)
    assert parse_interval("1h30m") == timedelta(minutes=90)
    assert parse_interval(" 2d ") == timedelta(days=2)
    for bad in ("30", "soon", "0m", "", "1h-5m", 30):
        with pytest.raises(JobsError, match="is not an interval"):
            parse_interval(bad)


def test_jobs_come_from_sources_and_a_malformed_interval_is_named(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "a"\nurls = ["https://a.example/x"]\nevery = "30m"\n'
                       '[[source]]\nname = "b"\nurls = ["https://b.example/x"]\n')
    jobs = load_jobs(sources, "5m")
    assert [(j.name, j.every) for j in jobs] == [
        ("source=a", timedelta(minutes=30)), ("revisit=due", timedelta(minutes=5))]
    assert [j.name for j in load_jobs(sources, "off")] == ["source=a"]
    sources.write_text('[[source]]\nname = "a"\nurls = ["https://a.example/x"]\n'
                       'every = "half an hour"\n')
    with pytest.raises(JobsError, match=r"source 'a': every: 'half an hour' is not an interval"):
        load_jobs(sources, "5m")


# --- one job at a time --------------------------------------------------------------------


def test_the_same_job_twice_is_skipped_and_other_jobs_overlap(
    db_url: str, server: MockServer, archive_of: Any, tmp_path: Path
) -> None:
    site, other = server.new_site(n=30, seed=3), server.new_site(n=3, seed=4)
    archive = archive_of(db_url)
    first = _start(db_url, tmp_path, SLOW, sitemap=server.sitemap_url(site))
    try:
        wait_for(lambda: archive.scalar("SELECT count(*) FROM crawl_runs"), "the first run")
        holder = archive.last_run()
        # The same job (the same URL written differently) and another job, together.
        same = _start(db_url, tmp_path, sitemap=server.sitemap_url(site) + "?utm_source=x")
        different = _start(db_url, tmp_path, sitemap=server.sitemap_url(other))
        same_log = same.communicate(timeout=120)[1]
        different_log = different.communicate(timeout=120)[1]
        assert same.returncode == 4, same_log[-3000:]
        assert different.returncode == 0, different_log[-3000:]
        # The first crawl was still running all along: the jobs overlapped.
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    runs = {r.id: r for r in _runs(archive)}
    skipped = [r for r in runs.values() if r.status == "skipped"]
    assert len(skipped) == 1, runs
    assert _stats(skipped[0])["held_by"] == holder
    assert skipped[0].job == runs[holder].job
    assert archive.scalar("SELECT count(*) FROM fetches WHERE crawl_run_id = :r",
                          r=skipped[0].id) == 0
    line = next(l for l in same_log.splitlines() if "skipped" in l and "Crawl run" in l)
    assert f"crawl run {holder} (pid" in line and "already running" in line
    finished = [r for r in runs.values() if r.status == "finished"]
    assert len(finished) == 1 and _stats(finished[0])["new_articles"] == 3


# --- runs that tell the truth -------------------------------------------------------------


def test_a_killed_crawl_is_abandoned_and_its_workers_die_with_it(
    sqlite_url: str, server: MockServer, archive_of: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = server.new_site(n=30, seed=5)
    archive = archive_of(sqlite_url)
    crawl = _start(sqlite_url, tmp_path, SLOW, sitemap=server.sitemap_url(site))
    wait_for(lambda: archive.scalar("SELECT count(*) FROM fetches"), "a first fetch")
    workers = wait_for(lambda: len(_descendants(crawl.pid)) >= 2 and _descendants(crawl.pid),
                        "the extraction workers")
    crawl.kill()
    crawl.communicate(timeout=30)
    wait_for(lambda: not any(_alive(p) for p in workers), "the workers to end", timeout=30)
    assert archive.scalar("SELECT status FROM crawl_runs") == "running"  # nothing ran after

    assert archiver_main(["--database-url", sqlite_url, "status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    job = next(j for j in report["jobs"] if j["job"].startswith("sitemap="))
    assert job["last_run"]["status"] == "abandoned"
    assert archive.scalar("SELECT status FROM crawl_runs") == "abandoned"
    # The lock died with the process: the same job runs again at once.
    again = subprocess.run(
        crawl_command({"sitemap": server.sitemap_url(site)}),
        env=crawl_env(sqlite_url, tmp_path / "spool"), cwd=tmp_path, capture_output=True,
        text=True, timeout=300, check=False,
    )
    assert again.returncode == 0, again.stderr[-3000:]


def test_a_forced_shutdown_spools_the_pages_in_hand_and_exits_130(
    sqlite_url: str, server: MockServer, archive_of: Any, tmp_path: Path
) -> None:
    site = server.new_site(n=30, seed=6)
    archive = archive_of(sqlite_url)
    crawl = _start(sqlite_url, tmp_path, {**SLOW, "DOWNLOAD_DELAY": "0.2"},
                   sitemap=server.sitemap_url(site))
    wait_for(lambda: archive.scalar("SELECT count(*) FROM fetches") >= 3, "some fetches")
    crawl.send_signal(signal.SIGINT)
    time.sleep(0.3)  # not a measurement: the second Ctrl-C comes after the first
    crawl.send_signal(signal.SIGINT)
    log = crawl.communicate(timeout=60)[1]
    assert crawl.returncode == 130, log[-3000:]
    run = _runs(archive)[-1]
    assert run.status == "interrupted"
    assert "Traceback" not in log
    # Every page fetched is archived or in the spool: nothing lost.
    spooled = list((tmp_path / "spool").glob("*.jsonl"))
    in_spool = sum(len(p.read_text().splitlines()) for p in spooled)
    assert _stats(run)["spooled"] == in_spool
    assert _stats(run)["not_kept"] == 0
    archived = {r.url for r in archive.rows("SELECT url FROM fetches WHERE crawl_run_id = :r",
                                             r=run.id)}
    spooled_urls = {json.loads(line)["fetch"]["url"]
                    for p in spooled for line in p.read_text().splitlines()}
    assert len(archived | spooled_urls) == _stats(run)["fetched"]


# --- the scheduler and the status -------------------------------------------------------


def _schedule_once(db_url: str, sources: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "archiver.cli", "--database-url", db_url, "schedule", "--once",
           "--sources", str(sources), "--log-dir", str(tmp_path / "logs")]
    for name, value in FAST.items():
        cmd += ["-s", f"{name}={value}"]
    env = dict(os.environ, ARCHIVER_REVISIT_EVERY="5m", ARCHIVER_SPOOL_DIR=str(tmp_path / "spool"))
    return subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)


def test_schedule_once_runs_what_is_due_and_then_nothing(
    sqlite_url: str, server: MockServer, archive_of: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    one, two = server.new_site(n=3, seed=7), server.new_site(n=4, seed=8)
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "one"\ndomains = ["127.0.0.1"]\n'
        f'sitemaps = ["{server.sitemap_url(one)}"]\nevery = "30m"\n'
        f'[[source]]\nname = "two"\ndomains = ["127.0.0.1"]\n'
        f'sitemaps = ["{server.sitemap_url(two)}"]\nevery = "1h"\n'
        f'[[source]]\nname = "by-hand"\ndomains = ["127.0.0.1"]\n'
        f'sitemaps = ["{server.sitemap_url(two)}"]\n'
    )
    archive = archive_of(sqlite_url)
    first = _schedule_once(sqlite_url, sources, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    runs = {r.job: r for r in _runs(archive)}
    assert set(runs) == {"source=one", "source=two", "revisit=due"}
    assert {r.status for r in runs.values()} == {"finished"}
    assert _stats(runs["source=one"])["new_articles"] == 3
    assert _stats(runs["source=two"])["new_articles"] == 4
    for job, run in runs.items():
        assert f"job {job}: started" in first.stderr
        assert f"job {job}: ended, exit status 0, run {run.id} finished" in first.stderr

    again = _schedule_once(sqlite_url, sources, tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing is due (3 jobs)" in again.stderr
    assert len(_runs(archive)) == 3

    assert archiver_main(["--database-url", sqlite_url, "status", "--sources", str(sources),
                          "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    jobs = {j["job"]: j for j in report["jobs"]}
    assert jobs["source=one"]["every"] == 1800
    assert jobs["source=one"]["last_run"]["counts"]["new_articles"] == 3
    assert jobs["source=one"]["next_due"] > report["at"]
    assert report["failing"] == []
    assert report["revisits_due"] == 0
    assert sum(s["fetches"] for s in report["sites"]) == 7


def test_status_exits_1_when_a_job_keeps_failing(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from archiver.storage import models
    from archiver.storage.session import make_engine, make_sessionmaker

    engine = make_engine(sqlite_url)
    at = datetime.now(UTC)
    with make_sessionmaker(engine)() as session, session.begin():
        for i, status in enumerate(["failed", "finished", "failed", "skipped", "failed",
                                    "abandoned"]):
            session.add(models.CrawlRun(
                spider="news", args={"source": ["a"]}, job="source=a", status=status,
                started_at=at - timedelta(hours=6 - i), finished_at=at, stats={}))
    engine.dispose()
    argv = ["--database-url", sqlite_url, "status", "--sources", str(tmp_path / "none.toml")]
    assert archiver_main([*argv, "--max-failures", "4"]) == 0
    assert archiver_main(argv) == 1  # failed, (skipped), failed, abandoned: 3 in a row
    out = capsys.readouterr().out
    assert "failed 3 time(s) in a row  << FAILING" in out
    assert "last run 6: abandoned" in out


def test_status_shows_the_hours_a_site_was_learned_to_edit_in(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from sqlalchemy import select

    from archiver.service.status import working_hours
    from archiver.storage import archive, models
    from archiver.storage.session import make_engine, make_sessionmaker
    from tests.storage.helpers import make_article, make_fetch

    engine = make_engine(sqlite_url)
    with make_sessionmaker(engine)() as session:
        now = datetime.now(UTC)
        for i, url in enumerate(["https://day.example/a", "https://flat.example/a"]):
            fetch = replace(make_fetch(url), fetched_at=now - timedelta(minutes=i + 1))
            archive(session, fetch, make_article(canonical_url=url))
        with session.begin():
            day = session.scalar(
                select(models.Site.id).where(models.Site.domain == "day.example"))
            session.merge(models.SiteEditHours(
                site_id=day, weights=[0.2] * 8 + [1.8] * 13 + [0.2] * 3, changes=300,
                learned_at=now))
    engine.dispose()
    argv = ["--database-url", sqlite_url, "status", "--sources", str(tmp_path / "none.toml")]
    assert archiver_main(argv) == 0
    out = capsys.readouterr().out
    assert "day.example: 1 fetches, 0 errors; edits 08:00-21:00 UTC" in out
    assert "flat.example: 1 fetches, 0 errors\n" in out
    assert archiver_main([*argv, "--json"]) == 0
    sites = {s["site"]: s for s in json.loads(capsys.readouterr().out)["sites"]}
    assert sites["day.example"]["edit_hours"] == "08:00-21:00 UTC"
    assert sites["flat.example"]["edit_hours"] is None
    # Across midnight, several ranges, and nothing to say.
    assert working_hours([2.0] * 2 + [0.1] * 20 + [2.0] * 2) == "22:00-02:00 UTC"
    assert working_hours([0.1] * 6 + [2] * 3 + [0.1] * 3 + [2] * 4 + [0.1] * 8) == (
        "06:00-09:00, 12:00-16:00 UTC")
    assert working_hours([1.0] * 24) is None and working_hours(None) is None

