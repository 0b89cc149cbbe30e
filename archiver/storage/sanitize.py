"""Make extracted values storable: no NUL bytes, aware in-range dates."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def clean_text(value: str | None) -> str | None:
    """The string without NUL characters (PostgreSQL rejects them in text and JSONB)."""
    if value is None:
        return None
    return value.replace("\x00", "")


def clean_json(value: Any) -> Any:
    """A JSON-ready copy of ``value``: NULs removed from every string, dates as ISO 8601,
    anything else that JSON can't hold as its ``str()``."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {clean_json(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [clean_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return clean_json(str(value))


def clean_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime, or None for anything that isn't a valid one."""
    if not isinstance(value, datetime):
        return None
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # e.g. 0001-01-01 at +02:00 has no UTC time
        return None
