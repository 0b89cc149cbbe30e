"""Versions say what kind of change they are and how large; the article_changes view lists them.

``versions.change_classes`` (comma-separated, from ``archiver.storage.changes``: headline,
byline, date, correction, trivial, substantive, revert), ``words_added`` and
``words_removed``, computed from the version before in time order; NULL on first
versions. Existing archives are classified here, in batches of articles.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ARTICLE_CHANGES = """
CREATE VIEW article_changes AS
SELECT
    a.id              AS article_id,
    a.url             AS url,
    s.domain          AS site,
    v.version         AS version,
    v.captured_at     AS captured_at,
    v.change_classes  AS change_classes,
    v.words_added     AS words_added,
    v.words_removed   AS words_removed,
    p.title           AS old_title,
    v.title           AS new_title
FROM versions v
JOIN versions p ON p.article_id = v.article_id AND p.version = v.version - 1
JOIN articles a ON a.id = v.article_id
JOIN sites s ON s.id = a.site_id
"""

#: Articles classified per batch: their versions' texts are in memory together.
BATCH = 200

# Frozen copy of the columns the backfill reads and writes.
_versions = sa.table(
    "versions",
    sa.column("id", sa.BigInteger()),
    sa.column("article_id", sa.BigInteger()),
    sa.column("version", sa.Integer()),
    sa.column("title", sa.Text()),
    sa.column("authors", sa.Text()),
    sa.column("published_at", sa.DateTime(timezone=True)),
    sa.column("text", sa.Text()),
    sa.column("content_hash", sa.String(64)),
    sa.column("change_classes", sa.String(100)),
    sa.column("words_added", sa.Integer()),
    sa.column("words_removed", sa.Integer()),
)


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: no table rebuild, the views stay.
    op.add_column("versions", sa.Column("change_classes", sa.String(100), nullable=True))
    op.add_column("versions", sa.Column("words_added", sa.Integer(), nullable=True))
    op.add_column("versions", sa.Column("words_removed", sa.Integer(), nullable=True))
    _backfill(op.get_bind())
    op.execute(ARTICLE_CHANGES)


def downgrade() -> None:
    op.execute("DROP VIEW article_changes")
    op.drop_column("versions", "words_removed")
    op.drop_column("versions", "words_added")
    op.drop_column("versions", "change_classes")


def _backfill(conn: sa.Connection) -> None:
    # The classification is the running code's (a pure function): the schema does not
    # depend on its rules, and a later rule change classifies new versions only.
    from archiver.storage.changes import Snapshot, classify_history

    v = _versions
    after = 0
    while True:
        ids = list(conn.scalars(
            sa.select(v.c.article_id).where(v.c.article_id > after)
            .group_by(v.c.article_id).having(sa.func.count() > 1)
            .order_by(v.c.article_id).limit(BATCH)
        ))
        if not ids:
            return
        after = ids[-1]
        rows = conn.execute(
            sa.select(v.c.id, v.c.article_id, v.c.title, v.c.authors, v.c.published_at,
                      v.c.text, v.c.content_hash)
            .where(v.c.article_id.in_(ids)).order_by(v.c.article_id, v.c.version)
        ).all()
        by_article: dict[int, list[sa.Row]] = {}
        for r in rows:
            by_article.setdefault(r.article_id, []).append(r)
        updates = []
        for versions in by_article.values():
            changes = classify_history([
                Snapshot(r.title, r.authors, r.published_at, r.text or "", r.content_hash)
                for r in versions
            ])
            updates += [{"vid": r.id, "classes": c.label, "added": c.words_added,
                         "removed": c.words_removed} for r, c in zip(versions[1:], changes)]
        conn.execute(
            sa.update(v).where(v.c.id == sa.bindparam("vid")).values(
                change_classes=sa.bindparam("classes"),
                words_added=sa.bindparam("added"),
                words_removed=sa.bindparam("removed"),
            ),
            updates,
        )
