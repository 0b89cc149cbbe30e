"""Named storage errors, each with a message a user can act on, and which database
errors may go away by themselves."""

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


class StorageError(Exception):
    """Base class of the archive's storage errors."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached (the message names the URL, password hidden)."""


class SchemaMissing(StorageError):
    """The database is reachable but its schema is missing or out of date."""


class BadDatabaseUrl(StorageError):
    """The database URL cannot be parsed or names a database archiver does not support."""


#: SQLSTATE classes of an error in the row written, not in the database: a data
#: exception, an integrity violation, a syntax or access rule, a program limit (an index
#: row too large for PostgreSQL's B-tree is 54000, an OperationalError to the driver).
_ROW_ERROR_CLASSES = ("22", "23", "42", "54")


def is_transient(exc: BaseException) -> bool:
    """Whether a database error may go away by itself (server restarting, network, lock).

    An IntegrityError or a programming error is a bug: retrying it would only hide it;
    so is an error PostgreSQL reports about the row itself, whatever the driver calls it.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (OperationalError, InterfaceError)):
        state = getattr(exc.orig, "sqlstate", None) or ""
        return not state.startswith(_ROW_ERROR_CLASSES)
    return False
