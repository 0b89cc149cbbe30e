"""Reading sitemaps, sitemap indexes and Google News sitemaps, safely.

Scrapy's own sitemap parsing keeps only ``loc`` (and ``lastmod``); a news sitemap also
says when an article was published and what it is called, which is worth keeping as
fetch metadata. The parser never expands entities and never touches the network, so a
"billion laughs" sitemap stays small; malformed or truncated XML is read as far as it
goes and the problem is reported rather than raised.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lxml import etree

logger = logging.getLogger(__name__)

#: Sitemaps are limited to 50 MB uncompressed by the protocol; never inflate beyond it.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024


def safe_xml_parser() -> etree.XMLParser:
    """An lxml parser that cannot be made to expand entities or fetch anything."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )


@dataclass(slots=True)
class SitemapEntry:
    """One ``<url>`` of a urlset or one ``<sitemap>`` of an index."""

    loc: str
    lastmod: datetime | None = None
    #: Google News sitemap fields (``news:title``, ``news:publication_date``).
    news_title: str | None = None
    news_publication_date: datetime | None = None

    def meta(self) -> dict[str, str]:
        """What the sitemap said, as JSON-ready fetch metadata."""
        out: dict[str, str] = {}
        if self.lastmod:
            out["lastmod"] = self.lastmod.isoformat()
        if self.news_title:
            out["news_title"] = self.news_title
        if self.news_publication_date:
            out["news_publication_date"] = self.news_publication_date.isoformat()
        return out


@dataclass(slots=True)
class Sitemap:
    """A parsed sitemap: ``kind`` is ``urlset``, ``sitemapindex``, ``text`` or ``unknown``."""

    kind: str
    entries: list[SitemapEntry] = field(default_factory=list)
    #: What was wrong with the document, if anything (it was still read as far as it went).
    problem: str | None = None

    @property
    def is_index(self) -> bool:
        return self.kind == "sitemapindex"


def parse_w3c_datetime(value: str | None) -> datetime | None:
    """A sitemap/feed date (W3C datetime: ``2024-05-01``, ``2024-05-01T10:00:00+02:00``)
    as an aware datetime, or None when it is missing or invalid."""
    if not value:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def maybe_gunzip(body: bytes, limit: int = MAX_SITEMAP_BYTES) -> tuple[bytes, str | None]:
    """The body un-gzipped if it is gzip (``sitemap.xml.gz`` served as a file), never
    inflating beyond ``limit``. Returns ``(bytes, problem)``."""
    if not body.startswith(b"\x1f\x8b"):
        return body, None
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
            data = f.read(limit + 1)
    except (OSError, EOFError) as exc:
        return b"", f"bad gzip: {exc}"
    if len(data) > limit:
        return data[:limit], f"larger than {limit} bytes uncompressed, truncated"
    return data, None


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _child_text(el: etree._Element, *path: str) -> str | None:
    """Text of the first descendant reached through children with these local names."""
    current = [el]
    for name in path:
        current = [c for p in current for c in p if _local(c.tag) == name]
        if not current:
            return None
    text = "".join(current[0].itertext()).strip()
    return text or None


def too_many(limit: int) -> str:
    """The problem of a listing cut at ``limit`` entries."""
    return f"more than {limit} entries: read the first {limit}"


def parse_sitemap(body: bytes, max_entries: int | None = None) -> Sitemap:
    """Parse a sitemap, sitemap index, news sitemap or plain-text URL list.

    Never raises on bad input: a document that cannot be read at all is ``unknown`` with
    a ``problem``; a truncated one yields the entries before the break and a ``problem``.
    At most ``max_entries`` entries are read; past them, a ``problem`` says so.
    """
    body, problem = maybe_gunzip(body)
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return Sitemap("unknown", problem=problem or "empty document")
    if not stripped.startswith(b"<"):
        # A text sitemap: one URL per line.
        urls = [
            line.strip()
            for line in stripped.decode("utf-8", "replace").splitlines()
            if re.match(r"^https?://\S+$", line.strip())
        ]
        if max_entries is not None and len(urls) > max_entries:
            urls, problem = urls[:max_entries], problem or too_many(max_entries)
        return Sitemap("text", [SitemapEntry(u) for u in urls], problem)
    parser = safe_xml_parser()
    try:
        root = etree.fromstring(stripped, parser)
    except etree.XMLSyntaxError as exc:
        return Sitemap("unknown", problem=f"unreadable XML: {exc}")
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        problem = problem or f"malformed XML (read what could be): {errors[0].message}"
    if root is None:
        return Sitemap("unknown", problem=problem or "no root element")
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        return Sitemap("unknown", problem=problem or f"not a sitemap: <{kind}>")
    child_name = "url" if kind == "urlset" else "sitemap"
    entries = []
    for el in root:
        if _local(el.tag) != child_name:
            continue
        loc = _child_text(el, "loc")
        if not loc or not re.match(r"^https?://", loc):
            continue
        if max_entries is not None and len(entries) >= max_entries:
            problem = problem or too_many(max_entries)
            break
        entries.append(
            SitemapEntry(
                loc=loc,
                lastmod=parse_w3c_datetime(_child_text(el, "lastmod")),
                news_title=_child_text(el, "news", "title"),
                news_publication_date=parse_w3c_datetime(
                    _child_text(el, "news", "publication_date")
                ),
            )
        )
    return Sitemap(kind, entries, problem)


def sitemaps_from_robots(body: bytes) -> list[str]:
    """The ``Sitemap:`` URLs a robots.txt lists."""
    text = body.decode("utf-8", "replace")
    return [
        m.group(1).strip()
        for m in re.finditer(r"^\s*sitemap\s*:\s*(\S+)", text, re.IGNORECASE | re.MULTILINE)
    ]
