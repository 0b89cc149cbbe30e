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

A benchmark, not a test: it prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import time
import uuid
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


def crawl_seconds(server: _BenchServer, database_url: str, extra: list[str]) -> tuple[float, str]:
    env = dict(os.environ, ARCHIVER_DATABASE_URL=database_url,
               SCRAPY_SETTINGS_MODULE="archiver.settings")
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"sitemap={server.base}/sitemap.xml",
        "-s", "ROBOTSTXT_OBEY=False", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS=32", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32",
        "-s", "LOG_LEVEL=INFO", *extra,
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    summary = next((l for l in reversed(proc.stderr.splitlines()) if "Crawl run" in l), "")
    if proc.returncode != 0 or not summary:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"crawl failed with exit status {proc.returncode}")
    return elapsed, summary.split("INFO: ", 1)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=16,
                        help="URLs per dev-set page (default 16: 1040 pages)")
    parser.add_argument("--database-url", help="archive to use (default: a fresh PostgreSQL database)")
    parser.add_argument("-s", dest="settings", action="append", default=[],
                        help="extra Scrapy setting NAME=VALUE for the crawl")
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
        crawl, summary = crawl_seconds(server, url, extra)
        print(f"whole crawl (scrapy crawl news): {crawl:6.2f} s  ({n / crawl:5.1f} pages/s)"
              "  [process start to exit]")
        print(f"  {summary}")
        print(f"ratio (bare extraction time / crawl time): {bare / crawl:.2f}x")
    finally:
        server.shutdown()
        if created:
            _drop_postgres(created)
    return 0


if __name__ == "__main__":
    sys.exit(main())
