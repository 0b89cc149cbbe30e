"""Alembic, driven from code: the CLI, the tests and the demo use these.

Alembic is imported only by the functions that migrate: a crawl checks the schema with
:data:`SCHEMA_HEAD` and one query, without loading Alembic and every revision script.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

# The schema head and the revision check live with the sessions, which check every
# database they open against them; they are named here too, where migrations are made.
from archiver.storage.session import SCHEMA_HEAD as SCHEMA_HEAD
from archiver.storage.session import current_revision as current_revision
from archiver.storage.session import database_url

if TYPE_CHECKING:
    from alembic.config import Config

#: The migrations ship inside the package so an installed archiver can upgrade a database.
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for ``url`` (default: the configured database)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Revert the migrations down to ``revision``."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def check(url: str | None = None) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    from alembic import command

    command.check(alembic_config(url))


def head_revision() -> str | None:
    """The newest revision among the migration scripts, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
