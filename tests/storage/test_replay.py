"""`archiver replay` loads everything that can be loaded and sets the rest aside."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archiver.cli import EXIT_REPLAY_NO_INPUT, EXIT_REPLAY_SET_ASIDE, main
from archiver.crawl.spool import SpoolWriter, replay
from archiver.storage import models

from .helpers import BODY_A, BODY_B, make_article, make_fetch

OTHER = "https://www.example-news.com/city/tram-lines"


def _spool_with_bad_lines(path: Path) -> list[int]:
    """A spool of a crawl run this database never had: good records among bad lines.
    Returns the line numbers of the bad lines."""
    spool = SpoolWriter(path)
    spool.write(make_fetch(at=0), make_article(BODY_A), crawl_run_id=4242)
    spool.close()
    good = path.read_bytes().splitlines()[0]
    record = json.loads(good)

    def variant(**changes: object) -> bytes:
        data = json.loads(good)
        data.update(changes)
        return json.dumps(data).encode()

    no_id = json.loads(good)
    del no_id["fetch"]["id"]
    lines = [
        good,                                           # 1: loads
        b'{"format": 1, "fetch": {"id": "x", "url"',    # 2: garbled (cut mid-write)
        good.replace(b"night-buses", b"night-\xff"),    # 3: invalid UTF-8
        variant(outcome="exploded"),                    # 4: unknown outcome
        json.dumps(no_id).encode(),                     # 5: no fetch id
        b"",                                            # blank: ignored
        variant(outcome="new_version"),                 # 7: decided by the rule
    ]
    other = SpoolWriter(path.with_suffix(".tmp"))
    other.write(make_fetch(OTHER, at=5), make_article(BODY_B, canonical_url=OTHER),
                crawl_run_id=4242)
    other.close()
    lines.append(path.with_suffix(".tmp").read_bytes().strip())  # 8: loads
    assert record["crawl_run_id"] == 4242
    path.write_bytes(b"\n".join(lines) + b"\n")
    return [2, 3, 4, 5, 7]


def test_bad_records_are_set_aside_and_the_rest_loads(db_url: str, session: Session,
                                                       tmp_path: Path) -> None:
    path = tmp_path / "news-run4242.jsonl"
    bad = _spool_with_bad_lines(path)
    report = replay(path, db_url)
    assert (report.records, report.loaded, report.already_present, report.set_aside) == (
        7, 2, 0, 5)
    rejects = [json.loads(l) for l in report.rejects_path.read_text().splitlines()]
    assert [r["line"] for r in rejects] == bad
    reasons = [r["reason"] for r in rejects]
    assert reasons[0].startswith("not a JSON record")
    assert reasons[1].startswith("invalid UTF-8")
    assert reasons[2] == "unknown outcome 'exploded'"
    assert reasons[3] == "the fetch has no id"
    assert "decided by the versioning rule" in reasons[4]
    assert "\\xff" in rejects[1]["raw"]  # the line as it was, bytes shown
    # The crawl run came from another database: recreated, and the fetches point at it.
    new_run = report.runs_recreated[4242]
    run = session.get(models.CrawlRun, new_run)
    assert run.spider == "replay" and run.status == "replayed"
    assert run.args["replayed_crawl_run"].startswith("run 4242 of ")
    assert session.scalars(select(models.Fetch.crawl_run_id)).all() == [new_run, new_run]
    session.rollback()

    again = replay(path, db_url)
    assert (again.loaded, again.already_present, again.set_aside) == (0, 2, 5)
    assert again.runs_recreated == {}  # mapped to the run recreated the first time
    assert session.scalar(select(models.Fetch.id).where(models.Fetch.url == OTHER))


def test_replay_command_says_what_was_set_aside(sqlite_url: str, tmp_path: Path,
                                                capsys) -> None:
    path = tmp_path / "news-run4242.jsonl"
    _spool_with_bad_lines(path)
    assert main(["--database-url", sqlite_url, "replay", str(path)]) == EXIT_REPLAY_SET_ASIDE
    out = capsys.readouterr().out
    assert "7 spooled fetches: 2 loaded, 0 already present, 5 set aside" in out
    assert f"in {path}.rejects" in out and "recreated as run" in out
    missing = tmp_path / "missing.jsonl"
    assert main(["--database-url", sqlite_url, "replay", str(missing)]) == EXIT_REPLAY_NO_INPUT
    assert "cannot read" in capsys.readouterr().err


def test_clean_spool_exits_0(sqlite_url: str, tmp_path: Path, capsys) -> None:
    spool = SpoolWriter(tmp_path / "clean.jsonl")
    spool.write(make_fetch(at=0), make_article(BODY_A))
    spool.close()
    assert main(["--database-url", sqlite_url, "replay", str(spool.path)]) == 0
    assert "1 loaded, 0 already present, 0 set aside" in capsys.readouterr().out
    assert not Path(f"{spool.path}.rejects").exists()


def test_a_record_cut_by_a_full_disk_is_removed(tmp_path: Path, monkeypatch) -> None:
    """The disk fills up halfway through a record: the half line is cut off again, so the
    next record (once there is room) is a line of its own."""
    import errno
    import os

    import pytest

    spool = SpoolWriter(tmp_path / "spool.jsonl")
    spool.write(make_fetch(at=0), make_article(BODY_A))
    real_write = os.write

    def disk_full_halfway(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full_halfway)
    with pytest.raises(OSError, match="No space left"):
        spool.write(make_fetch(OTHER, at=1), make_article(BODY_B, canonical_url=OTHER))
    monkeypatch.undo()
    spool.write(make_fetch(OTHER, at=2), make_article(BODY_B, canonical_url=OTHER))
    spool.close()
    lines = (tmp_path / "spool.jsonl").read_bytes().splitlines()
    assert spool.count == 2
    assert [json.loads(line)["fetch"]["fetched_at"][-14:-6] for line in lines] == [
        "12:00:00", "12:02:00"]


def test_a_spool_from_another_database_with_the_same_run_id(db_url: str, session: Session,
                                                             tmp_path: Path) -> None:
    """This database has a crawl run 1 of its own; the spool's run 1 is another
    database's: its fetches go to a copy of that run, never to this database's run 1."""
    from archiver.storage.archive import start_crawl_run

    own = start_crawl_run(session, "news", {})
    theirs = {"id": own, "spider": "news", "started_at": "2026-11-01T11:00:00+00:00"}
    spool = SpoolWriter(tmp_path / "theirs.jsonl", run=theirs)
    spool.write(make_fetch(at=0), make_article(BODY_A), crawl_run_id=own)
    spool.close()
    report = replay(spool.path, db_url)
    copy = report.runs_recreated[own]
    assert copy != own and report.loaded == 1
    run = session.get(models.CrawlRun, copy)
    assert (run.spider, run.status) == ("news", "replayed")
    assert run.started_at.isoformat() == "2026-11-01T11:00:00+00:00"
    assert session.scalars(select(models.Fetch.crawl_run_id)).all() == [copy]
    session.rollback()
    assert replay(spool.path, db_url).runs_recreated == {}  # the copy is found again
    assert session.scalar(select(func.count()).select_from(models.CrawlRun)) == 2


def test_a_spool_from_this_database_keeps_its_run(db_url: str, session: Session,
                                                  tmp_path: Path) -> None:
    from archiver.crawl.spool import run_identity
    from archiver.storage.archive import start_crawl_run

    own = start_crawl_run(session, "news", {})
    with session.begin():
        identity = run_identity(session, own)
    spool = SpoolWriter(tmp_path / "ours.jsonl", run=identity)
    spool.write(make_fetch(at=0), make_article(BODY_A), crawl_run_id=own)
    spool.close()
    report = replay(spool.path, db_url)
    assert report.runs_recreated == {} and report.loaded == 1
    assert session.scalars(select(models.Fetch.crawl_run_id)).all() == [own]


def test_a_record_the_database_refuses_is_set_aside_and_the_rest_loads(
        db_url: str, engine, tmp_path: Path) -> None:
    """A record that is well formed but that the database will not take (here a rule a
    DBA added: a CHECK on PostgreSQL, a trigger on SQLite) is set aside with the
    database's own reason; the records around it load, and the replay goes on."""
    from sqlalchemy import text

    refused = "https://www.example-news.com/city/night-buses"
    path = tmp_path / "news-refused.jsonl"
    spool = SpoolWriter(path)
    spool.write(make_fetch(OTHER, at=0), make_article(BODY_B, canonical_url=OTHER))
    spool.write(make_fetch(refused, at=1), make_article(BODY_A, canonical_url=refused))
    spool.write(make_fetch(OTHER, at=2), make_article(BODY_A, canonical_url=OTHER))
    spool.close()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE articles ADD CONSTRAINT refuse_me "
                              f"CHECK (url <> '{refused}')"))
        else:
            conn.execute(text(f"CREATE TRIGGER refuse_me BEFORE INSERT ON articles "
                              f"WHEN NEW.url = '{refused}' "
                              f"BEGIN SELECT RAISE(ABORT, 'refuse_me: not this URL'); END"))

    report = replay(path, db_url)

    assert (report.records, report.loaded, report.already_present, report.set_aside) == (
        3, 2, 0, 1)
    [reject] = [json.loads(l) for l in report.rejects_path.read_text().splitlines()]
    assert reject["line"] == 2
    assert reject["reason"].startswith("the database refused it: ")
    assert "refuse_me" in reject["reason"]
    assert json.loads(reject["raw"])["fetch"]["url"] == refused  # the line as it was
    with engine.connect() as conn:
        urls = conn.execute(text("SELECT url FROM fetches ORDER BY fetched_at")).scalars().all()
        versions = conn.execute(text("SELECT count(*) FROM versions")).scalar()
    assert urls == [OTHER, OTHER] and versions == 2  # nothing half-written of line 2

    # The rule lifted, the same spool loads what was set aside and nothing twice.
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE articles DROP CONSTRAINT refuse_me"
                          if engine.dialect.name == "postgresql"
                          else "DROP TRIGGER refuse_me"))
    again = replay(path, db_url)
    assert (again.loaded, again.already_present, again.set_aside) == (1, 2, 0)


def test_replay_command_names_the_refused_record(sqlite_url: str, tmp_path: Path,
                                                 capsys) -> None:
    from sqlalchemy import text

    from archiver.storage.session import make_engine

    path = tmp_path / "news-refused.jsonl"
    spool = SpoolWriter(path)
    spool.write(make_fetch(at=0), make_article(BODY_A))
    spool.write(make_fetch(OTHER, at=1), make_article(BODY_B, canonical_url=OTHER))
    spool.close()
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TRIGGER refuse_me BEFORE INSERT ON articles "
                          f"WHEN NEW.url = '{OTHER}' BEGIN SELECT RAISE(ABORT, 'no'); END"))
    engine.dispose()
    assert main(["--database-url", sqlite_url, "replay", str(path)]) == EXIT_REPLAY_SET_ASIDE
    captured = capsys.readouterr()
    assert "2 spooled fetches: 1 loaded, 0 already present, 1 set aside" in captured.out
    assert f"(in {path}.rejects, with line numbers and reasons)" in captured.out
    assert captured.err == ""
