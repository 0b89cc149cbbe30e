"""`archiver search` and `archiver export` as a user runs them: output, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Connection

from archiver.cli import main

from .conftest import URL_BUDGET, URL_EN


def run(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    status = main(["--database-url", url, *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_search_prints_url_version_time_title_snippet(
        conn: Connection, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, db_url, "search", "turnout")
    assert status == 0
    title, snippet = out.splitlines()
    assert title == f"{URL_EN}  v1  2026-11-01 12:01Z  Three cities vote"
    assert snippet.startswith("    ") and "«Turnout» was higher than expected" in snippet
    status, out, _ = run(capsys, db_url, "search", "mayor", "--all-versions", "--json",
                         "--limit", "2", "--site", "example-news.com")
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and len(rows) == 2
    assert set(rows[0]) == {"article_id", "url", "site", "version", "captured_at", "title",
                            "snippet"}


def test_search_removed_and_added(
        conn: Connection, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, db_url, "search", "--removed", "no library would close")
    assert status == 0
    assert out.splitlines() == [
        f"{URL_BUDGET}  v1 -> v2  2026-11-01 13:00Z",
        "    before: The mayor promised that no library would close this year.",
        "    after:  The mayor said some libraries might close this year.",
    ]
    status, out, _ = run(capsys, db_url, "search", "--added", "no library would close",
                         "--json")
    [row] = [json.loads(line) for line in out.splitlines()]
    assert (row["before_version"], row["after_version"], row["sentence_before"]) == (2, 3, "")


@pytest.mark.parametrize("args", [
    ["search", '"unbalanced'],
    ["search", "- or"],
    ["search"],
    ["search", "x", "--removed", "y"],
    ["search", "budget", "--since", "yesterday"],
    ["search", "budget", "--as-of", "2026-13-01"],
    ["search", "--removed", '"half'],
    ["search", "budget", "--limit", "-1"],
])
def test_bad_input_is_one_line_and_exit_2(
        args: list[str], sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, sqlite_url, *args)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("archiver search: error: ")


def test_missing_archive_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, f"sqlite:///{tmp_path / 'none.db'}", "search", "budget")
    assert status == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["analyst"], ["bad-name"], ["analyst", "--password"]])
def test_sqlite_has_no_roles(args: list[str], tmp_path: Path) -> None:
    """One line, exit 2, and no archive.db made (as a user types it)."""
    done = subprocess.run([sys.executable, "-m", "archiver.cli", "db", "grant-readonly", *args],
                          cwd=tmp_path, capture_output=True, text=True, input="pw\n",
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "PYTHONPATH": str(Path(__file__).resolve().parents[2])}, check=False, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("archiver db grant-readonly: error: SQLite has no roles")
    assert len(done.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
