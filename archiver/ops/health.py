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
    """Why the view flags a site, in words: the same tests as its ``flagged`` column, on
    the values as the database computed them (exact numerics on PostgreSQL, doubles on
    SQLite), and with SQL's NULLs (a share with nothing to count, a median of no page)
    flagging nothing, so that a site has reasons exactly when it is flagged."""
    if (r["baseline_pages"] or 0) < MIN_PAGES or (r["recent_pages"] or 0) < MIN_PAGES:
        return []

    def moved(name: str) -> tuple[Any, Any] | None:
        baseline, recent = r[f"baseline_{name}"], r[f"recent_{name}"]
        return None if baseline is None or recent is None else (baseline, recent)

    reasons = []
    if (m := moved("not_article_share")) and m[1] - m[0] >= NOT_ARTICLE_RISE:
        reasons.append(f"not_article pages {m[0]:.0%} -> {m[1]:.0%}")
    # Below half the baseline (MEDIAN_WORDS_FALL): doubling is exact in both arithmetics.
    if (m := moved("median_words")) and m[1] * 2 < m[0]:
        reasons.append(f"median body words {m[0]:.0f} -> {m[1]:.0f}")
    if (m := moved("no_author_share")) and m[1] - m[0] >= NO_AUTHOR_RISE:
        reasons.append(f"no author {m[0]:.0%} -> {m[1]:.0%}")
    if (m := moved("no_date_share")) and m[1] - m[0] >= NO_DATE_RISE:
        reasons.append(f"no date {m[0]:.0%} -> {m[1]:.0%}")
    halved = r["recent_halved_share"]
    # A baseline that made no new version counts as 0, as in the view.
    if halved is not None and halved >= HALVED_SHARE \
            and halved - (r["baseline_halved_share"] or 0) >= HALVED_SHARE:
        reasons.append(f"new versions cutting the text by half {halved:.0%}")
    return reasons
