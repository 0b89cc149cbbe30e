"""What several commands share: argument types, a progress bar."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone


def iso_date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int = 0) -> None:
        self.total = max(total, 1)

    def __call__(self, done: int, total: int | None = None) -> None:
        """Draw ``done`` of the total (given here when it is known only once work starts)."""
        if total is not None:
            self.total = max(total, 1)
        width = 30
        filled = min(width, width * done // self.total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
