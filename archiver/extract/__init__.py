"""How a page is read: ``extract(html, url) -> Article | None``.

No Scrapy, no SQLAlchemy here: extraction is a pure function of the page.

``Article`` is light; ``extract`` and the rest load trafilatura and lxml on first use, so
the crawl process, which only passes articles around, never imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver.extract.article import Article

if TYPE_CHECKING:
    from archiver.extract.core import EXTRACTOR_VERSION, ExtractRules, Verdict, extract, judge

__all__ = ["Article", "EXTRACTOR_VERSION", "ExtractRules", "Verdict", "extract", "judge"]

_FROM_CORE = frozenset({"EXTRACTOR_VERSION", "ExtractRules", "Verdict", "extract", "judge"})


def __getattr__(name: str) -> Any:
    if name in _FROM_CORE:
        from archiver.extract import core

        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
