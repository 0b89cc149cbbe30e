"""Initial schema: sites, articles, versions, raw captures, fetches and crawl runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column shapes, so this revision never changes with the models.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OUTCOMES = (
    "new_article", "new_version", "unchanged", "not_modified",
    "not_article", "gone", "skipped", "error",
)


def _id() -> sa.Column:
    return sa.Column("id", ID, nullable=False)


def upgrade() -> None:
    op.create_table(
        "crawl_runs",
        _id(),
        sa.Column("spider", sa.String(255), nullable=False),
        sa.Column("args", JSON, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("stats", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    op.create_table(
        "raw_captures",
        _id(),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("compressed_size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("charset", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_captures")),
        sa.UniqueConstraint("sha256", name=op.f("uq_raw_captures_sha256")),
    )
    op.create_table(
        "sites",
        _id(),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("name", sa.String(1000), nullable=True),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("domain", name=op.f("uq_sites_domain")),
    )
    op.create_table(
        "articles",
        _id(),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_fetched_at", TS, nullable=False),
        sa.Column("last_changed_at", TS, nullable=False),
        sa.Column("gone_at", TS, nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("current_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_articles_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("url", name=op.f("uq_articles_url")),
    )
    op.create_index(op.f("ix_articles_site_id"), "articles", ["site_id"])
    op.create_table(
        "fetches",
        _id(),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("article_id", ID, nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("raw_capture_id", ID, nullable=True),
        sa.Column("crawl_run_id", ID, nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.String(255), nullable=True),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("headers", JSON, nullable=False),
        sa.CheckConstraint(
            "outcome IN (" + ", ".join(f"'{o}'" for o in OUTCOMES) + ")",
            name=op.f("ck_fetches_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_fetches_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_runs.id"], name=op.f("fk_fetches_crawl_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(
            ["raw_capture_id"],
            ["raw_captures.id"],
            name=op.f("fk_fetches_raw_capture_id_raw_captures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetches")),
        sa.UniqueConstraint("uid", name=op.f("uq_fetches_uid")),
    )
    op.create_index(op.f("ix_fetches_article_id"), "fetches", ["article_id"])
    op.create_index(op.f("ix_fetches_crawl_run_id"), "fetches", ["crawl_run_id"])
    op.create_index("ix_fetches_url_fetched_at", "fetches", ["url", "fetched_at"])
    op.create_table(
        "versions",
        _id(),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("captured_at", TS, nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("authors", sa.Text(), nullable=True),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("modified_at", TS, nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("paywalled", sa.Boolean(), nullable=False),
        sa.Column("paywall_evidence", JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("extractor_version", sa.String(255), nullable=False),
        sa.Column("raw_capture_id", ID, nullable=True),
        sa.Column("metadata", JSON, nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_versions_version_positive")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_versions_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["raw_capture_id"],
            ["raw_captures.id"],
            name=op.f("fk_versions_raw_capture_id_raw_captures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versions")),
        sa.UniqueConstraint("article_id", "version", name="uq_versions_article_id_version"),
    )
    op.create_index(op.f("ix_versions_raw_capture_id"), "versions", ["raw_capture_id"])


def downgrade() -> None:
    op.drop_table("versions")
    op.drop_table("fetches")
    op.drop_table("articles")
    op.drop_table("sites")
    op.drop_table("raw_captures")
    op.drop_table("crawl_runs")
