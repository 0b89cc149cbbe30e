"""The typed result of extraction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Article:
    """What extraction reads out of one article page.

    Values are typed at this boundary: dates are timezone-aware ``datetime`` objects (or
    ``None`` when the page has no valid one), authors a list of names, text plain UTF-8
    with paragraphs separated by a blank line... never trafilatura's loose strings.
    """

    text: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    image: str | None = None
    canonical_url: str | None = None
    paywalled: bool = False
    #: Which signals made ``paywalled`` true, e.g. ``["jsonld:isAccessibleForFree=false"]``.
    paywall_evidence: list[str] = field(default_factory=list)
    extractor_version: str = ""
    #: Everything else worth keeping (tags, categories, section, ...), JSON-serialisable.
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (dates as ISO 8601 strings)."""
        out = dataclasses.asdict(self)
        for key in ("published_at", "modified_at"):
            if out[key] is not None:
                out[key] = out[key].isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """The inverse of :meth:`to_dict`."""
        data = dict(data)
        for key in ("published_at", "modified_at"):
            if data.get(key):
                data[key] = datetime.fromisoformat(data[key])
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
