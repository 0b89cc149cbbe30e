"""`archiver history`, `diff` and `show` as a user runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.storage import archive, make_engine, make_sessionmaker

from .helpers import BODY_B, make_article, make_fetch

NOTE = "Correction: An earlier version of this article misstated the number of residents."
CORRECTED = BODY_B + "\n\n" + NOTE
#: Forms of the article's URL a reader may paste: none is the archive's own.
VARIANTS = [
    "http://example-news.com/city/night-buses/?utm_source=newsletter&fbclid=x",
    "www.example-news.com/city/night-buses#comments",
    "HTTPS://WWW.EXAMPLE-NEWS.COM/city/night-buses",
    # A page the archive keeps under its canonical: found through the fetch log.
    "https://www.example-news.com/city/night-buses?ref=home",
]


def run(db_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archiver.cli", *args], cwd=cwd,
        env={"PATH": str(Path(sys.executable).parent), "ARCHIVER_DATABASE_URL": db_url},
        capture_output=True, text=True, timeout=120, check=False,
    )


def build(db_url: str) -> None:
    """Versions A, A corrected, a new headline, then A again (a revert); and an article
    with one version."""
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            archive(session, make_fetch(at=0), make_article())
            archive(session, make_fetch(at=10), make_article(CORRECTED))
            archive(session, make_fetch(at=20), make_article(CORRECTED, title="Fewer riders"))
            archive(session, make_fetch(at=30), make_article())
            archive(session, make_fetch(VARIANTS[3], at=40), make_article())  # unchanged
            archive(session, make_fetch("https://example-news.com/other", at=5),
                    make_article(canonical_url=None, title="Other"))
    finally:
        engine.dispose()


def test_history_diff_show(db_url: str, tmp_path: Path) -> None:
    build(db_url)
    for variant in VARIANTS:
        done = run(db_url, "history", variant, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].startswith("https://www.example-news.com/city/night-buses "
                                   "(example-news.com): 4 versions")
        assert "correction, substantive" in lines[2] and "+13 -1" in lines[2]
        assert "headline, substantive, revert" in lines[4]

    as_json = json.loads(run(db_url, "history", VARIANTS[0], "--json", cwd=tmp_path).stdout)
    assert [v["classes"] for v in as_json["versions"]] == [
        [], ["correction", "substantive"], ["headline"], ["headline", "substantive", "revert"]]
    assert as_json["versions"][1]["captured_at"] == "2026-11-01T12:10:00+00:00"

    latest = run(db_url, "diff", VARIANTS[1], cwd=tmp_path)  # the last two by default
    assert latest.returncode == 0, latest.stderr
    assert "version 3 (2026-11-01 12:20:00 UTC)" in latest.stdout
    assert "title: [-Fewer riders-]{+Council extends night buses to northern suburbs+}" in (
        latest.stdout)
    assert f"[-{NOTE}-]" in latest.stdout
    assert "\x1b[" not in latest.stdout  # not a terminal: no colour

    words = run(db_url, "diff", VARIANTS[2], "1", "2", cwd=tmp_path).stdout
    assert "serve about [-40,000-]{+14,000+} residents" in words
    assert "change: correction, substantive (+13 -1 words)" in words

    lines = run(db_url, "diff", VARIANTS[0], "1", "2", "--lines", "--color=always",
                cwd=tmp_path).stdout
    assert "\x1b[31m-Council member Ana Ruiz said the change would serve about 40,000" in lines
    assert f"\x1b[32m+{NOTE}\x1b[0m" in lines

    then = run(db_url, "show", VARIANTS[0], "--as-of", "2026-11-01T12:15:00Z", cwd=tmp_path)
    assert then.returncode == 0, then.stderr
    assert "version 2 of 4, captured 2026-11-01 12:10:00 UTC" in then.stdout
    assert "about 14,000 residents" in then.stdout and NOTE in then.stdout
    first = run(db_url, "show", VARIANTS[1], "--version", "1", cwd=tmp_path).stdout
    assert "about 40,000 residents" in first and NOTE not in first


@pytest.mark.parametrize(("args", "message"), [
    (["history", "https://example-news.com/never-archived"],
     "no article archived at https://example-news.com/never-archived"),
    (["show", VARIANTS[0], "--version", "9"], "has versions 1 to 4, not 9"),
    (["show", VARIANTS[0], "--version", "latest"], "must be a version number, not 'latest'"),
    (["show", VARIANTS[0], "--as-of", "yesterday"], "--as-of must be an ISO date"),
    (["show", VARIANTS[0], "--as-of", "2026-10-01"], "was first captured at 2026-11-01T12:00"),
    (["diff", VARIANTS[0], "0", "2"], "has versions 1 to 4, not 0"),
    (["diff", "https://example-news.com/other"], "has one version only: nothing to compare"),
])
def test_what_is_not_there_is_one_line_and_exit_2(
    sqlite_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    build(sqlite_url)
    done = run(sqlite_url, *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("archiver: error: ") and message in line, line


def test_behind_schema_is_one_line(tmp_path: Path) -> None:
    from archiver.storage import migrate

    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0010")
    done = run(url, "history", VARIANTS[0], cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "run `archiver db upgrade`" in line


def test_body_unchanged_says_so(sqlite_url: str, tmp_path: Path) -> None:
    build(sqlite_url)
    done = run(sqlite_url, "diff", VARIANTS[0], "2", "3", cwd=tmp_path)
    assert done.stdout.splitlines()[2:] == [
        "change: headline (+0 -0 words)",
        "title: [-Council extends night buses to northern suburbs-]{+Fewer riders+}",
        "",
        "(the text is the same)",
    ]
