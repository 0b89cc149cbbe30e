"""Full-text search over every version: a language-aware tsvector (PostgreSQL) or FTS5 (SQLite).

Both are kept up to date by triggers on ``versions`` (every code path that writes or
re-reads a version goes through that table), and existing versions are indexed here.

- PostgreSQL: ``versions.search_vector`` holds the title (weight A) and the text (weight
  B) parsed with the text search configuration of the version's language
  (``archiver_search_config(language)``: ``de`` -> ``german``, ``en-GB`` -> ``english``,
  ``simple`` where none fits), GIN-indexed; the view ``version_search`` shows it to
  analysts.
- SQLite: the external-content FTS5 table ``versions_fts(title, text)``, rowid =
  ``versions.id``, Porter stemming (English) over Unicode words without diacritics.

Neither is in the models (alembic cannot describe them); ``migrations/env.py`` keeps
``alembic check`` from seeing them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ISO 639-1 codes for PostgreSQL's built-in text search configurations. A code whose
#: configuration this server lacks (older releases have fewer) falls back to ``simple``.
LANGUAGE_CONFIGS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish",
    "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french", "de": "german",
    "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian",
    "nb": "norwegian", "nn": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish", "ta": "tamil",
    "tr": "turkish", "yi": "yiddish",
}

_CASES = "\n".join(f"        WHEN '{code}' THEN '{cfg}'" for code, cfg in LANGUAGE_CONFIGS.items())

PG_SEARCH_CONFIG = f"""
CREATE FUNCTION archiver_search_config(language text) RETURNS regconfig
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT COALESCE(
    (SELECT c.oid::regconfig
     FROM pg_catalog.pg_ts_config c
     WHERE c.cfgnamespace = 'pg_catalog'::regnamespace
       AND c.cfgname = CASE lower(split_part(replace(COALESCE(language, ''), '_', '-'), '-', 1))
{_CASES}
        ELSE lower(language) END),
    'pg_catalog.simple'::regconfig)
$$
"""

# The first 100,000 characters of a text are indexed: a tsvector holds at most 1 MB, and
# a crawl must never fail on a page because it is long.
PG_DOCUMENT = """
CREATE FUNCTION archiver_search_document(language text, title text, body text)
RETURNS tsvector LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT setweight(to_tsvector(archiver_search_config(language), COALESCE(title, '')), 'A')
    || setweight(to_tsvector(archiver_search_config(language), left(body, 100000)), 'B')
$$
"""

PG_TRIGGER_FUNCTION = """
CREATE FUNCTION versions_search_vector_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := archiver_search_document(NEW.language, NEW.title, NEW.text);
    RETURN NEW;
END
$$
"""

PG_TRIGGER = """
CREATE TRIGGER versions_search_vector
BEFORE INSERT OR UPDATE OF title, text, language ON versions
FOR EACH ROW EXECUTE FUNCTION versions_search_vector_update()
"""

# The analysts' way in on PostgreSQL (a read-only role reads views only): every version
# with its search document and the configuration its language reads with.
PG_VIEW = """
CREATE VIEW version_search AS
SELECT
    a.id                                   AS article_id,
    a.url                                  AS url,
    s.domain                               AS site,
    v.version                              AS version,
    v.captured_at                          AS captured_at,
    v.title                                AS title,
    v.language                             AS language,
    v.text                                 AS text,
    (v.version = a.current_version)        AS is_latest,
    archiver_search_config(v.language)     AS config,
    v.search_vector                        AS document
FROM versions v
JOIN articles a ON a.id = v.article_id
JOIN sites s ON s.id = a.site_id
"""

SQLITE_FTS = """
CREATE VIRTUAL TABLE versions_fts USING fts5(
    title, text,
    content='versions', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
)
"""

SQLITE_TRIGGERS = [
    """
CREATE TRIGGER versions_fts_insert AFTER INSERT ON versions BEGIN
    INSERT INTO versions_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END
""",
    """
CREATE TRIGGER versions_fts_delete AFTER DELETE ON versions BEGIN
    INSERT INTO versions_fts(versions_fts, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
END
""",
    """
CREATE TRIGGER versions_fts_update AFTER UPDATE OF title, text ON versions BEGIN
    INSERT INTO versions_fts(versions_fts, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO versions_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END
""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE versions ADD COLUMN search_vector tsvector")
        op.execute(PG_SEARCH_CONFIG)
        op.execute(PG_DOCUMENT)
        op.execute(PG_TRIGGER_FUNCTION)
        op.execute(PG_TRIGGER)
        op.execute("UPDATE versions SET search_vector = "
                   "archiver_search_document(language, title, text)")
        op.execute("CREATE INDEX ix_versions_search_vector ON versions USING gin (search_vector)")
        op.execute(PG_VIEW)
    else:
        op.execute(SQLITE_FTS)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO versions_fts(versions_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP VIEW version_search")
        op.execute("DROP TRIGGER versions_search_vector ON versions")
        op.execute("DROP FUNCTION versions_search_vector_update()")
        op.execute("DROP INDEX ix_versions_search_vector")
        op.execute("ALTER TABLE versions DROP COLUMN search_vector")
        op.execute("DROP FUNCTION archiver_search_document(text, text, text)")
        op.execute("DROP FUNCTION archiver_search_config(text)")
    else:
        for name in ("versions_fts_update", "versions_fts_delete", "versions_fts_insert"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE versions_fts")
