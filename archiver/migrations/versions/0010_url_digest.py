"""URLs are indexed through their SHA-256 (``url_sha256``), so a URL of any length is stored.

A B-tree index row holds at most about 2.7 kB on PostgreSQL: the unique index on
``articles.url`` and the index on ``fetches (url, fetched_at)`` refused the row of a page
that redirects to a 5,000-character URL, and its fetch with it. Both tables get a
``url_sha256`` column (the hex SHA-256 of the URL's UTF-8 bytes, backfilled here), and
the indexes move to it: unique on ``articles.url_sha256``, ``(url_sha256, fetched_at)``
on fetches. The URL columns stay as they were, unindexed.

SQLite cannot drop the inline ``UNIQUE (url)`` of ``articles`` without rebuilding the
table, which it does here with foreign keys deferred (the rows go back under the same
ids, so no reference breaks) and the views set aside meanwhile. The downgrade puts the
URL indexes back: on PostgreSQL it fails, changing nothing, while the archive holds a
URL too long for them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column shapes (as in 0001), so this revision never changes.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)

#: The digest in SQL, the same as archiver.storage.urlkey.url_sha256 computes.
PG_DIGEST = "encode(sha256(convert_to({}, 'UTF8')), 'hex')"
SQLITE_DIGEST = "archiver_url_sha256({})"


def _sha256(url: str | None) -> str | None:
    return None if url is None else hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def _digest(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return PG_DIGEST.format(column)
    return SQLITE_DIGEST.format(column)


def _articles_table(with_digest: bool) -> sa.Table:
    """``articles`` as of 0009, with the digest (after 0010) or ``UNIQUE (url)`` (before)."""
    unique = (
        sa.UniqueConstraint("url_sha256", name="uq_articles_url_sha256") if with_digest
        else sa.UniqueConstraint("url", name="uq_articles_url")
    )
    digest = [sa.Column("url_sha256", sa.String(64), nullable=False)] if with_digest else []
    metadata = sa.MetaData()
    sa.Table("sites", metadata, sa.Column("id", ID, primary_key=True))  # for the foreign key
    return sa.Table(
        "articles",
        metadata,
        sa.Column("id", ID, nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_fetched_at", TS, nullable=False),
        sa.Column("last_changed_at", TS, nullable=False),
        sa.Column("gone_at", TS, nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("current_hash", sa.String(64), nullable=False),
        sa.Column("next_visit_at", TS, nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
        *digest,
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_articles_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        unique,
        sa.Index("ix_articles_site_id", "site_id"),
        sa.Index("ix_articles_next_visit_at", "next_visit_at"),
    )


def _rebuild_sqlite_articles(with_digest: bool) -> None:
    """Rebuild ``articles`` in SQLite, whose constraints cannot be altered in place.

    SQLite's procedure needs foreign keys off, which cannot be switched inside the
    migration's transaction. Deferred instead: dropping the table counts a violation per
    row referencing it, and putting each row back under its id counts it off again, so
    the commit finds none. Views naming the table are set aside meanwhile (SQLite checks
    them when a table is dropped or renamed) and made again as they were.
    """
    conn = op.get_bind()
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    saved = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
        "(type = 'view' OR (type = 'trigger' AND tbl_name = 'articles')) ORDER BY rowid"
    ).all()
    for kind, name, _ in reversed(saved):
        conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    columns = [c.name for c in _articles_table(False).columns]
    listed = ", ".join(columns)
    conn.exec_driver_sql(f"CREATE TEMP TABLE _articles_0010 AS SELECT {listed} FROM articles")
    conn.exec_driver_sql("DROP TABLE articles")
    table = _articles_table(with_digest)
    table.create(conn)
    digest = f", {SQLITE_DIGEST.format('url')}" if with_digest else ""
    conn.exec_driver_sql(
        f"INSERT INTO articles ({listed}{', url_sha256' if with_digest else ''}) "
        f"SELECT {listed}{digest} FROM _articles_0010"
    )
    conn.exec_driver_sql("DROP TABLE _articles_0010")
    for _, _, sql in saved:
        conn.exec_driver_sql(sql)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        bind.connection.driver_connection.create_function(
            "archiver_url_sha256", 1, _sha256, deterministic=True
        )
        _rebuild_sqlite_articles(with_digest=True)
        # SQLite adds a NOT NULL column only with a default; every row is filled below.
        op.add_column("fetches", sa.Column(
            "url_sha256", sa.String(64), nullable=False, server_default=""))
    else:
        op.add_column("articles", sa.Column("url_sha256", sa.String(64), nullable=True))
        op.execute(f"UPDATE articles SET url_sha256 = {_digest('url')}")
        op.alter_column("articles", "url_sha256", nullable=False)
        op.create_unique_constraint("uq_articles_url_sha256", "articles", ["url_sha256"])
        op.drop_constraint("uq_articles_url", "articles", type_="unique")
        op.add_column("fetches", sa.Column("url_sha256", sa.String(64), nullable=True))
    op.execute(f"UPDATE fetches SET url_sha256 = {_digest('url')}")
    if not sqlite:
        op.alter_column("fetches", "url_sha256", nullable=False)
    op.drop_index("ix_fetches_url_fetched_at", table_name="fetches")
    op.create_index("ix_fetches_url_sha256_fetched_at", "fetches", ["url_sha256", "fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_fetches_url_sha256_fetched_at", table_name="fetches")
    op.create_index("ix_fetches_url_fetched_at", "fetches", ["url", "fetched_at"])
    op.drop_column("fetches", "url_sha256")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite_articles(with_digest=False)
    else:
        op.create_unique_constraint("uq_articles_url", "articles", ["url"])
        op.drop_constraint("uq_articles_url_sha256", "articles", type_="unique")
        op.drop_column("articles", "url_sha256")
