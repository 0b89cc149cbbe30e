"""``extract(html, url) -> Article | None``: a pure function of a page's bytes and URL."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import trafilatura

from archiver.extract.article import Article
from archiver.extract.encoding import decode_html

logger = logging.getLogger(__name__)

EXTRACTOR_VERSION = f"archiver-extract/1 trafilatura/{trafilatura.__version__}"

#: Pages shorter than this (after extraction) are not articles.
MIN_TEXT_CHARS = 200


def _parse_date(value: object) -> datetime | None:
    """A trafilatura date string as an aware datetime, or None if invalid or impossible."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def extract(
    html: bytes | str, url: str | None = None, *, encoding: str | None = None
) -> Article | None:
    """Extract the article of one page.

    A pure function: no network, no database, so it can run in a process pool and be
    re-run over stored raw captures.

    Args:
        html: the response body; bytes are decoded with ``encoding`` (the HTTP header's
            charset), else the page's own declaration, else detection.
        url: the page's URL, used to resolve relative links and as a fallback identity.
        encoding: the charset named by the HTTP ``Content-Type`` header, if any.

    Returns:
        An :class:`Article`, or ``None`` when the page holds no article.
    """
    if isinstance(html, bytes):
        html, _ = decode_html(html, encoding)
    html = html.replace("\x00", "")
    if not html.strip():
        return None
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, as_dict=False
        )
    except Exception:  # trafilatura raises arbitrary errors on hostile markup
        logger.debug("trafilatura failed on %s", url, exc_info=True)
        return None
    if doc is None:
        return None
    text = _clean(doc.text) or ""
    if len(text) < MIN_TEXT_CHARS:
        return None
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    return Article(
        text=text,
        title=_clean(doc.title),
        authors=authors,
        published_at=_parse_date(doc.date),
        modified_at=None,
        language=_clean(doc.language),
        site_name=_clean(doc.sitename),
        description=_clean(doc.description),
        image=_clean(doc.image),
        canonical_url=_clean(doc.url),
        paywalled=False,
        extractor_version=EXTRACTOR_VERSION,
        metadata={
            k: v
            for k, v in {
                "categories": list(doc.categories or []),
                "tags": list(doc.tags or []),
                "license": doc.license,
            }.items()
            if v
        },
    )
