"""WARC 1.1 export (written with ``warcio``): the pages as the publisher served them.

For every selected version with a stored raw capture:

- a ``response`` record: the URL the body came from (after redirects), the fetch's time
  (``WARC-Date``), its HTTP status and headers, and the body byte for byte as stored. The
  crawler stores bodies after transfer decoding (Scrapy undoes gzip/br/chunked), so the
  headers that described an encoding are kept renamed ``X-Archive-Orig-Content-Encoding``
  / ``-Transfer-Encoding`` and ``Content-Length`` is the body's, as web archives do for
  replay;
- a ``conversion`` record (WARC's type for content derived from another record) holding
  the extracted reading as JSON (``title, authors, published_at, modified_at, language,
  text, extractor_version, content_hash, version, article_url, read_at``), whose
  ``WARC-Refers-To`` (and ``-Target-URI``, ``-Date``) name the response record and whose
  ``WARC-Date`` is the reading's. Its ``WARC-Target-URI`` is the page's behind
  ``urn:reading:``, so that replay tools (pywb) serve the page, never the JSON, at
  that URI.

A ``warcinfo`` record comes first. Versions without a raw capture are counted, not
written (JSONL and CSV have them).
"""

from __future__ import annotations

import http
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from sqlalchemy import JSON, Connection, text
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from archiver.analyst.select import Selection
from archiver.storage.raw import decompress
from archiver.storage.types import UTCDateTime

#: A reading's record is filed under the page's URI behind this prefix (as Browsertrix
#: files extracted text under ``urn:text:``): under the page's own URI, a replay tool
#: would index it beside the response, at the same time, and serve the JSON instead of
#: the page.
READING_URI_PREFIX = "urn:reading:"

#: Response headers that describe an encoding the stored body no longer has.
_ENCODING_HEADERS = {"content-encoding", "transfer-encoding"}

_SQL = """
SELECT v.id AS version_id, a.url AS article_url, v.version, v.captured_at,
       COALESCE(v.read_at, v.captured_at) AS read_at, v.title, v.authors, v.published_at,
       v.modified_at, v.language, v.text, v.extractor_version, v.content_hash,
       r.body AS raw_body, r.content_type AS raw_content_type,
       f.url AS fetch_url, f.final_url, f.status, f.fetched_at, f.headers
FROM versions v
JOIN articles a ON a.id = v.article_id
JOIN sites s ON s.id = a.site_id
LEFT JOIN raw_captures r ON r.id = v.raw_capture_id
LEFT JOIN fetches f ON f.id = (
    SELECT min(f2.id) FROM fetches f2
    WHERE f2.article_id = v.article_id AND f2.version = v.version
      AND f2.raw_capture_id = v.raw_capture_id)
{where}
ORDER BY v.id
"""


def write_warc(conn: Connection, selection: Selection, out: IO[bytes],
               progress: Callable[[int], None] | None = None,
               *, gzip: bool = False) -> tuple[int, int]:
    """Write the selected versions as WARC 1.1 records to ``out`` (each record
    gzip-compressed on its own when ``gzip``: a ``.warc.gz``).

    Returns:
        (versions written, versions skipped for want of a raw capture)
    """
    writer = WARCWriter(out, gzip=gzip, warc_version="WARC/1.1")
    info = writer.create_warcinfo_record("archiver-export.warc", {
        "software": "archiver",
        "format": "WARC File Format 1.1",
        "description": "versions of news articles: response records with the raw "
                       "captures, conversion records with their extracted readings",
    })
    writer.write_record(info)
    conds, params, binds = selection.where()
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    stmt = text(_SQL.format(where=where)).bindparams(*binds).columns(
        captured_at=UTCDateTime(), read_at=UTCDateTime(), published_at=UTCDateTime(),
        modified_at=UTCDateTime(), fetched_at=UTCDateTime(), headers=JSON())
    written = skipped = 0
    result = conn.execute(stmt, params,
                          execution_options={"stream_results": True, "yield_per": 200})
    try:
        for row in result:
            if row.raw_body is None:
                skipped += 1
                continue
            _write_version(writer, row._mapping)
            written += 1
            if progress and written % 200 == 0:
                progress(written + skipped)
    finally:
        result.close()
    return written, skipped


def _write_version(writer: WARCWriter, row: Any) -> None:
    body = decompress(row["raw_body"])
    uri = row["final_url"] or row["fetch_url"] or row["article_url"]
    status = row["status"] or 200
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    headers = _http_headers(row["headers"] or {}, len(body), row["raw_content_type"])
    http_headers = StatusAndHeaders(f"{status} {phrase}".strip(), headers,
                                    protocol="HTTP/1.1")
    response = writer.create_warc_record(
        uri, "response", payload=io.BytesIO(body), length=len(body),
        http_headers=http_headers,
        warc_headers_dict={"WARC-Date": _iso(row["fetched_at"] or row["captured_at"])},
    )
    writer.write_record(response)
    reading = {
        "article_url": row["article_url"],
        "version": row["version"],
        "title": row["title"],
        "authors": row["authors"],
        "published_at": _plain(row["published_at"]),
        "modified_at": _plain(row["modified_at"]),
        "language": row["language"],
        "text": row["text"],
        "extractor_version": row["extractor_version"],
        "content_hash": row["content_hash"],
        "read_at": _plain(row["read_at"]),
    }
    payload = json.dumps(reading, ensure_ascii=False).encode()
    conversion = writer.create_warc_record(
        READING_URI_PREFIX + uri, "conversion", payload=io.BytesIO(payload),
        length=len(payload), warc_content_type="application/json",
        warc_headers_dict={
            "WARC-Date": _iso(row["read_at"]),
            "WARC-Refers-To": response.rec_headers.get_header("WARC-Record-ID"),
            "WARC-Refers-To-Target-URI": uri,
            "WARC-Refers-To-Date": response.rec_headers.get_header("WARC-Date"),
        },
    )
    writer.write_record(conversion)


def _http_headers(stored: dict[str, Any], length: int,
                  content_type: str | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in stored.items():
        lower = name.lower()
        if lower == "content-length":
            continue
        if lower in _ENCODING_HEADERS:
            name = "X-Archive-Orig-" + name
        out.append((name, str(value)))
    if content_type and not any(n.lower() == "content-type" for n, _ in out):
        out.append(("Content-Type", content_type))
    out.append(("Content-Length", str(length)))
    return out


def _iso(value: datetime) -> str:
    return datetime_to_iso_date(value.replace(tzinfo=None), use_micros=True)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
