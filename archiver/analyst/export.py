"""Streaming exports of versions: JSONL, CSV (the ``article_versions`` view's columns and
the site) and WARC (``archiver.analyst.warc``).

Memory stays flat whatever the archive's size: rows are read in batches through a
server-side cursor on PostgreSQL (a plain cursor on SQLite, which reads lazily) and
written as they come. A file appears only when complete: the export writes a temporary
file beside it and renames it at the end; an interrupted or failed export leaves nothing.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Boolean, Connection, text

from archiver.analyst import BadInput
from archiver.analyst.select import Selection
from archiver.storage.models import Version
from archiver.storage.types import UTCDateTime

FORMATS = ("jsonl", "csv", "warc")
#: Rows fetched from the database at a time.
BATCH = 500
#: CSV text held before it is written out (memory stays at about this, whatever the rows).
FLUSH_CHARS = 1 << 20


@dataclass
class ExportReport:
    """What an export wrote."""

    format: str
    path: str | None
    versions: int = 0
    #: WARC: versions without a stored raw capture (nothing to replay; JSONL has them).
    without_capture: int = 0


def view_columns(conn: Connection) -> list[str]:
    """The ``article_versions`` view's columns, in order (new ones come at the end)."""
    result = conn.execute(text("SELECT * FROM article_versions WHERE 1 = 0"))
    try:
        return list(result.keys())
    finally:
        result.close()


def count(conn: Connection, selection: Selection) -> int:
    """How many versions an export of ``selection`` writes (for a progress bar)."""
    conds, params, binds = selection.where()
    sql = ("SELECT count(*) FROM versions v JOIN articles a ON a.id = v.article_id "
           "JOIN sites s ON s.id = a.site_id" + _where(conds))
    return conn.execute(text(sql).bindparams(*binds), params).scalar_one()


def rows(conn: Connection, selection: Selection) -> Iterator[dict[str, Any]]:
    """The selected versions as the ``article_versions`` view shows them, plus ``site``
    (and the version's row id, ``_version_id``, for the WARC writer), in version id order,
    streamed."""
    columns = view_columns(conn)
    conds, params, binds = selection.where()
    select_list = ", ".join(f"av.{c}" for c in columns)
    sql = f"""
SELECT {select_list}, s.domain AS site, v.id AS _version_id, v.language AS _language
FROM versions v
JOIN articles a ON a.id = v.article_id
JOIN sites s ON s.id = a.site_id
JOIN article_versions av ON av.article_id = v.article_id AND av.version = v.version
{_where(conds)}
ORDER BY v.id
"""
    typed = {c: _result_type(c) for c in columns if _result_type(c) is not None}
    stmt = text(sql).bindparams(*binds).columns(**typed)
    result = conn.execute(stmt, params,
                          execution_options={"stream_results": True, "yield_per": BATCH})
    try:
        for row in result:
            yield dict(row._mapping)
    finally:
        result.close()


def _result_type(column: str) -> Any:
    """How to read a view column back on both databases (SQLite has no booleans nor
    timestamps of its own)."""
    model = Version.__table__.c
    if column in model and isinstance(model[column].type, Boolean):
        return Boolean()
    if column.endswith("_at"):
        return UTCDateTime()
    return None


def _where(conds: list[str]) -> str:
    return (" WHERE " + " AND ".join(conds)) if conds else ""


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def write_jsonl(conn: Connection, selection: Selection, out: IO[bytes],
                progress: Callable[[int], None] | None = None) -> int:
    n = 0
    for row in rows(conn, selection):
        record = {k: _plain(v) for k, v in row.items() if not k.startswith("_")}
        out.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
        n += 1
        if progress and n % BATCH == 0:
            progress(n)
    return n


def write_csv(conn: Connection, selection: Selection, out: IO[bytes],
              progress: Callable[[int], None] | None = None) -> int:
    """CSV (RFC 4180, UTF-8, a header line): times ISO 8601, booleans ``true``/``false``,
    NULL an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> None:
        out.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()

    n = 0
    header: list[str] | None = None
    for row in rows(conn, selection):
        if header is None:
            header = [k for k in row if not k.startswith("_")]
            writer.writerow(header)
        writer.writerow([_csv_value(row[k]) for k in header])
        n += 1
        if buffer.tell() >= FLUSH_CHARS:  # long texts: a few rows fill it
            flush()
        if n % BATCH == 0 and progress:
            progress(n)
    if header is None:
        writer.writerow(view_columns(conn) + ["site"])
    flush()
    return n


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _plain(value)


@contextmanager
def output(path: str | None, *, compress: bool = True) -> Iterator[IO[bytes]]:
    """Where an export writes: stdout (``None`` or ``-``), or ``path`` through a temporary
    file renamed into place on success (gzip-compressed when the name ends in ``.gz``,
    unless ``compress`` is false: the WARC writer compresses record by record). A path
    that is a device or a pipe (``/dev/null``, a FIFO) is written to directly.

    Raises:
        BadInput: the path cannot be written (checked before anything is read).
    """
    if path in (None, "-"):
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise BadInput(f"cannot write {path}: it is a directory")
    if target.exists() and not target.is_file():
        # A device or a pipe (/dev/null, a FIFO, /dev/stdout): written to as it is; a
        # temporary file renamed over it would replace it.
        try:
            raw = open(target, "wb")  # noqa: SIM115
        except OSError as exc:
            raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
        with raw, _compressed(raw, target.name, compress) as out:
            yield out
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                   dir=target.parent if str(target.parent) else ".")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as raw, _compressed(raw, target.name, compress) as out:
            yield out
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _compressed(raw: IO[bytes], name: str, compress: bool) -> Iterator[IO[bytes]]:
    """``raw``, gzip-compressed when ``name`` ends in ``.gz`` (and ``compress``)."""
    if compress and name.endswith(".gz"):
        with gzip.GzipFile(filename=name[:-3], mode="wb", fileobj=raw, compresslevel=6) as gz:
            yield gz
    else:
        yield raw


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def export(conn: Connection, fmt: str, path: str | None, selection: Selection,
           progress: Callable[[int], None] | None = None) -> ExportReport:
    """Write the selected versions to ``path`` (stdout if None) in ``fmt``.

    Raises:
        BadInput: an unknown format, or a path that cannot be written.
    """
    if fmt not in FORMATS:
        raise BadInput(f"unknown export format {fmt!r} (one of: {', '.join(FORMATS)})")
    report = ExportReport(fmt, path)
    gzipped = path is not None and path.endswith(".gz")
    with output(path, compress=fmt != "warc") as out:
        if progress:
            progress(0)
        if fmt == "jsonl":
            report.versions = write_jsonl(conn, selection, out, progress)
        elif fmt == "csv":
            report.versions = write_csv(conn, selection, out, progress)
        else:
            from archiver.analyst.warc import write_warc

            report.versions, report.without_capture = write_warc(
                conn, selection, out, progress, gzip=gzipped)
        if progress:
            progress(report.versions + report.without_capture)
    return report
