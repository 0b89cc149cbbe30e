"""Extraction health per site: each site's latest crawl compared with its own baseline.

A publisher's redesign can quietly break extraction on its site: bodies shrink to one
paragraph, authors vanish, every page becomes ``not_article``. The view
``site_extraction_health`` compares the pages fetched as possible articles in each site's
latest crawl run with all its earlier ones, and flags a site whose figures moved far; this
module reads it and says why, for ``archiver health``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from archiver.storage.session import check_database, make_engine

#: The view flags a site when both windows hold at least MIN_PAGES pages and one of these
#: moved (same numbers as the view's ``flagged`` column, migration 0008).
MIN_PAGES = 5
NOT_ARTICLE_RISE = 0.3
MEDIAN_WORDS_FALL = 0.5
NO_AUTHOR_RISE = 0.5
NO_DATE_RISE = 0.5
HALVED_SHARE = 0.3


@dataclass
class SiteHealth:
    """One row of ``site_extraction_health``, and why it is flagged."""

    site: str
    flagged: bool
    figures: dict[str, Any]
    reasons: list[str] = field(default_factory=list)


def site_health(database_url: str | None = None, site: str | None = None) -> list[SiteHealth]:
    """Every site's extraction health (or one site's), flagged sites first.

    Raises:
        StorageError: the database is unreachable or its schema is behind.
    """
    engine = make_engine(database_url)
    try:
        check_database(engine)
        sql = "SELECT * FROM site_extraction_health"
        if site is not None:
            sql += " WHERE site = :site"
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(text(sql), {"site": site})]
    finally:
        engine.dispose()
    out = [SiteHealth(r["site"], bool(r.pop("flagged")), _plain(r), _reasons(r)) for r in rows]
    return sorted(out, key=lambda h: (not h.flagged, h.site))


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(float(v), 3) if v is not None and k != "site"
                and not isinstance(v, int) else v) for k, v in row.items()}


def _reasons(r: dict[str, Any]) -> list[str]:
    if (r["baseline_pages"] or 0) < MIN_PAGES or (r["recent_pages"] or 0) < MIN_PAGES:
        return []

    def f(name: str) -> float:
        return float(r[name] or 0.0)

    reasons = []
    if f("recent_not_article_share") - f("baseline_not_article_share") >= NOT_ARTICLE_RISE:
        reasons.append(f"not_article pages {f('baseline_not_article_share'):.0%} -> "
                       f"{f('recent_not_article_share'):.0%}")
    if (r["recent_median_words"] is not None and r["baseline_median_words"] is not None
            and f("recent_median_words") < MEDIAN_WORDS_FALL * f("baseline_median_words")):
        reasons.append(f"median body words {f('baseline_median_words'):.0f} -> "
                       f"{f('recent_median_words'):.0f}")
    if f("recent_no_author_share") - f("baseline_no_author_share") >= NO_AUTHOR_RISE:
        reasons.append(f"no author {f('baseline_no_author_share'):.0%} -> "
                       f"{f('recent_no_author_share'):.0%}")
    if f("recent_no_date_share") - f("baseline_no_date_share") >= NO_DATE_RISE:
        reasons.append(f"no date {f('baseline_no_date_share'):.0%} -> "
                       f"{f('recent_no_date_share'):.0%}")
    if (f("recent_halved_share") >= HALVED_SHARE
            and f("recent_halved_share") - f("baseline_halved_share") >= HALVED_SHARE):
        reasons.append(f"new versions cutting the text by half {f('recent_halved_share'):.0%}")
    return reasons
