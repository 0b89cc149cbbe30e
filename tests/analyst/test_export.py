"""Exports on both databases: JSONL round-trips, CSV reads back, WARC passes warcio's
checker and its response payloads are the raw captures byte for byte."""

from __future__ import annotations

import csv
import gzip
import json
import os
import pty
import re
import stat
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from warcio.archiveiterator import ArchiveIterator

from archiver.analyst import BadInput
from archiver.analyst import export as export_module
from archiver.analyst.export import export, view_columns
from archiver.analyst.select import Selection
from archiver.cli import main

from .conftest import BUDGET_1, BUDGET_2, BUDGET_3, PAGES, URL_BUDGET, URL_DE, URL_EN


def test_jsonl_round_trips_the_view(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "all.jsonl"
    report = export(conn, "jsonl", str(path), Selection(all_versions=True))
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert report.versions == len(records) == 5
    view = [dict(r._mapping) for r in conn.execute(text(
        "SELECT * FROM article_versions ORDER BY article_id, version"))]
    assert list(records[0]) == view_columns(conn) + ["site"]
    by_key = {(r["article_id"], r["version"]): r for r in records}
    for row in view:
        record = by_key[(row["article_id"], row["version"])]
        assert record["text"] == row["text"] and record["title"] == row["title"]
        assert record["raw_capture_id"] == row["raw_capture_id"]
    assert [r["text"] for r in records if r["url"] == URL_BUDGET] == [
        BUDGET_1, BUDGET_2, BUDGET_3]


def test_csv_reads_back_and_gzip(conn: Connection, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "latest.csv.gz"
    report = export(conn, "csv", str(path), Selection(site="example-news.com"))
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert report.versions == 2
    assert sorted((r["url"], r["version"], r["paywalled"]) for r in rows) == [
        (URL_BUDGET, "3", "false"), (URL_EN, "1", "false")]
    assert next(r for r in rows if r["url"] == URL_BUDGET)["text"] == BUDGET_3
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_warc_passes_the_checker_and_holds_the_raw_bytes(conn: Connection,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "archive.warc.gz"
    report = export(conn, "warc", str(path), Selection(all_versions=True))
    assert report.versions == 5
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", "-v",
                            str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    responses, conversions = {}, []
    with path.open("rb") as f:
        for record in ArchiveIterator(f):
            kind = record.rec_type
            if kind == "response":
                rid = record.rec_headers.get_header("WARC-Record-ID")
                responses[rid] = (record.rec_headers.get_header("WARC-Target-URI"),
                                  record.rec_headers.get_header("WARC-Date"),
                                  record.http_headers.get_statuscode(),
                                  record.content_stream().read())
            elif kind == "conversion":
                conversions.append((record.rec_headers.get_header("WARC-Refers-To"),
                                    json.loads(record.content_stream().read())))
    assert {r[0] for r in responses.values()} == {URL_DE, URL_EN, URL_BUDGET}
    expected = {URL_DE: PAGES[URL_DE], URL_EN: PAGES[URL_EN]}
    for refers_to, reading in conversions:
        uri, _date, status, payload = responses[refers_to]
        assert status == "200"
        want = expected.get(uri) or {1: BUDGET_1, 2: BUDGET_2, 3: BUDGET_3}[
            reading["version"]].encode()
        assert payload == want
    budget_dates = sorted(d for u, d, _, _ in responses.values() if u == URL_BUDGET)
    assert budget_dates == ["2026-11-01T12:02:00Z", "2026-11-01T13:00:00Z",
                            "2026-11-01T14:00:00Z"]
    assert len(conversions) == 5


def test_export_to_stdout_and_bad_input(conn: Connection, db_url: str, tmp_path: Path,
                                        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    assert main(["--database-url", db_url, "export", "--format", "jsonl",
                 "--as-of", "2026-11-01T13:30"]) == 0
    out, _ = capsysbinary.readouterr()
    assert sorted((json.loads(line)["url"], json.loads(line)["version"])
                  for line in out.splitlines()) == [(URL_BUDGET, 2), (URL_EN, 1), (URL_DE, 1)]
    for args in (["--format", "xml"], ["--format", "csv", "-o", str(tmp_path / "no/dir/x.csv")],
                 ["--format", "csv", "-o", str(tmp_path)], ["--format", "csv", "--since", "x"]):
        assert main(["--database-url", db_url, "export", *args]) == 2
        out, err = capsysbinary.readouterr()
        assert out == b"" and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(BadInput):
        export(conn, "pdf", None, Selection())


def test_an_interrupted_export_leaves_no_file(conn: Connection, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(done: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(export_module, "BATCH", 1)  # progress after the first row
    (tmp_path / "out").mkdir()
    with pytest.raises(KeyboardInterrupt):
        export(conn, "jsonl", str(tmp_path / "out" / "x.jsonl"), Selection(all_versions=True),
               progress=interrupt)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_device_or_a_pipe_is_written_to_not_replaced(conn: Connection, tmp_path: Path) -> None:
    """`-o /dev/null` or a FIFO: written to as it is (renaming a finished temporary file
    over it would replace the device with a file)."""
    (tmp_path / "out").mkdir()
    fifo = tmp_path / "out" / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    report = export(conn, "jsonl", str(fifo), Selection(all_versions=True))
    reader.join(timeout=30)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert len(received[0].splitlines()) == report.versions == 5
    assert [p.name for p in fifo.parent.iterdir()] == ["pipe"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_progress_bar_on_a_terminal_only(conn: Connection, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    command = [sys.executable, "-m", "archiver.cli", "--database-url", db_url, "export",
               "--format", "csv", "--all-versions", "-o", str(out)]
    master, replica = pty.openpty()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=replica, timeout=120,
                              check=False)
    finally:
        os.close(replica)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert done.returncode == 0, shown
    assert b"\r[" + b"#" * 30 + b"] 5/5" in shown
    assert shown.rstrip().endswith(f"{out}: 5 versions".encode())
    piped = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert piped.returncode == 0 and piped.stderr.decode() == f"{out}: 5 versions\n"


def test_export_by_source(conn: Connection, db_url: str, tmp_path: Path,
                          capsysbinary: pytest.CaptureFixture[bytes],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    from archiver import settings

    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "zeitung"\ndomains = ["zeitung.de"]\n'
                       'urls = ["https://www.zeitung.de/"]\n\n'
                       '[[source]]\nname = "nodomains"\nurls = ["https://x.example/"]\n')
    monkeypatch.setattr(settings, "ARCHIVER_SOURCES", str(sources))
    assert main(["--database-url", db_url, "export", "--format", "jsonl", "--all-versions",
                 "--source", "zeitung"]) == 0
    out, _ = capsysbinary.readouterr()
    assert [json.loads(line)["url"] for line in out.splitlines()] == [URL_DE]
    for name in ("nosuch", "nodomains"):
        assert main(["--database-url", db_url, "export", "--format", "jsonl",
                     "--source", name]) == 2
        out, err = capsysbinary.readouterr()
        assert out == b"" and len(err.strip().splitlines()) == 1, err


def test_warc_serves_each_version_at_its_own_time(conn: Connection, tmp_path: Path) -> None:
    """What a replay tool (pywb) does with the file, done with warcio: index the records by
    URL and time as a CDX does, then look each version up at its capture time, and at a
    moment before the next one: the response served is that version's raw capture. The
    readings are filed under another URI, so a lookup of the page never finds them."""
    path = tmp_path / "archive.warc"
    export(conn, "warc", str(path), Selection(all_versions=True))
    index: dict[str, list[tuple[str, int]]] = {}  # uri -> [(14-digit timestamp, offset)]
    with path.open("rb") as f:
        records = ArchiveIterator(f)
        for record in records:
            uri = record.rec_headers.get_header("WARC-Target-URI")
            if uri is None:
                continue
            stamp = re.sub(r"\D", "", record.rec_headers.get_header("WARC-Date"))[:14]
            index.setdefault(uri, []).append((stamp, records.get_record_offset()))
    assert all(uri.startswith("urn:reading:") for uri in index
               if not uri.startswith("https://"))
    assert len([u for u in index if u.startswith("urn:reading:")]) == 3

    def replay(uri: str, at: datetime) -> bytes:
        """The record closest to ``at`` (pywb's rule), its payload."""
        want = int(at.strftime("%Y%m%d%H%M%S"))
        _, offset = min(index[uri], key=lambda e: abs(int(e[0]) - want))
        with path.open("rb") as f:
            f.seek(offset)
            record = next(iter(ArchiveIterator(f)))
            assert record.rec_type == "response"
            return record.content_stream().read()

    versions = conn.execute(text(
        "SELECT v.url, v.version, v.captured_at FROM article_versions v "
        "ORDER BY v.url, v.version")).all()
    budget = [BUDGET_1, BUDGET_2, BUDGET_3]
    for url, version, captured_at in versions:
        at = captured_at if isinstance(captured_at, datetime) else datetime.fromisoformat(
            captured_at)
        want = PAGES.get(url) or budget[version - 1].encode()
        assert replay(url, at) == want
        assert replay(url, at + timedelta(minutes=20)) == want  # before the next version
    assert len(index[URL_BUDGET]) == 3
