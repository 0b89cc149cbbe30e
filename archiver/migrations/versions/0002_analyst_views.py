"""Analyst views: article_latest, article_versions and fetch_log, the stable read interface.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain SQL that PostgreSQL and SQLite both accept. Column lists are documented in the
# README; add columns at the end only, never rename or drop them.
ARTICLE_LATEST = """
CREATE VIEW article_latest AS
SELECT
    a.id              AS article_id,
    a.url             AS url,
    s.domain          AS site,
    v.version         AS version,
    v.title           AS title,
    v.authors         AS authors,
    v.published_at    AS published_at,
    v.text            AS text,
    v.paywalled       AS paywalled,
    a.first_seen_at   AS first_seen_at,
    a.last_fetched_at AS last_fetched_at,
    a.current_version AS version_count,
    v.modified_at     AS modified_at,
    a.last_changed_at AS last_changed_at,
    a.gone_at         AS gone_at,
    v.language        AS language,
    v.site_name       AS site_name,
    v.description     AS description
FROM articles a
JOIN sites s ON s.id = a.site_id
JOIN versions v ON v.article_id = a.id AND v.version = a.current_version
"""

ARTICLE_VERSIONS = """
CREATE VIEW article_versions AS
SELECT
    a.id                AS article_id,
    a.url               AS url,
    v.version           AS version,
    v.captured_at       AS captured_at,
    v.title             AS title,
    v.authors           AS authors,
    v.published_at      AS published_at,
    v.text              AS text,
    v.paywalled         AS paywalled,
    v.content_hash      AS content_hash,
    v.modified_at       AS modified_at,
    v.extractor_version AS extractor_version,
    v.raw_capture_id    AS raw_capture_id
FROM versions v
JOIN articles a ON a.id = v.article_id
"""

FETCH_LOG = """
CREATE VIEW fetch_log AS
SELECT
    f.id           AS fetch_id,
    f.crawl_run_id AS crawl_run_id,
    f.fetched_at   AS fetched_at,
    f.url          AS url,
    f.final_url    AS final_url,
    f.status       AS status,
    f.outcome      AS outcome,
    f.reason       AS reason,
    f.article_id   AS article_id,
    f.version      AS version
FROM fetches f
"""


def upgrade() -> None:
    op.execute(ARTICLE_LATEST)
    op.execute(ARTICLE_VERSIONS)
    op.execute(FETCH_LOG)


def downgrade() -> None:
    op.execute("DROP VIEW fetch_log")
    op.execute("DROP VIEW article_versions")
    op.execute("DROP VIEW article_latest")
