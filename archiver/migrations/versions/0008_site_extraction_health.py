"""View site_extraction_health: each site's latest crawl's extraction against its baseline.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain SQL that PostgreSQL and SQLite (3.25+, window functions) both accept. The
# thresholds are documented in the README and mirrored in archiver.ops.health.
SITE_EXTRACTION_HEALTH = """
CREATE VIEW site_extraction_health AS
WITH pages AS (
    SELECT
        f.site_id,
        f.crawl_run_id,
        f.outcome,
        v.authors,
        v.published_at,
        CASE WHEN v.text IS NULL THEN NULL
             ELSE length(v.text) - length(replace(v.text, ' ', '')) + 1 END AS words,
        length(v.text) AS text_length,
        CASE WHEN f.outcome = 'new_version' THEN
            (SELECT length(p.text) FROM versions p
             WHERE p.article_id = f.article_id AND p.version = f.version - 1)
        END AS previous_length
    FROM fetches f
    LEFT JOIN versions v ON v.article_id = f.article_id AND v.version = f.version
    WHERE f.kind = 'article' AND f.site_id IS NOT NULL
      AND f.outcome IN ('new_article', 'new_version', 'unchanged', 'not_article')
),
latest AS (
    SELECT site_id, max(crawl_run_id) AS run_id FROM pages GROUP BY site_id
),
marked AS (
    SELECT p.*,
           CASE WHEN p.crawl_run_id = l.run_id THEN 'recent' ELSE 'baseline' END AS period
    FROM pages p JOIN latest l ON l.site_id = p.site_id
),
agg AS (
    SELECT
        site_id,
        period,
        count(*) AS pages,
        avg(CASE WHEN outcome = 'not_article' THEN 1.0 ELSE 0.0 END) AS not_article_share,
        avg(CASE WHEN outcome = 'not_article' THEN NULL
                 WHEN authors IS NULL THEN 1.0 ELSE 0.0 END) AS no_author_share,
        avg(CASE WHEN outcome = 'not_article' THEN NULL
                 WHEN published_at IS NULL THEN 1.0 ELSE 0.0 END) AS no_date_share,
        sum(CASE WHEN outcome = 'new_version' THEN 1 ELSE 0 END) AS new_versions,
        avg(CASE WHEN outcome <> 'new_version' THEN NULL
                 WHEN text_length * 2 < previous_length THEN 1.0 ELSE 0.0 END)
            AS halved_share
    FROM marked
    GROUP BY site_id, period
),
ranked AS (
    SELECT site_id, period, words,
           row_number() OVER (PARTITION BY site_id, period ORDER BY words) AS rn,
           count(*) OVER (PARTITION BY site_id, period) AS n
    FROM marked WHERE words IS NOT NULL
),
medians AS (
    SELECT site_id, period, avg(words) AS median_words
    FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
    GROUP BY site_id, period
)
SELECT
    s.domain                AS site,
    l.run_id                AS recent_crawl_run_id,
    b.pages                 AS baseline_pages,
    r.pages                 AS recent_pages,
    b.not_article_share     AS baseline_not_article_share,
    r.not_article_share     AS recent_not_article_share,
    bm.median_words         AS baseline_median_words,
    rm.median_words         AS recent_median_words,
    b.no_author_share       AS baseline_no_author_share,
    r.no_author_share       AS recent_no_author_share,
    b.no_date_share         AS baseline_no_date_share,
    r.no_date_share         AS recent_no_date_share,
    b.halved_share          AS baseline_halved_share,
    r.halved_share          AS recent_halved_share,
    CASE WHEN b.pages >= 5 AND r.pages >= 5 AND (
            r.not_article_share - b.not_article_share >= 0.3
         OR rm.median_words < 0.5 * bm.median_words
         OR r.no_author_share - b.no_author_share >= 0.5
         OR r.no_date_share - b.no_date_share >= 0.5
         OR (r.halved_share >= 0.3
             AND r.halved_share - COALESCE(b.halved_share, 0.0) >= 0.3)
    ) THEN TRUE ELSE FALSE END AS flagged
FROM sites s
JOIN latest l ON l.site_id = s.id
JOIN agg r ON r.site_id = s.id AND r.period = 'recent'
LEFT JOIN agg b ON b.site_id = s.id AND b.period = 'baseline'
LEFT JOIN medians rm ON rm.site_id = s.id AND rm.period = 'recent'
LEFT JOIN medians bm ON bm.site_id = s.id AND bm.period = 'baseline'
"""


def upgrade() -> None:
    op.execute(SITE_EXTRACTION_HEALTH)


def downgrade() -> None:
    op.execute("DROP VIEW site_extraction_health")
