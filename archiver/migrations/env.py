"""Alembic environment: the same database URL as everything else, from archiver.settings."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from archiver.storage.models import Base
from archiver.storage.session import database_url, make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    # Set by archiver.storage.migrate (CLI, tests); else ARCHIVER_DATABASE_URL.
    return database_url(config.get_main_option("sqlalchemy.url"))


def _include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    # The SQL views are made by hand in the migrations; autogenerate must not see them
    # as tables to drop.
    if type_ == "table" and reflected and compare_to is None and name in VIEWS:
        return False
    # Full-text search (0013) lives outside the models: a tsvector column and its GIN
    # index on PostgreSQL, kept by a trigger.
    return not (reflected and compare_to is None and name in SEARCH_OBJECTS)


def _include_name(name, type_, parent_names):  # noqa: ANN001
    # SQLite's FTS5 table (0013) and its shadow tables are never reflected.
    return not (type_ == "table" and name is not None and name.startswith("versions_fts"))


VIEWS = {
    "article_latest", "article_versions", "fetch_log", "version_readings",
    "site_extraction_health", "version_search",
}
SEARCH_OBJECTS = {"search_vector", "ix_versions_search_vector"}


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=_include_object,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite can't ALTER most things; batch mode rebuilds tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=_include_object,
            include_name=_include_name,
            compare_type=True,
        )
        with context.begin_transaction():
            # Views a migration drops and creates again lose their grants: give the
            # analysts' roles (archiver db grant-readonly) back what they could read.
            from archiver.analyst import roles

            grants = roles.snapshot(connection)
            context.run_migrations()
            roles.restore(connection, grants)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
