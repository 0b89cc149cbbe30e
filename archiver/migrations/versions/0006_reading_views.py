"""Analyst views show readings: version_readings lists every reading of every version.

article_latest and article_versions keep their columns (new ones appended at the end).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies: a later revision that changes a view writes its own.
_LATEST_COLUMNS = """
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
    v.description     AS description"""
_LATEST_FROM = """
FROM articles a
JOIN sites s ON s.id = a.site_id
JOIN versions v ON v.article_id = a.id AND v.version = a.current_version
"""
_VERSIONS_COLUMNS = """
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
    v.raw_capture_id    AS raw_capture_id"""
_VERSIONS_FROM = """
FROM versions v
JOIN articles a ON a.id = v.article_id
"""

ARTICLE_LATEST_0002 = f"CREATE VIEW article_latest AS SELECT {_LATEST_COLUMNS} {_LATEST_FROM}"
ARTICLE_VERSIONS_0002 = (
    f"CREATE VIEW article_versions AS SELECT {_VERSIONS_COLUMNS} {_VERSIONS_FROM}"
)

ARTICLE_LATEST = f"""
CREATE VIEW article_latest AS SELECT {_LATEST_COLUMNS},
    v.extractor_version                   AS extractor_version,
    COALESCE(v.read_at, v.captured_at)    AS read_at,
    v.unverified_change                   AS unverified_change
{_LATEST_FROM}"""

ARTICLE_VERSIONS = f"""
CREATE VIEW article_versions AS SELECT {_VERSIONS_COLUMNS},
    COALESCE(v.read_at, v.captured_at)    AS read_at,
    v.unverified_change                   AS unverified_change
{_VERSIONS_FROM}"""

VERSION_READINGS = """
CREATE VIEW version_readings AS
SELECT
    a.id                               AS article_id,
    a.url                              AS url,
    v.version                          AS version,
    v.extractor_version                AS extractor_version,
    TRUE                               AS is_newest,
    COALESCE(v.read_at, v.captured_at) AS read_at,
    NULL                               AS superseded_at,
    v.title                            AS title,
    v.authors                          AS authors,
    v.published_at                     AS published_at,
    v.modified_at                      AS modified_at,
    v.text                             AS text,
    v.paywalled                        AS paywalled,
    v.content_hash                     AS content_hash,
    v.language                         AS language,
    v.site_name                        AS site_name,
    v.description                      AS description,
    v.raw_capture_id                   AS raw_capture_id
FROM versions v
JOIN articles a ON a.id = v.article_id
UNION ALL
SELECT
    a.id,
    a.url,
    v.version,
    r.extractor_version,
    FALSE,
    r.read_at,
    r.superseded_at,
    r.title,
    r.authors,
    r.published_at,
    r.modified_at,
    r.text,
    r.paywalled,
    r.content_hash,
    r.language,
    r.site_name,
    r.description,
    v.raw_capture_id
FROM readings r
JOIN versions v ON v.id = r.version_id
JOIN articles a ON a.id = v.article_id
"""


def upgrade() -> None:
    op.execute("DROP VIEW article_versions")
    op.execute("DROP VIEW article_latest")
    op.execute(ARTICLE_LATEST)
    op.execute(ARTICLE_VERSIONS)
    op.execute(VERSION_READINGS)


def downgrade() -> None:
    op.execute("DROP VIEW version_readings")
    op.execute("DROP VIEW article_versions")
    op.execute("DROP VIEW article_latest")
    op.execute(ARTICLE_LATEST_0002)
    op.execute(ARTICLE_VERSIONS_0002)
