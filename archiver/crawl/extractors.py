"""Which function reads pages: ``ARCHIVER_EXTRACTOR`` and its per-source overrides.

Plugged in the way Scrapy plugs in its components: a ``module:function`` path. The
function has the built-in :func:`archiver.extract.extract`'s signature,
``fn(html: bytes, url: str, *, encoding: str | None, rules: ExtractRules | None)``, and
returns an :class:`~archiver.extract.Article` (whose ``extractor_version`` names it in the
archive) or ``None``. A deployment can plug in a publisher-specific parser for a few sites
(``extractor = "..."`` in a ``[[source]]``) or try a new release with
``archiver reextract --dry-run``.

The path is checked once, before a crawl or a re-extraction starts
(:meth:`Readers.validate`); pages are read in the extraction workers (:func:`read_page`),
where a function that raises or returns something else than an article is an outcome for
that page, never a crashed worker. Nothing here imports extraction until a page is read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from archiver.crawl.sources import Source, SourcesError, load_sources
from archiver.extract.article import Article

#: The built-in extractor, and the paths that name it.
DEFAULT_EXTRACTOR = "archiver.extract:extract"
_BUILTIN = frozenset({DEFAULT_EXTRACTOR, "archiver.extract.core:extract"})


class ExtractorError(Exception):
    """An extractor path that does not import or names nothing callable (one line)."""


@dataclass(frozen=True, slots=True)
class Reader:
    """How the pages of one source are read: the extractor and its drop/keep rules."""

    extractor: str = DEFAULT_EXTRACTOR
    drop: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()

    @property
    def builtin(self) -> bool:
        return self.extractor in _BUILTIN


@dataclass(frozen=True, slots=True)
class PageReading:
    """What the extractor made of one page."""

    article: Article | None
    #: Why the page holds no article (``not_article``), in words for the fetch log.
    reason: str | None = None
    #: Set when the extractor failed on the page (raised, returned a wrong type): the
    #: page's outcome is ``error`` and nothing archived changes.
    error: str | None = None


def load_extractor(path: str) -> Callable[..., Any]:
    """The function a ``module:function`` path names.

    Raises:
        ExtractorError: the path is malformed, the module does not import, or the name
            is missing or not callable; the message is one line naming the path.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ExtractorError(f"extractor {path!r}: expected 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any error while importing it, not only ImportError
        raise ExtractorError(
            f"extractor {path!r}: module {module_name!r} does not import: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    fn = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)
        if fn is None:
            raise ExtractorError(f"extractor {path!r}: {module_name} has no {attr!r}")
    if not callable(fn):
        raise ExtractorError(f"extractor {path!r}: {attr!r} is not callable")
    return fn


def extractor_version_of(path: str) -> str | None:
    """The ``extractor_version`` the extractor at ``path`` writes, when it says so: the
    built-in's ``EXTRACTOR_VERSION``, else the function's ``extractor_version``
    attribute or its module's ``EXTRACTOR_VERSION``. None when unknown (then
    ``archiver reextract`` re-reads every capture, and writes only what changed)."""
    if path in _BUILTIN:
        from archiver.extract import EXTRACTOR_VERSION

        return EXTRACTOR_VERSION
    fn = load_extractor(path)
    version = getattr(fn, "extractor_version", None)
    if version is None:
        version = getattr(importlib.import_module(path.partition(":")[0]),
                          "EXTRACTOR_VERSION", None)
    return version if isinstance(version, str) and version else None


class Readers:
    """The :class:`Reader` of every page: the default extractor, or its source's."""

    def __init__(self, default: str = DEFAULT_EXTRACTOR, sources: Iterable[Source] = ()) -> None:
        self.default = Reader((default or DEFAULT_EXTRACTOR).strip())
        self.sources = {s.name: s for s in sources}
        self._by_source = {
            s.name: Reader(s.extractor or self.default.extractor, s.drop, s.keep)
            for s in self.sources.values()
        }

    @classmethod
    def from_settings(cls, extractor: str | None, sources_path: str | Path | None) -> Readers:
        """Readers for ``ARCHIVER_EXTRACTOR`` and the sources file (if it exists)."""
        sources: list[Source] = []
        if sources_path and Path(sources_path).is_file():
            try:
                sources = list(load_sources(sources_path).values())
            except SourcesError as exc:
                raise ExtractorError(str(exc)) from exc
        return cls(extractor or DEFAULT_EXTRACTOR, sources)

    def validate(self) -> None:
        """Import every configured extractor once (the built-in needs no check).

        Raises:
            ExtractorError: the first one that does not load, in one line.
        """
        for reader in {self.default, *self._by_source.values()}:
            if not reader.builtin:
                try:
                    load_extractor(reader.extractor)
                except ExtractorError as exc:
                    where = "ARCHIVER_EXTRACTOR" if reader == self.default else "sources"
                    raise ExtractorError(f"{where}: {exc}") from exc.__cause__

    def for_page(self, url: str, source: str | None = None) -> Reader:
        """The reader of ``url``: its source's if named (or if a source's domains hold
        it, so revisits and re-extraction read a page as its source's crawl did)."""
        if source and source in self._by_source:
            return self._by_source[source]
        for name, declared in self.sources.items():
            if declared.domains and declared.allows(url):
                return self._by_source[name]
        return self.default

    def for_source(self, name: str) -> Reader:
        return self._by_source.get(name, self.default)


@cache
def _function(path: str) -> Callable[..., Any]:
    return load_extractor(path)


@cache
def _rules(drop: tuple[str, ...], keep: tuple[str, ...]) -> Any:
    if not drop and not keep:
        return None
    from archiver.extract import ExtractRules

    return ExtractRules(drop=drop, keep=keep)


def read_page(reader: Reader, body: bytes, url: str, encoding: str | None) -> PageReading:
    """Read one page with ``reader``'s extractor, in a worker process.

    The built-in extractor is asked through :func:`archiver.extract.judge`, so a page that
    holds no article says why. A plugged-in function that raises or returns another type
    gives a :class:`PageReading` with ``error`` set.
    """
    rules = _rules(reader.drop, reader.keep)
    if reader.builtin:
        from archiver.extract import judge

        verdict = judge(body, url, encoding=encoding, rules=rules)
        return PageReading(verdict.article, verdict.reason or None)
    try:
        fn = _function(reader.extractor)
    except ExtractorError as exc:  # validated before the crawl; here only if it changed
        return PageReading(None, error=str(exc))
    try:
        article = fn(body, url, encoding=encoding, rules=rules)
    except Exception as exc:
        return PageReading(
            None, error=f"extractor {reader.extractor} raised {type(exc).__name__}: {exc}"
        )
    if article is None:
        return PageReading(None, f"{reader.extractor} found no article")
    if not isinstance(article, Article):
        return PageReading(
            None,
            error=f"extractor {reader.extractor} returned {type(article).__name__}, "
            "not an Article or None",
        )
    if not article.extractor_version:
        # The archive must say which extractor read every version.
        import dataclasses

        article = dataclasses.replace(article, extractor_version=reader.extractor)
    return PageReading(article)
