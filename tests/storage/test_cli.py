"""`archiver db ...` as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archiver.cli", *args],
        cwd=cwd, env={"PATH": str(Path(sys.executable).parent), **(env or {})},
        capture_output=True, text=True, timeout=120,
    )


def test_default_is_sqlite_file_in_working_directory(tmp_path: Path) -> None:
    before = run("db", "current", cwd=tmp_path)
    assert before.returncode == 1 and "run `archiver db upgrade`" in before.stdout
    up = run("db", "upgrade", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert (tmp_path / "archive.db").exists()
    now = run("db", "current", cwd=tmp_path)
    assert now.returncode == 0 and "(head)" in now.stdout


@pytest.mark.postgres
def test_upgrade_downgrade_upgrade_on_postgres(empty_pg_url: str, tmp_path: Path) -> None:
    env = {"ARCHIVER_DATABASE_URL": empty_pg_url}
    for args in (("db", "upgrade"), ("db", "downgrade", "base"), ("db", "upgrade"), ("db", "current")):
        done = run(*args, cwd=tmp_path, env=env)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    assert "(head)" in done.stdout


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://archiver:hunter2@127.0.0.1:1/archive?connect_timeout=2"
    done = run("db", "upgrade", cwd=tmp_path, env={"ARCHIVER_DATABASE_URL": url})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("archiver: error: cannot reach the database at ")
    assert "archiver:***@127.0.0.1:1/archive" in lines[0] and "hunter2" not in lines[0]
