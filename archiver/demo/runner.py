"""``archiver demo``: crawl a bundled publisher site twice, offline, and show the archive.

1. serve the demo site (``archiver/demo/site``) on loopback and crawl it with the real
   ``news`` spider (in a subprocess, as ``scrapy crawl`` would run it);
2. serve a second state of the site: every page's chrome churned, one article corrected;
3. crawl again, and print the articles, their versions and the correction as a diff.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import text

from archiver.demo.publisher import Publisher, SiteServer, load_articles
from archiver.storage.migrate import upgrade
from archiver.storage.session import display_url, make_engine

SITE_NAME = "The Harbour Gazette"


def run_crawl(database_url: str, args: Sequence[str], settings: dict[str, str] | None = None,
              *, log_level: str = "INFO") -> tuple[int, str]:
    """Run ``scrapy crawl news`` in a subprocess (a reactor cannot restart in-process).

    Returns the exit status and the crawl's summary line (its last log line).
    """
    env = dict(os.environ)
    env["ARCHIVER_DATABASE_URL"] = database_url
    env.setdefault("SCRAPY_SETTINGS_MODULE", "archiver.settings")
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", *args, "-s", f"LOG_LEVEL={log_level}"]
    for name, value in (settings or {}).items():
        cmd += ["-s", f"{name}={value}"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    summary = next(
        (line.split("] INFO: ", 1)[-1].split("] ERROR: ", 1)[-1]
         for line in reversed(lines) if "Crawl run" in line),
        "",
    )
    if proc.returncode != 0 or not summary:
        sys.stderr.write(proc.stderr[-5000:])
    return proc.returncode, summary


def main(database_url: str | None = None) -> int:
    """Run the demo against ``database_url`` (default: a new SQLite file in a temporary
    directory, never the configured archive); returns an exit status."""
    started = time.monotonic()
    if database_url is None:
        path = Path(tempfile.mkdtemp(prefix="archiver-demo-")) / "archive.db"
        database_url = f"sqlite:///{path}"
        print(f"Archive: {path}, a new SQLite file for the demo "
              "(--database-url URL to use another; your archive is not touched)")
    else:
        print(f"Archive: {display_url(database_url)} (migrating it to the latest schema)")
    upgrade(database_url)
    articles = load_articles()
    publisher = Publisher(SITE_NAME, articles, tagline="The harbour city's daily paper")
    server = SiteServer([publisher]).start()
    base = server.base_url
    corrected = next(a for a in articles if a.correction)
    # Loopback: no need to throttle. Robots.txt is still read (the site serves one).
    fast = {"AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}
    try:
        print(f"\nServing {SITE_NAME} ({len(articles)} articles) at {base}/")
        print(f"1) scrapy crawl news -a sitemap={base}/sitemap.xml")
        code, summary = run_crawl(database_url, ["-a", f"sitemap={base}/sitemap.xml"], fast)
        print(f"   {summary}")
        if code:
            return code
        publisher.state = 2
        publisher.corrected = {corrected.slug}
        print("\nThe site changes: new date, related and most-read lists and ads on every page;")
        print(f"one article is corrected: {corrected.title!r}")
        print(f"2) scrapy crawl news -a sitemap={base}/sitemap.xml -a feed={base}/feed.xml")
        code, summary = run_crawl(
            database_url, ["-a", f"sitemap={base}/sitemap.xml", "-a", f"feed={base}/feed.xml"],
            fast,
        )
        print(f"   {summary}")
        if code:
            return code
    finally:
        server.stop()
    show(database_url, base)
    print(f"\nDone in {time.monotonic() - started:.1f}s. Query the archive yourself, e.g.:")
    db_file = database_url.removeprefix("sqlite:///") if database_url.startswith(
        "sqlite:///") else None
    print(f"  sqlite3 {db_file} 'SELECT version_count, title FROM article_latest'"
          if db_file else "  SELECT version_count, title FROM article_latest;")
    return 0


def show(database_url: str, base: str) -> None:
    """Print the demo site's articles, their versions, and each change as a diff."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT article_id, url, title, version_count FROM article_latest "
                    "WHERE url LIKE :base ORDER BY published_at DESC"
                ),
                {"base": base + "/%"},
            ).all()
            fetches = conn.execute(
                text(
                    "SELECT crawl_run_id, outcome, count(*) AS n FROM fetch_log "
                    "WHERE url LIKE :base GROUP BY crawl_run_id, outcome "
                    "ORDER BY crawl_run_id, outcome"
                ),
                {"base": base + "/%"},
            ).all()
            print(f"\nThe archive holds {len(rows)} articles from {base}:")
            for r in rows:
                print(f"  {r.version_count} version(s)  {r.title}")
            print("\nFetches by crawl and outcome:")
            for f in fetches:
                print(f"  crawl run {f.crawl_run_id}: {f.n:2d} {f.outcome}")
            for r in rows:
                if r.version_count < 2:
                    continue
                versions = conn.execute(
                    text(
                        "SELECT version, captured_at, text FROM article_versions "
                        "WHERE article_id = :id ORDER BY version"
                    ),
                    {"id": r.article_id},
                ).all()
                for old, new in zip(versions, versions[1:]):
                    print(f"\n{r.title}\n  {r.url}\n  version {old.version} -> {new.version}:")
                    print(_diff(old.text, new.text))
    finally:
        engine.dispose()


def _diff(old: str, new: str) -> str:
    def lines(t: str) -> list[str]:
        return [w for p in t.split("\n") for w in (textwrap.wrap(p, 88) or [""])]

    diff = difflib.unified_diff(lines(old), lines(new), "before", "after", lineterm="", n=1)
    return "\n".join("    " + line for line in diff)
