"""Reading RSS 2.0, RSS 1.0 (RDF) and Atom feeds, safely (see :mod:`archiver.crawl.sitemaps`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree

from archiver.crawl.sitemaps import (
    _child_text,
    _local,
    maybe_gunzip,
    parse_w3c_datetime,
    safe_xml_parser,
    too_many,
)


@dataclass(slots=True)
class FeedEntry:
    link: str
    title: str | None = None
    published: datetime | None = None
    updated: datetime | None = None

    def meta(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.title:
            out["feed_title"] = self.title
        if self.published:
            out["feed_published"] = self.published.isoformat()
        if self.updated:
            out["feed_updated"] = self.updated.isoformat()
        return out


@dataclass(slots=True)
class Feed:
    """A parsed feed: ``kind`` is ``rss``, ``rdf``, ``atom`` or ``unknown``."""

    kind: str
    entries: list[FeedEntry] = field(default_factory=list)
    problem: str | None = None


def _rfc822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return parse_w3c_datetime(value)  # some feeds put ISO dates in pubDate
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _atom_link(entry: etree._Element) -> str | None:
    fallback = None
    for link in entry:
        if _local(link.tag) != "link":
            continue
        href = (link.get("href") or "").strip()
        if not href:
            continue
        rel = (link.get("rel") or "alternate").strip().lower()
        if rel == "alternate" and (link.get("type") or "text/html").startswith(
            ("text/html", "application/xhtml")
        ):
            return href
        fallback = fallback or (href if rel == "alternate" else None)
    return fallback


def parse_feed(body: bytes, base_url: str | None = None, max_entries: int | None = None) -> Feed:
    """Parse a feed; never raises on bad input (see :func:`archiver.crawl.sitemaps.parse_sitemap`).

    Relative links are resolved against ``base_url``; at most ``max_entries`` entries are
    read, and past them a ``problem`` says so.
    """
    body, problem = maybe_gunzip(body)
    body = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body:
        return Feed("unknown", problem=problem or "empty document")
    parser = safe_xml_parser()
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        return Feed("unknown", problem=f"unreadable XML: {exc}")
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        problem = problem or f"malformed XML (read what could be): {errors[0].message}"
    if root is None:
        return Feed("unknown", problem=problem or "no root element")
    kind = _local(root.tag)
    entries: list[FeedEntry] = []
    if kind == "feed":
        for el in root:
            if _local(el.tag) != "entry":
                continue
            link = _atom_link(el)
            if link:
                entries.append(
                    FeedEntry(
                        link=link,
                        title=_child_text(el, "title"),
                        published=parse_w3c_datetime(_child_text(el, "published")),
                        updated=parse_w3c_datetime(_child_text(el, "updated")),
                    )
                )
        kind = "atom"
    elif kind in ("rss", "rdf"):
        items = [
            item
            for parent in ([root] + [c for c in root if _local(c.tag) == "channel"])
            for item in parent
            if _local(item.tag) == "item"
        ]
        for item in items:
            link = _child_text(item, "link")
            if not link:
                guid = next((c for c in item if _local(c.tag) == "guid"), None)
                if guid is not None and (guid.get("isPermaLink") or "true") == "true":
                    link = (guid.text or "").strip() or None
            if not link:
                link = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
            if link:
                entries.append(
                    FeedEntry(
                        link=link,
                        title=_child_text(item, "title"),
                        published=_rfc822(_child_text(item, "pubdate"))
                        or parse_w3c_datetime(_child_text(item, "date")),
                    )
                )
    else:
        return Feed("unknown", problem=problem or f"not a feed: <{kind}>")
    for entry in entries:
        entry.link = urljoin(base_url or "", entry.link.strip())
    entries = [e for e in entries if re.match(r"^https?://", e.link)]
    if max_entries is not None and len(entries) > max_entries:
        entries, problem = entries[:max_entries], problem or too_many(max_entries)
    return Feed(kind, entries, problem)
