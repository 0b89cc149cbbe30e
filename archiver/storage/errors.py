"""Named storage errors, each with a message a user can act on."""


class StorageError(Exception):
    """Base class of the archive's storage errors."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached (the message names the URL, password hidden)."""


class SchemaMissing(StorageError):
    """The database is reachable but its schema is missing or out of date."""


class BadDatabaseUrl(StorageError):
    """The database URL cannot be parsed or names a database archiver does not support."""
