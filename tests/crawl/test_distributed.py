"""Distributed crawling on scrapy-redis (archiver/service/distributed.py): the same
``scrapy crawl news`` in several processes shares one queue and one duplicate filter in
Redis, a dead worker's requests are fetched by another, and a Redis that is not there,
or goes away, is one clear line and a recorded run.

Crawls are real ``scrapy crawl news`` subprocesses against a loopback server, with the
real Redis on 127.0.0.1:6379: each test claims a database number of its own (tried from
one derived from the xdist worker, taken only if empty, with ``SET NX``) and flushes it at
the end. The test of a Redis lost mid-crawl runs a redis-server of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from archiver.cli import main as archiver_main
from tests.crawl.conftest import crawl_command, crawl_env, wait_for
from tests.crawl.mockserver import MockServer

REDIS = "redis://127.0.0.1:6379"
#: Dead workers are found within seconds (their heartbeat lives 4 intervals).
SHARED = {"ARCHIVER_HEARTBEAT_INTERVAL": "0.5"}


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A database of the local Redis for this test alone, flushed at the end."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    first = int(re.sub(r"\D", "", worker) or 0) * 4
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=5)
    try:
        databases = int(client.config_get("databases").get("databases", 16))
    except redis.RedisError as exc:
        pytest.fail(f"no Redis at {REDIS}: {exc}")
    claim = f"archiver:test:{uuid.uuid4().hex}"
    for i in range(databases - 1):
        number = 1 + (first + i) % (databases - 1)  # 0 is left to whoever uses the default
        db = redis.Redis.from_url(f"{REDIS}/{number}")
        if db.dbsize() == 0 and db.set("archiver:test:claimed", claim, nx=True, ex=900):
            break
    else:
        pytest.fail(f"every database of the Redis at {REDIS} is in use")
    yield f"{REDIS}/{number}"
    db.flushdb()


@pytest.fixture(scope="module")
def site_server() -> Iterator[MockServer]:
    """A loopback server of the module's own: its pages answer after a small delay, so
    that two crawls really overlap."""
    srv = MockServer().start()
    assert isinstance(srv, MockServer)
    srv.delay = 0.01
    yield srv
    srv.stop()


def _start(db_url: str, tmp_path: Path, redis_url: str, settings: dict[str, str] | None = None,
           **args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        crawl_command(args, {**SHARED, **(settings or {})}),
        env=crawl_env(db_url, tmp_path / "spool", ARCHIVER_REDIS_URL=redis_url),
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )



def _stats(row: Any) -> dict[str, Any]:
    return row.stats if isinstance(row.stats, dict) else json.loads(row.stats)


def _article_requests(server: MockServer, site: Any) -> Counter[str]:
    paths = {site.prefix + a.path for a in site.articles}
    return Counter(p for p in server.requests_for(site.prefix) if p in paths)


def _finish(procs: list[subprocess.Popen[str]], timeout: float = 120) -> list[str]:
    logs = []
    for proc in procs:
        try:
            logs.append(proc.communicate(timeout=timeout)[1])
        except subprocess.TimeoutExpired:
            proc.kill()
            logs.append(proc.communicate()[1])
    return logs


def test_two_processes_share_one_site_and_fetch_each_page_once(
    pg_url: str, site_server: MockServer, redis_url: str, archive_of: Any, tmp_path: Path
) -> None:
    site = site_server.new_site(n=1000, seed=21)
    sitemap = site_server.sitemap_url(site)
    archive = archive_of(pg_url)
    # Started together: whichever takes the job's lock first seeds, the other joins.
    procs = [_start(pg_url, tmp_path, redis_url, sitemap=sitemap) for _ in range(2)]
    logs = _finish(procs)
    for proc, log in zip(procs, logs, strict=True):
        assert proc.returncode == 0, log[-3000:]
        assert "Traceback" not in log

    runs = archive.rows("SELECT id, status, pid, stats FROM crawl_runs ORDER BY id")
    assert len(runs) == 2, runs  # each process its own run
    assert {r.status for r in runs} == {"finished"}
    assert {r.pid for r in runs} == {p.pid for p in procs}
    seeder = next(r for r in runs if "joined" not in _stats(r))
    joiner = next(r for r in runs if _stats(r).get("joined") == seeder.id)
    assert "seeds the job's shared queue" in logs[[p.pid for p in procs].index(seeder.pid)]

    # Every page archived, none fetched twice.
    assert archive.scalar("SELECT count(*) FROM articles") == 1000
    requested = _article_requests(site_server, site)
    assert len(requested) == 1000
    assert max(requested.values()) == 1, requested.most_common(3)
    # Both did a fair share, and the runs' counts add up.
    per_run = {r.crawl_run_id: r.n for r in archive.rows(
        "SELECT crawl_run_id, count(*) AS n FROM fetch_log WHERE outcome = 'new_article' "
        "GROUP BY crawl_run_id")}
    assert per_run[seeder.id] + per_run[joiner.id] == 1000
    assert min(per_run.values()) >= 250, per_run
    assert sum(_stats(r)["new_articles"] for r in runs) == 1000
    # Nothing is left behind in Redis but the finished crawl's filter.
    client = redis.Redis.from_url(redis_url)
    assert not [k for k in client.keys("archiver:job:*")
                if re.search(rb":(queue|processing:\d+|alive:\d+|seeding)$", k)]


def test_a_worker_killed_mid_crawl_loses_nothing(
    pg_url: str, site_server: MockServer, redis_url: str, archive_of: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = site_server.new_site(n=300, seed=22)
    sitemap = site_server.sitemap_url(site)
    archive = archive_of(pg_url)
    client = redis.Redis.from_url(redis_url)
    slow = {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "DOWNLOAD_DELAY": "0.05"}
    procs = [_start(pg_url, tmp_path, redis_url, slow, sitemap=sitemap) for _ in range(2)]
    try:
        wait_for(lambda: archive.scalar("SELECT count(*) FROM crawl_runs") == 2,
                  "both processes' runs")
        # A third process, late: it joins the seeder's crawl (not the other joiner's).
        late = _start(pg_url, tmp_path, redis_url, slow, sitemap=sitemap)
        procs.append(late)
        wait_for(lambda: archive.scalar("SELECT count(*) FROM crawl_runs") == 3,
                  "the late process's run")
        wait_for(lambda: archive.scalar("SELECT count(*) FROM articles") >= 30,
                  "some pages archived")
        # Kill the seeder (it held the job's lock) without warning, requests in flight.
        seeder = archive.rows("SELECT id, pid FROM crawl_runs ORDER BY id")[0]
        victim = next(p for p in procs if p.pid == seeder.pid)
        # The job's keys, found by the seeder's heartbeat (its queue key exists only
        # while the queue holds something).
        alive = wait_for(lambda: client.keys(f"archiver:job:*:alive:{seeder.id}"),
                         "the seeder's heartbeat")[0]
        processing = alive.replace(b":alive:", b":processing:")
        wait_for(lambda: client.hlen(processing), "the seeder to hold requests")
        victim.kill()
        survivor = next(p for p in procs if p is not victim and p is not late)
        log, late_log = _finish([survivor, late])
        _finish([victim])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert late.returncode == 0, late_log[-3000:]
    assert survivor.returncode == 0, log[-3000:]
    assert "requests in flight are back in the shared queue" in log + late_log
    # Every page archived; the pages the dead one had fetched but not archived were
    # fetched again (at most what it held), no other page twice.
    assert archive.scalar("SELECT count(*) FROM articles") == 300
    requested = _article_requests(site_server, site)
    assert set(requested) == {site.prefix + a.path for a in site.articles}
    assert sum(n - 1 for n in requested.values()) <= 32 + 16, requested.most_common(5)

    # archiver status finds the seeder's run abandoned; the others finished.
    assert archiver_main(["--database-url", pg_url, "status", "--json"]) == 0
    capsys.readouterr()
    runs = {r.pid: r for r in archive.rows("SELECT id, pid, status, stats FROM crawl_runs")}
    assert {pid: r.status for pid, r in runs.items()} == {
        victim.pid: "abandoned", survivor.pid: "finished", late.pid: "finished"}
    assert _stats(runs[late.pid])["joined"] == seeder.id


def test_a_worker_stopped_with_ctrl_c_finishes_what_it_holds_and_leaves(
    sqlite_url: str, site_server: MockServer, redis_url: str, archive_of: Any, tmp_path: Path
) -> None:
    site = site_server.new_site(n=150, seed=25)
    sitemap = site_server.sitemap_url(site)
    archive = archive_of(sqlite_url)
    slow = {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "DOWNLOAD_DELAY": "0.05"}
    procs = [_start(sqlite_url, tmp_path, redis_url, slow, sitemap=sitemap) for _ in range(2)]
    try:
        wait_for(lambda: archive.scalar(
            "SELECT count(DISTINCT crawl_run_id) FROM fetch_log WHERE outcome = 'new_article'")
            == 2, "both processes to archive pages")
        joiner = archive.scalar("SELECT pid FROM crawl_runs WHERE id = (SELECT max(id) "
                                "FROM crawl_runs)")
        stopped = next(p for p in procs if p.pid == joiner)
        stopped.send_signal(signal.SIGINT)  # docker stop, a scale-down: SIGTERM alike
        stopped_log, log = _finish([stopped, next(p for p in procs if p is not stopped)])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert stopped.returncode == 130, stopped_log[-3000:]
    # It archived what it held (a request held back at the stop would have gone back to
    # the queue: see the test below) and left the shared crawl.
    client = redis.Redis.from_url(redis_url)
    assert not client.keys("archiver:job:*:processing:*")
    assert not client.keys("archiver:job:*:alive:*")
    assert [p.returncode for p in procs if p is not stopped] == [0], log[-3000:]
    assert archive.scalar("SELECT count(*) FROM articles") == 150
    assert sorted(s for (s,) in archive.rows("SELECT status FROM crawl_runs")) == [
        "finished", "interrupted"]
    requested = _article_requests(site_server, site)
    assert len(requested) == 150 and max(requested.values()) == 1


def test_redis_unreachable_at_start_is_one_line_and_exit_2(
    sqlite_url: str, site_server: MockServer, archive_of: Any, tmp_path: Path
) -> None:
    site = site_server.new_site(n=3, seed=23)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://:hunter2@127.0.0.1:{port}/0"
    proc = _start(sqlite_url, tmp_path, url, sitemap=site_server.sitemap_url(site))
    log = _finish([proc])[0]
    assert proc.returncode == 2, log
    assert log.strip().splitlines() == [
        (f"scrapy crawl: error: Redis at redis://:***@127.0.0.1:{port}/0 (ARCHIVER_REDIS_URL) "
         f"does not answer: Error 111 connecting to 127.0.0.1:{port}. Connection refused; "
         "start it, or unset ARCHIVER_REDIS_URL to crawl in this process alone")]
    assert site_server.requests_for(site.prefix) == []
    assert archive_of(sqlite_url).scalar("SELECT count(*) FROM crawl_runs") == 0


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own, to stop mid-crawl."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    wait_for(up, "redis-server to start", timeout=20)
    yield url, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_redis_lost_mid_crawl_ends_the_crawl_with_a_recorded_run_and_nothing_lost(
    sqlite_url: str, site_server: MockServer, own_redis: tuple[str, Any], archive_of: Any,
    tmp_path: Path,
) -> None:
    url, redis_server = own_redis
    site = site_server.new_site(n=60, seed=24)
    archive = archive_of(sqlite_url)
    slow = {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "DOWNLOAD_DELAY": "0.05"}
    proc = _start(sqlite_url, tmp_path, url, slow, sitemap=site_server.sitemap_url(site))
    wait_for(lambda: archive.scalar("SELECT count(*) FROM fetches") >= 10, "some fetches")
    redis_server.send_signal(signal.SIGKILL)
    log = _finish([proc])[0]
    assert proc.returncode == 75, log[-3000:]
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if "stopped answering" in line]
    assert lines and "Redis at " + url in lines[0], log[-3000:]
    run = archive.rows("SELECT id, status, stats FROM crawl_runs")
    assert [r.status for r in run] == ["redis_unavailable"]
    stats = _stats(run[0])
    assert "Crawl run" in log.splitlines()[-1] and "Redis stopped answering" in log.splitlines()[-1]
    # Every page fetched was archived (the database was fine): nothing lost.
    assert stats["not_kept"] == 0 and stats["spooled"] == 0
    assert archive.scalar("SELECT count(*) FROM fetches WHERE crawl_run_id = :r",
                          r=run[0].id) == stats["fetched"]
    assert stats["fetched"] < 61  # it stopped


def _scheduler(redis_url: str, run_id: int, *, seeder: bool) -> Any:
    """The shared-queue scheduler of a real (not started) crawler of the news spider."""
    from scrapy.utils.test import get_crawler

    from archiver.service.distributed import RedisScheduler
    from archiver.spiders.news import NewsSpider

    crawler = get_crawler(NewsSpider, {"ARCHIVER_REDIS_URL": redis_url, **SHARED})
    crawler._apply_settings()  # its settings and stats, as a crawl's start makes them
    spider = NewsSpider.from_crawler(crawler, url="https://news.example/a.html")
    scheduler = RedisScheduler.from_crawler(crawler)
    scheduler.open(spider)
    scheduler.register(run_id, seeder=seeder)
    return scheduler


def test_a_dead_worker_on_another_host_is_found_by_its_heartbeat(redis_url: str) -> None:
    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest

    from archiver.crawl.backpressure import NOT_FETCHED
    from archiver.service.distributed import ENTRY, UnfinishedMiddleware

    seeder = _scheduler(redis_url, 1, seeder=True)
    url = "https://news.example/2026/story.html"
    assert seeder.enqueue_request(Request(url, callback=seeder.spider.parse_article,
                                          meta={"archiver_kind": "article"}))
    # The same article again (another listing, a tracking parameter): filtered.
    assert not seeder.enqueue_request(Request(url + "?utm_source=x",
                                              callback=seeder.spider.parse_article,
                                              meta={"archiver_kind": "article"}))
    worker = _scheduler(redis_url, 2, seeder=False)
    taken = worker.next_request()
    assert taken.url == url and taken.callback == worker.spider.parse_article
    # A redirect of it, queued by the worker, takes its place: the worker holds nothing.
    hop = taken.replace(url=url + "?hop", meta={**taken.meta, "redirect_urls": [url]})
    assert worker.enqueue_request(hop) and ENTRY not in hop.meta
    client = redis.Redis.from_url(redis_url)
    assert client.hlen(worker.keys.processing(2)) == 0
    taken = worker.next_request()
    assert taken.url == url + "?hop"
    # The worker's machine goes away: no more heartbeats; it ran on another host.
    worker._stop.set()
    client.hset(worker.keys.workers, "2", "elsewhere 1")
    seeder.seeded()
    assert seeder.should_wait()  # alive on its host until its heartbeat expires
    assert client.zcard(seeder.keys.queue) == 0
    wait_for(lambda: not client.exists(worker.keys.alive(2)), "the heartbeat to expire", 10)
    assert seeder.should_wait()  # its request is back in the queue
    again = seeder.next_request()
    assert again.url == url + "?hop" and again.meta["redirect_urls"] == [url]
    assert not client.exists(worker.keys.processing(2))
    assert client.hkeys(seeder.keys.workers) == [b"1"]
    # The seeder stops before fetching it (held back by backpressure as the crawl
    # stops): the request goes back to the queue, for whoever comes next.
    UnfinishedMiddleware().process_exception(again, IgnoreRequest(NOT_FETCHED))
    seeder.close("shutdown")
    assert client.zcard(seeder.keys.queue) == 1
    assert not client.exists(seeder.keys.processing(1), seeder.keys.alive(1))
