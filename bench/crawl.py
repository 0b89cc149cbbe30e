"""Crawl benchmark: a whole `news` crawl against single-process bare trafilatura.

Serves the dev-set pages (``../shared/devset/html``) gzipped on loopback, each under
several URLs, lists them in a sitemap, and crawls them into PostgreSQL with the real
``news`` spider (in a subprocess, politeness off for loopback). In the same run it times
one process doing ``trafilatura.bare_extraction(html, with_metadata=True)`` over the same
pages, and prints both and their ratio: how many times faster the whole crawl (download,
extraction in the worker pool, archiving) is than parsing alone on one core.

    .venv/bin/python bench/crawl.py                      # 1040 pages, fresh PostgreSQL
    .venv/bin/python bench/crawl.py --copies 5 --database-url sqlite:////tmp/bench.db

The crawl is timed from process start to exit, so its ~1 s of start-up (imports, the
worker pool, the first listing) is in the figure; the default of 1040 pages keeps it
to the share it has in a real crawl. Fewer pages give a lower ratio for that reason.

Then the shared queue (``ARCHIVER_REDIS_URL``, archiver/service/distributed.py), each
into a fresh database, in the same run: one process taking its requests from Redis
(what the queue itself costs), and two processes on this machine sharing the job's queue
(``scrapy crawl news`` started twice at once, each with half the extraction workers, so
that the machine does the same work). It prints their pages/s, their ratio to the single
process without Redis, each process's share, and pages fetched more than once (none is
the target). Redis is ``--redis-url`` (default: an empty database of the local Redis,
flushed after).

    .venv/bin/python bench/crawl.py --no-redis          # the single crawl only

A benchmark, not a test: it prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

REPO = Path(__file__).resolve().parent.parent
DEVSET = REPO.parent / "shared" / "devset" / "html"
PG_ADMIN_URL = os.environ.get("ARCHIVER_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _BenchServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/sitemap.xml":
            body, headers = self.server.sitemap, {"Content-Type": "application/xml"}
        else:
            m = re.fullmatch(r"/p/(\d+)/(\d+)\.html", self.path)
            if not m or int(m.group(1)) >= len(self.server.pages):
                body, headers = b"not found", {"Content-Type": "text/plain"}
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            body = self.server.pages[int(m.group(1))]
            with self.server.lock:
                self.server.hits[self.path] += 1
            headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _BenchServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages: list[bytes], copies: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages = pages  # gzipped, as served
        base = f"http://127.0.0.1:{self.server_address[1]}"
        self.urls = [f"{base}/p/{i}/{c}.html" for c in range(copies) for i in range(len(pages))]
        locs = "".join(f"<url><loc>{u}</loc></url>\n" for u in self.urls)
        self.sitemap = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{locs}</urlset>\n"
        ).encode()
        self.base = base
        self.lock = threading.Lock()
        #: Page requests served, by path (reset before each crawl).
        self.hits: Counter[str] = Counter()


def _fresh_postgres() -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"archiver_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def _drop_postgres(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def bare_extraction_seconds(pages: list[bytes], copies: int) -> float:
    """One process, trafilatura alone, over every page instance the crawl fetches."""
    import trafilatura

    html = [gzip.decompress(p).decode("utf-8", "replace") for p in pages]
    trafilatura.bare_extraction(html[0], with_metadata=True)  # warm imports and caches
    start = time.perf_counter()
    for _ in range(copies):
        for h in html:
            trafilatura.bare_extraction(h, with_metadata=True)
    return time.perf_counter() - start


def _crawl_command(server: _BenchServer, extra: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"sitemap={server.base}/sitemap.xml",
        "-s", "ROBOTSTXT_OBEY=False", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS=32", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32",
        "-s", "LOG_LEVEL=INFO", *extra,
    ]


def _summary(returncode: int, stderr: str) -> str:
    summary = next((l for l in reversed(stderr.splitlines()) if "Crawl run" in l), "")
    if returncode != 0 or not summary:
        sys.stderr.write(stderr[-4000:])
        raise SystemExit(f"crawl failed with exit status {returncode}")
    return summary.split("INFO: ", 1)[-1]


def crawl_seconds(server: _BenchServer, database_url: str, extra: list[str],
                  processes: int = 1, redis_url: str | None = None) -> tuple[float, list[str]]:
    """Time ``processes`` crawls of the sitemap started together, from the first start to
    the last exit; their summary lines."""
    env = dict(os.environ, ARCHIVER_DATABASE_URL=database_url,
               SCRAPY_SETTINGS_MODULE="archiver.settings")
    if redis_url:
        env["ARCHIVER_REDIS_URL"] = redis_url
    server.hits.clear()
    start = time.perf_counter()
    procs = [subprocess.Popen(_crawl_command(server, extra), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, cwd=REPO)
             for _ in range(processes)]
    logs = [proc.communicate()[1] for proc in procs]
    elapsed = time.perf_counter() - start
    return elapsed, [_summary(p.returncode, log) for p, log in zip(procs, logs, strict=True)]


def _free_redis_database(base: str) -> tuple[str, object]:
    """An empty database of the Redis at ``base``, claimed; flush it when done."""
    import redis

    client = redis.Redis.from_url(base)
    count = int(client.config_get("databases").get("databases", 16))
    for number in range(count - 1, 0, -1):
        db = redis.Redis.from_url(f"{base.rstrip('/')}/{number}")
        if db.dbsize() == 0 and db.set("archiver:bench:claimed", "1", nx=True, ex=3600):
            return f"{base.rstrip('/')}/{number}", db
    raise SystemExit(f"no empty database in the Redis at {base}")


def _shares(database_url: str) -> list[int]:
    from sqlalchemy import text

    from archiver.storage.session import make_engine

    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT crawl_run_id, count(*) FROM fetches "
                                 "GROUP BY crawl_run_id ORDER BY crawl_run_id")).all()
    engine.dispose()
    return [n for _, n in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=16,
                        help="URLs per dev-set page (default 16: 1040 pages)")
    parser.add_argument("--database-url", help="archive to use (default: a fresh PostgreSQL database)")
    parser.add_argument("-s", dest="settings", action="append", default=[],
                        help="extra Scrapy setting NAME=VALUE for the crawl")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379",
                        help="Redis for the shared-queue runs (default: an empty database of "
                             "the local one)")
    parser.add_argument("--no-redis", action="store_true", help="skip the shared-queue runs")
    args = parser.parse_args()

    pages = [gzip.compress(gzip.decompress(p.read_bytes()), 6)
             for p in sorted(DEVSET.glob("*.html.gz"))]
    server = _BenchServer(pages, args.copies)
    Thread(target=server.serve_forever, daemon=True).start()
    created = None
    url = args.database_url
    if url is None:
        url, created = _fresh_postgres()
    try:
        from archiver.storage.migrate import upgrade

        upgrade(url)
        n = len(server.urls)
        raw = sum(len(gzip.decompress(p)) for p in pages) * args.copies
        print(f"{n} pages ({len(pages)} dev-set pages x {args.copies} URLs, "
              f"{raw / 1e6:.1f} MB of HTML, served gzipped), {os.cpu_count()} cores")
        bare = bare_extraction_seconds(pages, args.copies)
        print(f"single-process bare_extraction: {bare:6.2f} s  ({n / bare:5.1f} pages/s)")
        extra = [x for s in args.settings for x in ("-s", s)]
        crawl, summaries = crawl_seconds(server, url, extra)
        print(f"whole crawl (scrapy crawl news): {crawl:6.2f} s  ({n / crawl:5.1f} pages/s)"
              "  [process start to exit]")
        print(f"  {summaries[0]}")
        print(f"ratio (bare extraction time / crawl time): {bare / crawl:.2f}x")
        if args.no_redis:
            pass
        elif args.database_url is not None:
            print("(shared-queue runs skipped: they need fresh PostgreSQL databases, "
                  "not --database-url)")
        else:
            shared_queue_runs(server, args, extra, crawl)
    finally:
        server.shutdown()
        if created:
            _drop_postgres(created)
    return 0


def shared_queue_runs(server: _BenchServer, args: argparse.Namespace, extra: list[str],
                      single: float) -> None:
    """One process on the shared queue in Redis, then two sharing it, each into a fresh
    database; compared with the single crawl without Redis (``single`` seconds)."""
    from archiver.crawl.workers import default_workers
    from archiver.storage.migrate import upgrade

    n = len(server.urls)
    redis_url, claimed = _free_redis_database(args.redis_url)
    workers = default_workers()
    half = max(1, workers // 2)
    print(f"\nshared queue in Redis ({redis_url}), each run into a fresh database:")
    print(f"{'run':<44} {'seconds':>8} {'pages/s':>8} {'vs single':>9}  "
          "pages each process fetched, pages fetched twice")
    print(f"{'1 process, no Redis (above)':<44} {single:8.2f} {n / single:8.1f} {1:9.2f}")
    runs = [
        (f"1 process, queue in Redis ({workers} workers)", 1, [], True),
        (f"2 processes sharing it ({half} worker(s) each)", 2,
         ["-s", f"ARCHIVER_EXTRACT_WORKERS={half}"], True),
        ("1 process, no Redis, again (noise)", 1, [], False),
    ]
    try:
        for label, processes, more, shared in runs:
            url, created = _fresh_postgres()
            try:
                upgrade(url)
                claimed.flushdb()  # type: ignore[attr-defined]
                seconds, _ = crawl_seconds(server, url, [*extra, *more], processes,
                                           redis_url if shared else None)
                shares = _shares(url)
                twice = sum(c - 1 for p, c in server.hits.items() if c > 1)
                missing = n - len(server.hits)
                ratio = single / seconds
                print(f"{label:<44} {seconds:8.2f} {n / seconds:8.1f} {ratio:9.2f}  "
                      f"{'/'.join(map(str, shares))}, {twice}"
                      + (f"  ({missing} pages NOT fetched)" if missing else ""))
            finally:
                _drop_postgres(created)
    finally:
        claimed.flushdb()  # type: ignore[attr-defined]
    print("(vs single: the first single crawl's time / this run's; below 1, slower. The "
          "last run, the single crawl again, shows how much of that is noise)")


if __name__ == "__main__":
    sys.exit(main())
