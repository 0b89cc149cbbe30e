"""The first hour with archiver, each case typed exactly as a user would: one clear line
for every mistake (no traceback, the helpful sentence, no secret), exit statuses a
scheduler can trust (the README's table), a CLI that explains itself."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.crawl.conftest import FAST, REPO, crawl_command, crawl_env
from tests.crawl.mockserver import MockServer

SECRET = "hunter2"


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``archiver ARGS`` with only the environment given (no ARCHIVER_* leaking in)."""
    return subprocess.run(
        [sys.executable, "-m", "archiver.cli", *args], cwd=cwd,
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(cwd), **env},
        capture_output=True, text=True, timeout=120, check=False,
    )


def scrapy_crawl(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``scrapy crawl news ARGS`` as typed in the project, settings from scrapy.cfg's module."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", *args], cwd=cwd,
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(cwd),
             "SCRAPY_SETTINGS_MODULE": "archiver.settings", **env},
        capture_output=True, text=True, timeout=120, check=False,
    )


def one_line(done: subprocess.CompletedProcess[str], status: int, *sentences: str) -> str:
    """The whole output is one line on stderr with every sentence and no secret."""
    everything = done.stdout + done.stderr
    assert done.returncode == status, everything[-3000:]
    assert "Traceback" not in everything and "exception was never retrieved" not in everything
    assert done.stdout == "", everything
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, everything
    for sentence in sentences:
        assert sentence in lines[0], lines[0]
    assert SECRET not in everything
    return lines[0]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback TCP server that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


# --- archiver: a CLI that explains itself ---------------------------------------------

def test_help_version_and_sources(tmp_path: Path) -> None:
    helped = cli("--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    for words in ("scrapy crawl news -a sitemap=URL", "-a source=NAME", "-a revisit=due|all",
                  "-a limit=N", "exit statuses", "75", "130", "--version", "sources"):
        assert words in helped.stdout, words
    version = cli("--version", cwd=tmp_path)
    assert version.returncode == 0 and re.fullmatch(r"archiver \d+\.\d+\.\d+\n", version.stdout)

    listed = cli("sources", cwd=tmp_path, ARCHIVER_SOURCES=str(REPO / "sources.toml"))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("example-news: example.com, www.example.com (1 sitemaps")
    as_json = cli("sources", "--json", "--file", str(REPO / "sources.toml"), cwd=tmp_path)
    assert [s["name"] for s in json.loads(as_json.stdout)] == ["example-news"]
    one_line(cli("sources", cwd=tmp_path), 2, "sources file sources.toml not found")


def test_every_argument_has_help() -> None:
    import argparse

    from archiver.cli import build_parser

    def bare(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from bare(sub, f"{path} {name}")
            elif not action.help:
                yield f"{path}: {action.dest}"

    assert list(bare(build_parser(), "archiver")) == []


def test_archiver_mistakes_are_one_line(tmp_path: Path, sqlite_url: str) -> None:
    one_line(cli("db", "downgrade", "nosuchrev", cwd=tmp_path, ARCHIVER_DATABASE_URL=sqlite_url),
             2, "archiver: error: Can't locate revision identified by 'nosuchrev'")
    one_line(cli("db", "current", cwd=tmp_path, ARCHIVER_EXTRACT_WORKERS="abc"),
             2, "ARCHIVER_EXTRACT_WORKERS must be a whole number, not 'abc'")
    one_line(cli("db", "current", cwd=tmp_path,
                 ARCHIVER_DATABASE_URL=f"mysql://archiver:{SECRET}@db.example/archive"),
             2, "unsupported scheme 'mysql'", "postgresql://USER:PASSWORD@HOST", "postgres://")
    # A failed command leaves no empty SQLite file behind.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    one_line(cli("health", cwd=fresh), 2, "has no archive schema: run `archiver db upgrade`")
    behind = cli("db", "current", cwd=fresh)
    assert behind.returncode == 1 and "run `archiver db upgrade`" in behind.stdout
    assert list(fresh.iterdir()) == []


@pytest.mark.postgres
def test_postgres_urls_as_people_write_them(tmp_path: Path, pg_url: str) -> None:
    url = make_url(pg_url)
    for scheme in ("postgres", "postgresql"):
        # Trust authentication ignores the password: it is only there to be hidden.
        written = (f"{scheme}://{url.username}@{url.host}:{url.port}/{url.database}"
                   f"?password={SECRET}")
        done = cli("db", "current", cwd=tmp_path, ARCHIVER_DATABASE_URL=written)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("postgresql+psycopg://") and "(head)" in done.stdout
        assert "password=***" in done.stdout and SECRET not in done.stdout + done.stderr


def test_a_server_that_never_answers_times_out(tmp_path: Path, silent_server: int) -> None:
    url = f"postgres://archiver:{SECRET}@127.0.0.1:{silent_server}/archive"
    done = cli("db", "current", cwd=tmp_path, ARCHIVER_DATABASE_URL=url,
               ARCHIVER_DB_CONNECT_TIMEOUT="1")
    one_line(done, 2, f"cannot reach the database at postgresql+psycopg://archiver:***@"
                      f"127.0.0.1:{silent_server}/archive")
    crawled = scrapy_crawl("-a", "url=http://127.0.0.1:1/x.html", cwd=tmp_path,
                           ARCHIVER_DATABASE_URL=url + f"?password={SECRET}",
                           ARCHIVER_DB_CONNECT_TIMEOUT="1")
    one_line(crawled, 2, "scrapy crawl: error: cannot reach the database", "password=***")


# --- scrapy crawl news: every mistake checked before the crawl starts ------------------

@pytest.mark.parametrize(("args", "env", "sentences"), [
    ((), {}, ("nothing to crawl: give -a sitemap=URL",)),
    (("-a", "limt=1", "-a", "url=http://127.0.0.1:1/"), {},
     ("unknown spider argument 'limt'", "-a limit=", "-a sitemap=")),
    (("-a", "limit=-1", "-a", "url=http://127.0.0.1:1/"), {},
     ("limit must be a whole number of at least 1, not '-1'",)),
    (("-a", "source=nope"), {"ARCHIVER_SOURCES": str(REPO / "sources.toml")},
     ("no source named 'nope'", "known: example-news")),
    (("-a", "url=http://127.0.0.1:1/", "-s", "ARCHIVER_EXTRACT_WORKERS=abc"), {},
     ("ARCHIVER_EXTRACT_WORKERS must be a whole number, not 'abc'",)),
    (("-a", "url=http://127.0.0.1:1/"), {"ARCHIVER_EXTRACT_WORKERS": "abc"},
     ("ARCHIVER_EXTRACT_WORKERS must be a whole number, not 'abc'",)),
    (("-a", "url=http://127.0.0.1:1/"),
     {"ARCHIVER_DATABASE_URL": f"postgresql+psycopg://archiver:{SECRET}@127.0.0.1:1/archive"},
     ("cannot reach the database at postgresql+psycopg://archiver:***@127.0.0.1:1/archive",)),
    (("-a", "url=http://127.0.0.1:1/"),
     {"ARCHIVER_DATABASE_URL": f"oracle://archiver:{SECRET}@db/archive"},
     ("unsupported scheme 'oracle'", "sqlite:///PATH")),
    # Scrapy's own options, parsed before the spider exists: one line too.
    (("-a", "limit"), {}, ("Invalid -a value, use -a NAME=VALUE",)),
    (("-a", "url=http://127.0.0.1:1/", "-s", "LOG_LEVEL"), {},
     ("Invalid -s value, use -s NAME=VALUE",)),
    (("-a", "url=http://127.0.0.1:1/", "-o"), {},
     ("argument -o/--output: expected one argument", "scrapy crawl -h lists the options")),
    (("-a", "url=http://127.0.0.1:1/", "--limit=1"), {},
     ("unknown option --limit=1", "the spider's arguments are -a NAME=VALUE")),
    (("-a", "url=http://127.0.0.1:1/", "-s", "LOG_LEVEL=LOUD"), {},
     ("LOG_LEVEL must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG, not 'LOUD'",)),
    (("-a", "url=http://127.0.0.1:1/", "-s", "ARCHIVER_ALLOWED_NETWORKS=10.0.0.0/33"), {},
     ("ARCHIVER_ALLOWED_NETWORKS: not a network: '10.0.0.0/33'",)),
    (("-a", "url=ftp://127.0.0.1/story"), {}, ("not an http(s) URL: 'ftp://127.0.0.1/story'",)),
])
def test_crawl_mistakes_are_one_line_exit_2(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], sentences: tuple[str, ...]
) -> None:
    line = one_line(scrapy_crawl(*args, cwd=tmp_path, **env), 2, *sentences)
    assert line.startswith("scrapy crawl: error: ")
    assert not (tmp_path / "archive.db").exists()


@pytest.mark.parametrize(("args", "sentence"), [
    ((), "give one spider: scrapy crawl news -a sitemap=URL"),
    (("nope",), "no spider named 'nope': the project's spider is `news`"),
])
def test_crawl_without_the_news_spider_is_one_line(
    tmp_path: Path, args: tuple[str, ...], sentence: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", *args], cwd=tmp_path,
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path),
             "SCRAPY_SETTINGS_MODULE": "archiver.settings"},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert one_line(done, 2, sentence).startswith("scrapy crawl: error: ")


def test_crawl_needs_an_archive_it_can_write(
    tmp_path: Path, sqlite_template: Path
) -> None:
    args = ("-a", "url=http://127.0.0.1:1/")
    one_line(scrapy_crawl(*args, cwd=tmp_path), 2,
             "there is no archive at archive.db: run `archiver db upgrade`")
    assert not (tmp_path / "archive.db").exists()  # not made empty on the way
    (tmp_path / "archive.db").touch()  # a file there, but no archive in it
    one_line(scrapy_crawl(*args, cwd=tmp_path), 2,
             "the database at sqlite:///archive.db has no archive schema: "
             "run `archiver db upgrade`")
    shutil.copyfile(sqlite_template, tmp_path / "archive.db")
    (tmp_path / "archive.db").chmod(0o444)
    one_line(scrapy_crawl(*args, cwd=tmp_path), 2,
             "cannot write to archive.db: the archive file is read-only")


@pytest.mark.postgres
def test_crawl_into_a_database_without_schema(tmp_path: Path, empty_pg_url: str) -> None:
    one_line(scrapy_crawl("-a", "url=http://127.0.0.1:1/", cwd=tmp_path,
                          ARCHIVER_DATABASE_URL=empty_pg_url),
             2, "has no archive schema: run `archiver db upgrade`")


# --- exit statuses once the crawl ran -------------------------------------------------

def run_status(archive_of, url: str) -> tuple[str, dict]:
    archive = archive_of(url)
    row = archive.rows("SELECT status, stats FROM crawl_runs ORDER BY id DESC")[0]
    stats = row.stats if isinstance(row.stats, dict) else json.loads(row.stats)
    return row.status, stats


def test_nothing_could_be_fetched_is_exit_3(tmp_path: Path, sqlite_url: str, archive_of) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    done = subprocess.run(
        crawl_command({"url": f"{dead}/a.html,{dead}/b.html"}, {"RETRY_TIMES": "1"}),
        env=crawl_env(sqlite_url, tmp_path / "spool"), cwd=tmp_path,
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 3, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert " failed: 2 fetched" in last and "2 errors" in last
    assert "every fetch failed: nothing could be fetched" in last
    status, stats = run_status(archive_of, sqlite_url)
    assert status == "failed" and stats["errors"] == stats["fetched"] == 2


@pytest.mark.postgres
def test_progress_lines_secrets_and_stats_agree(
    tmp_path: Path, server: MockServer, pg_url: str, archive_of
) -> None:
    site = server.new_site(n=9, seed=41)
    # Section fronts link to each other and to the same articles: URLs met twice.
    (tmp_path / "sources.toml").write_text(textwrap.dedent(f"""
        [[source]]
        name = "fixture"
        domains = ["127.0.0.1"]
        start_pages = ["{server.base_url}{site.prefix}/{site.articles[0].section}/"]
        article_pattern = '{site.prefix}/[a-z]+/\\d{{4}}/'
        depth = 1
    """))
    # The URL as a hosting platform hands it out, with the password as a parameter.
    url = make_url(pg_url)
    secret_url = (f"postgres://{url.username}@{url.host}:{url.port}/{url.database}"
                  f"?password={SECRET}")
    server.delay = 0.3  # slow pages: the crawl outlasts several progress intervals
    try:
        done = subprocess.run(
            crawl_command({"source": "fixture"},
                          {"ARCHIVER_PROGRESS_INTERVAL": "0.2",
                           "ARCHIVER_SOURCES": str(tmp_path / "sources.toml")}),
            env=crawl_env(secret_url, tmp_path / "spool"), cwd=tmp_path,
            capture_output=True, text=True, timeout=120, check=False,
        )
    finally:
        server.delay = 0.0
    assert done.returncode == 0, done.stderr[-3000:]
    assert SECRET not in done.stdout + done.stderr
    progress = re.findall(
        r"Progress: (\d+) pages fetched \([\d.]+/s\), (\d+) new articles, \d+ new versions, "
        r"\d+ unchanged, \d+ not modified, \d+ not articles, \d+ gone, \d+ skipped, "
        r"\d+ errors; \d+ requests queued, \d+ downloading", done.stderr)
    assert progress, done.stderr[-3000:]
    status, stats = run_status(archive_of, pg_url)
    assert status == "finished" and stats["new_articles"] == 9
    runs = archive_of(pg_url).rows("SELECT * FROM crawl_runs")
    assert runs and SECRET not in repr([tuple(r) for r in runs])
    assert all(int(fetched) <= stats["fetched"] for fetched, _ in progress)
    # Scrapy's closing stats dump and the run's stats agree on the URLs met twice.
    dumped = re.search(r"'archiver/skipped/duplicate_url': (\d+)", done.stderr)
    filtered = re.search(r"'dupefilter/filtered': (\d+)", done.stderr)
    skipped = int(dumped.group(1)) if dumped else 0
    assert stats["duplicate_urls"] == skipped + (int(filtered.group(1)) if filtered else 0) > 0


def test_interrupted_crawl_is_exit_130(
    tmp_path: Path, server: MockServer, sqlite_url: str, archive_of
) -> None:
    site = server.new_site(n=30, seed=42)
    log = tmp_path / "crawl.log"
    server.delay = 0.5  # article pages are slow: the crawl is still running when stopped
    try:
        with log.open("w") as out:
            proc = subprocess.Popen(
                crawl_command({"sitemap": server.sitemap_url(site)},
                              {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}),
                env=crawl_env(sqlite_url, tmp_path / "spool"), cwd=tmp_path,
                stdout=out, stderr=subprocess.STDOUT, text=True,
            )
            try:
                deadline = time.monotonic() + 60
                while "archiving into" not in log.read_text() and time.monotonic() < deadline:
                    time.sleep(0.1)
                proc.send_signal(signal.SIGINT)
                code = proc.wait(timeout=120)
            finally:
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
    finally:
        server.delay = 0.0
    text = log.read_text()
    assert code == 130, text[-3000:]
    assert "Traceback" not in text
    assert re.search(r"Crawl run \d+ interrupted: ", text.strip().splitlines()[-1]), text[-2000:]
    status, _ = run_status(archive_of, sqlite_url)
    assert status == "interrupted"


def test_readme_exit_statuses_are_the_ones_the_code_uses(tmp_path: Path) -> None:
    from archiver.crawl import pipelines
    from archiver.crawl.preflight import EXIT_USAGE
    from archiver.service.runs import EXIT_ALREADY_RUNNING

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit statuses", 1)[1].split("\n\n| status | meaning |", 1)[1]
    rows = re.findall(r"^\| (\d+) \|", table.split("\n\n", 1)[0], re.MULTILINE)
    used = {0, 1, EXIT_USAGE, pipelines.EXIT_NOTHING_FETCHED, EXIT_ALREADY_RUNNING, 65, 66,
            pipelines.EXIT_CANNOT_KEEP, pipelines.EXIT_DATABASE_UNAVAILABLE,
            pipelines.EXIT_INTERRUPTED}
    assert sorted(map(int, rows)) == sorted(used)
    helped = cli("--help", cwd=tmp_path).stdout.split("exit statuses", 1)[1]
    assert {int(n) for n in re.findall(r"^  (\d+) ", helped, re.MULTILINE)} == used


def test_readme_command_table_is_the_cli() -> None:
    """Every `archiver` command has a row in the README's command table, and every row
    names a command that exists (with the options it lists)."""
    import argparse

    from archiver.cli import build_parser

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Commands", 1)[1].split("\n\n", 2)[1]
    listed = set(re.findall(r"^\| `archiver ((?:db )?[a-z][a-z-]*)", table, re.MULTILINE))

    def commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[
            tuple[str, argparse.ArgumentParser]]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    subs = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
                    if subs:
                        yield from commands(sub, f"{prefix}{name} ")
                    else:
                        yield f"{prefix}{name}", sub

    parsers = dict(commands(build_parser()))
    assert listed == set(parsers), (listed ^ set(parsers))
    for line in table.splitlines():
        found = re.match(r"^\| `archiver ((?:db )?[a-z][a-z-]*)([^`]*)`", line)
        if not found or found.group(1) not in parsers:
            continue
        options = {o for a in parsers[found.group(1)]._actions for o in a.option_strings}
        for option in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", found.group(2)):
            assert option in options, f"README: archiver {found.group(1)} {option}"
