"""`archiver reextract`: archives made by real crawls of the loopback server, read again."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from archiver.crawl.extractors import Readers
from archiver.extract import EXTRACTOR_VERSION as BUILTIN_VERSION
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


def test_a_kept_body_still_no_article_is_read_once_per_extractor_version(
    server: MockServer, db_url: str, plugged_crawl: Any, archive_of: Any  # noqa: F811
) -> None:
    site = server.new_site(n=12, seed=24)
    archive = archive_of(db_url)
    missing = "tests.crawl.plugged:misses_a_third"
    assert plugged_crawl(db_url, extractor=missing,
                         sitemap=server.sitemap_url(site)).returncode == 0
    kept = archive.scalar("SELECT count(*) FROM fetches WHERE outcome = 'not_article' "
                          "AND kind = 'article' AND raw_capture_id IS NOT NULL")
    assert kept >= 1

    # The same extractor again (it says it writes the built-in's version): the versions
    # it read are skipped, the kept bodies are read and still no article.
    same = Readers(missing)
    first = reextract(db_url, readers=same, workers=2)
    assert first.totals["read"] == kept and first.totals["not_article"] == kept
    assert archive.scalar("SELECT count(*) FROM fetches WHERE reread_by = :v",
                          v=BUILTIN_VERSION) == kept
    again = reextract(db_url, readers=same, workers=2)
    assert again.totals["read"] == 0  # nothing read twice by the same extractor version
    # Another extractor version reads them again, and finds the articles.
    better = reextract(db_url, readers=Readers(UPGRADED), workers=2)
    assert better.totals["recovered"] == kept
    assert archive.scalar("SELECT count(*) FROM articles") == 12


def test_a_kept_body_of_an_article_archived_since_joins_it_once(
    server: MockServer, db_url: str, plugged_crawl: Any, archive_of: Any  # noqa: F811
) -> None:
    """A page judged no article, then archived by a later crawl: reextract files the
    kept earlier body with that article (no version slipped under version 1, which
    stays), the article seen since the earlier fetch; a second run reads nothing."""
    site = server.new_site(n=12, seed=23)
    archive = archive_of(db_url)
    sitemap = server.sitemap_url(site)
    assert plugged_crawl(db_url, extractor="tests.crawl.plugged:misses_a_third",
                         sitemap=sitemap).returncode == 0
    missed = dict(archive.rows(
        "SELECT url, fetched_at FROM fetches WHERE outcome = 'not_article' AND kind = 'article'"))
    assert missed
    site.state = 2  # the chrome churned: every page answers 200 again
    later = plugged_crawl(db_url, sitemap=sitemap)  # and the built-in finds them
    assert later.returncode == 0, later.log[-3000:]
    assert archive.scalar("SELECT count(*) FROM articles") == 12
    before = archive.rows("SELECT url, version, captured_at, text FROM article_versions "
                          "ORDER BY url, version")

    dry = reextract(db_url, readers=BUILTIN, dry_run=True, workers=2)
    assert dry.totals["earlier"] == len(missed) and dry.totals["recovered"] == 0
    first = reextract(db_url, readers=BUILTIN, workers=2)
    assert first.totals["earlier"] == len(missed) and first.totals["recovered"] == 0
    assert archive.rows("SELECT url, version, captured_at, text FROM article_versions "
                        "ORDER BY url, version") == before
    linked = archive.rows(
        "SELECT f.url, f.fetched_at, f.article_id, a.first_seen_at, f.raw_capture_id "
        "FROM fetches f JOIN articles a ON a.id = f.article_id "
        "WHERE f.outcome = 'not_article' AND f.kind = 'article'")
    assert {r.url for r in linked} == set(missed)
    assert all(r.first_seen_at == r.fetched_at == missed[r.url] and r.raw_capture_id
               for r in linked)
    again = reextract(db_url, readers=BUILTIN, workers=2)
    assert again.totals["read"] == 0


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

    told: list[tuple[int, int]] = []

    def stop_after_first_batch(done: int, total: int) -> None:
        told.append((done, total))
        if done:
            raise KeyboardInterrupt

    stopped = reextract(db_url, readers=upgraded, workers=2, batch_size=3,
                        progress=stop_after_first_batch)
    assert stopped.interrupted and stopped.totals["read"] == 3
    assert told == [(0, 10), (3, 10)]
    assert archive.scalar("SELECT count(*) FROM readings") == 3  # the batch is committed

    # The resumed run's progress counts what is left, not what the first run did.
    told.clear()
    rest = reextract(db_url, readers=upgraded, workers=2, batch_size=3,
                     progress=lambda done, total: told.append((done, total)))
    assert not rest.interrupted and rest.totals["read"] == 7
    assert told[0] == (0, 7) and told[-1] == (7, 7)
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
    server: MockServer, sqlite_url: str, plugged_crawl: Any, archive_of: Any,  # noqa: F811
    tmp_path: Any,
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
    for path, message in [
        ("tests.crawl.plugged:missing", "tests.crawl.plugged has no 'missing'"),
        ("tests.crawl.plugged:not_callable", "'not_callable' is not callable"),
        ("no-colon", "expected 'module:function'"),
    ]:
        bad = cli(ARCHIVER_EXTRACTOR=path)
        assert bad.returncode == 2, bad.stderr
        [line] = bad.stderr.strip().splitlines()
        assert line.startswith(f"archiver: error: ARCHIVER_EXTRACTOR: extractor {path!r}: ")
        assert line.endswith(message), line
    # A source naming an extractor that does not load: one line too, before anything.
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nname = "x"\nextractor = "tests.crawl.plugged:gone"\n')
    bad = cli()
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert bad.stderr.startswith("archiver: error: sources: extractor "
                                 "'tests.crawl.plugged:gone'"), bad.stderr
    assert archive_of(sqlite_url).scalar("SELECT count(*) FROM readings") == 0


# --- Archives written directly (no crawl): stories read by the built-in extractor. ---

WORDS = ("council transport budget harbour school river market bridge museum library "
         "hospital station park festival election court ferry tram tunnel stadium").split()


def story(url: str, n: int) -> bytes:
    """A publisher page of our own making: a headline, a byline, a date, five paragraphs."""
    paragraphs = "\n".join(
        f"<p>{' '.join(WORDS[(n * 7 + p * 3 + w) % len(WORDS)] for w in range(45))} "
        f"(story {n}, paragraph {p}).</p>"
        for p in range(5)
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Story {n}: the {WORDS[n % len(WORDS)]} question | Example News</title>
<link rel="canonical" href="{url}">
<meta name="author" content="Reporter {n}">
<meta property="article:published_time" content="2026-10-{1 + n % 28:02d}T08:15:00Z">
</head><body><header><nav><a href="/">Home</a></nav></header>
<main><article><h1>Story {n}: the {WORDS[n % len(WORDS)]} question</h1>
{paragraphs}</article></main><footer><p>Example News</p></footer></body></html>""".encode()


def build(db_url: str, n: int, hosts: tuple[str, ...] = ("news.test",)) -> list[str]:
    """``n`` articles of one version each, read by the built-in extractor as a crawl
    would; their URLs."""
    from datetime import datetime, timedelta, timezone

    from archiver.extract import extract
    from archiver.items import Fetch
    from archiver.storage import archive, make_engine, make_sessionmaker

    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    t0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    urls = [f"https://{hosts[i % len(hosts)]}/story-{i}" for i in range(n)]
    try:
        with sessions() as session:
            for i, url in enumerate(urls):
                body = story(url, i)
                article = extract(body, url)
                assert article is not None
                archive(session, Fetch(url=url, final_url=url, status=200, body=body,
                                       headers={"content-type": "text/html; charset=utf-8"},
                                       fetched_at=t0 + timedelta(minutes=i),
                                       meta={"kind": "article"}), article)
    finally:
        engine.dispose()
    return urls


def state(archive: Any) -> dict[str, list[Any]]:
    """Everything a re-extraction may write, to compare before and after a run."""
    return {
        "versions": archive.rows(
            "SELECT id, article_id, version, extractor_version, content_hash, title, authors, "
            "text, read_at, change_classes FROM versions ORDER BY id"),
        "readings": archive.rows(
            "SELECT version_id, extractor_version, read_at, superseded_at, title "
            "FROM readings ORDER BY version_id, extractor_version"),
        "articles": archive.rows(
            "SELECT id, url, current_version, current_hash FROM articles ORDER BY id"),
        "fetches": archive.rows(
            "SELECT id, outcome, article_id, version FROM fetches ORDER BY id"),
    }


def test_a_second_run_changes_nothing(db_url: str, archive_of: Any) -> None:
    build(db_url, 6)
    archive = archive_of(db_url)
    first = reextract(db_url, readers=Readers(UPGRADED), workers=2, batch_size=4)
    assert first.totals["read"] == 6 and archive.scalar("SELECT count(*) FROM readings") == 6
    after_first = state(archive)
    again = reextract(db_url, readers=Readers(UPGRADED), workers=2, batch_size=4)
    assert again.totals["read"] == 0
    assert state(archive) == after_first
    # The search index follows the newest readings: a title the upgrade changed is found
    # by its new words, and a reading whose text did not change is still found.
    from archiver.analyst.search import search

    titles = dict(archive.rows("SELECT url, title FROM article_latest"))
    changed = {u for u, t in titles.items() if t.endswith("(full headline)")}
    assert 1 <= len(changed) < 6 and first.totals["metadata_changed"] == len(changed)
    with archive.engine.connect() as conn:
        assert {h.url for h in search(conn, '"full headline"')} == changed
        assert {h.url for h in search(conn, "harbour")} == set(titles)


def test_a_run_never_rewrites_what_another_run_rewrote_meanwhile(
    db_url: str, archive_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: run A reads every capture, then run B re-reads and rewrites them all
    before A writes; A must find each reading replaced and write nothing."""
    from archiver.ops import reextract as module

    build(db_url, 6)
    archive = archive_of(db_url)
    real_finish = module._finish
    other: list[Any] = []

    def finish_after_another_run(*args: Any, **kwargs: Any) -> int:
        if not other:
            other.append(None)
            other[0] = reextract(db_url, readers=Readers(UPGRADED), workers=1)
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(module, "_finish", finish_after_another_run)
    first = reextract(db_url, readers=Readers(UPGRADED), workers=1, batch_size=6)
    [second] = other
    assert second.totals["read"] == 6 and second.totals["skipped"] == 0
    assert first.totals["read"] == 6 and first.totals["skipped"] == 6, first.totals
    assert archive.scalar("SELECT count(*) FROM readings") == 6  # one earlier reading each
    assert archive.scalar("SELECT count(*) FROM version_readings") == 12
    assert {r.extractor_version for r in archive.rows("SELECT * FROM article_latest")} == {
        EXTRACTOR_VERSION}


@pytest.mark.parametrize(("path", "reason"), [
    ("tests.crawl.plugged:raises", "raised RuntimeError: parser bug"),
    ("tests.crawl.plugged:wrong_type", "returned dict, not an Article or None"),
])
def test_an_extractor_failing_on_captures_changes_nothing(
    sqlite_url: str, archive_of: Any, caplog: pytest.LogCaptureFixture, path: str, reason: str
) -> None:
    urls = build(sqlite_url, 4)
    archive = archive_of(sqlite_url)
    before = state(archive)
    with caplog.at_level("WARNING", logger="archiver.ops.reextract"):
        report = reextract(sqlite_url, readers=Readers(path), workers=2)
    assert report.totals["read"] == 4 and report.totals["errors"] == 4
    [failures] = report.failures.values()
    assert len(failures) == 3  # the first few per site
    assert all(f.url in urls and f.version == 1 and reason in f.reason for f in failures)
    assert sum(reason in r.message for r in caplog.records) == 4  # one line a capture
    assert state(archive) == before


def crashes_on_some(html: bytes, url: str, **kwargs: Any) -> Any:
    """The upgraded extractor, except that some captures kill the worker (a parser
    crash in C, the OOM killer)."""
    import os

    from tests.crawl.plugged import upgraded

    if _crashes(url):
        os._exit(1)
    return upgraded(html, url, **kwargs)


def _crashes(url: str) -> bool:
    import zlib

    return zlib.crc32(url.rsplit("/", 1)[-1].encode()) % 4 == 0


def test_a_capture_that_kills_its_worker_is_the_only_error(
    sqlite_url: str, archive_of: Any
) -> None:
    urls = build(sqlite_url, 10)
    crashing = {u for u in urls if _crashes(u)}
    assert 1 <= len(crashing) <= 4
    archive = archive_of(sqlite_url)
    readers = Readers("tests.crawl.test_reextract:crashes_on_some")
    report = reextract(sqlite_url, readers=readers, workers=2, batch_size=3)
    assert report.totals["read"] == 10 and report.totals["errors"] == len(crashing)
    assert {f.url for fs in report.failures.values() for f in fs} == crashing
    assert all(f.reason == "the extraction worker reading this capture died"
               for fs in report.failures.values() for f in fs)
    rewritten = archive.rows("SELECT url FROM article_latest WHERE extractor_version = :v",
                             v=EXTRACTOR_VERSION)
    assert {r.url for r in rewritten} == set(urls) - crashing
    # The next run reads only what is left, and fails on it again.
    again = reextract(sqlite_url, readers=readers, workers=2, batch_size=3)
    assert again.totals["read"] == again.totals["errors"] == len(crashing)


def test_source_narrows_the_run_and_reads_with_its_extractor(
    db_url: str, archive_of: Any
) -> None:
    from archiver.crawl.extractors import ExtractorError
    from archiver.crawl.sources import Source

    build(db_url, 6, hosts=("one.test", "www.two.test"))
    archive = archive_of(db_url)
    readers = Readers(sources=[Source("one", domains=("one.test",), extractor=UPGRADED),
                               Source("two", domains=("two.test",))])
    report = reextract(db_url, readers=readers, source="one", workers=1)
    assert report.totals["read"] == 3 and set(report.sites) == {"one.test"}
    by_site = archive.rows("SELECT url, extractor_version FROM article_latest ORDER BY url")
    assert {r.extractor_version == EXTRACTOR_VERSION for r in by_site if "one.test" in r.url} \
        == {True}
    assert {r.extractor_version == EXTRACTOR_VERSION for r in by_site if "two.test" in r.url} \
        == {False}
    # Every page is now read by its source's extractor: the whole archive has nothing left.
    assert reextract(db_url, readers=readers, workers=1).totals["read"] == 0
    with pytest.raises(ExtractorError, match="no source named 'three'"):
        reextract(db_url, readers=readers, source="three")


def slow_upgraded(html: bytes, url: str, **kwargs: Any) -> Any:
    """The upgraded extractor, slow enough for a run to be stopped halfway."""
    import time

    from tests.crawl.plugged import upgraded

    time.sleep(0.25)
    return upgraded(html, url, **kwargs)


def _cli_env(db_url: str, extractor: str) -> dict[str, str]:
    return {"PATH": str(REPO / ".venv" / "bin"), "PYTHONPATH": str(REPO),
            "ARCHIVER_DATABASE_URL": db_url, "ARCHIVER_EXTRACTOR": extractor}


def test_ctrl_c_keeps_committed_batches_and_the_next_run_continues(
    sqlite_url: str, archive_of: Any, tmp_path: Any
) -> None:
    """A real Ctrl-C: SIGINT to the command's whole process group (its workers too), as a
    terminal sends it."""
    import os
    import signal
    import time

    build(sqlite_url, 12)
    archive = archive_of(sqlite_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "archiver.cli", "reextract", "--workers", "1",
         "--batch-size", "2"],
        cwd=tmp_path, env=_cli_env(sqlite_url, "tests.crawl.test_reextract:slow_upgraded"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while archive.scalar("SELECT count(*) FROM readings") < 2:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == (
        "archiver: reextract interrupted: committed batches are kept; run it again to continue")
    done = archive.scalar("SELECT count(*) FROM readings")
    assert 2 <= done < 12
    # The summary counts what was committed, nothing more.
    assert out.startswith(f"Re-extraction: {done} captures read")

    rest = subprocess.run(
        [sys.executable, "-m", "archiver.cli", "reextract"], cwd=tmp_path,
        env=_cli_env(sqlite_url, UPGRADED), capture_output=True, text=True, timeout=300,
    )
    assert rest.returncode == 0, rest.stderr
    assert rest.stdout.startswith(f"Re-extraction: {12 - done} captures read")
    assert archive.scalar("SELECT count(*) FROM readings") == 12
    assert archive.scalar(
        "SELECT count(*) FROM article_latest WHERE extractor_version = :v", v=EXTRACTOR_VERSION
    ) == 12


def test_progress_bar_on_a_terminal(sqlite_url: str, tmp_path: Any) -> None:
    import os
    import pty

    build(sqlite_url, 5)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "archiver.cli", "reextract", "--batch-size", "2"],
        cwd=tmp_path, env=_cli_env(sqlite_url, UPGRADED), stdout=subprocess.PIPE,
        stderr=follower, text=True,
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0
    assert out.startswith("Re-extraction: 5 captures read")
    assert b"\r[" in drawn and drawn.rstrip().endswith(b"] 5/5"), drawn
