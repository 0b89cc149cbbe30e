"""The archive for analysts: search, what was removed, the archive as of a moment, exports.

Everything here only reads the archive. Commands live in ``archiver.cli.analyst``.
"""

from __future__ import annotations


class BadInput(ValueError):
    """What the analyst asked for cannot be done as asked (a usage error, exit 2)."""
