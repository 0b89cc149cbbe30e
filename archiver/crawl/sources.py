"""Publishers declared as data: the sources file that ``-a source=NAME`` reads.

A source reads like Fundus's publisher declarations::

    [[source]]
    name = "example-news"
    domains = ["example.com", "www.example.com"]
    sitemaps = ["https://www.example.com/news-sitemap.xml"]
    feeds = ["https://www.example.com/rss.xml"]
    start_pages = ["https://www.example.com/world/"]
    article_pattern = '^https://www\\.example\\.com/\\d{4}/\\d{2}/'
    depth = 1
    extractor = "mypackage.parsers:example_news"   # optional: another extractor
    drop = ["div.newsletter-signup"]               # optional: never article text here
    keep = ["div.story-body"]                      # optional: survives chrome removal
    every = "30m"                                  # optional: `archiver schedule` interval
    revisit_min_interval = "10m"                   # optional: this source's revisit policy
    revisit_max_interval = "7d"                    #   (archiver/revisit.py), over the
    revisit_follow_for = "90d"                     #   ARCHIVER_REVISIT_* settings
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.revisit import (
    CONFIG_ARGUMENTS,
    COUNT_ARGUMENTS,
    FACTOR_ARGUMENTS,
    SWITCH_ARGUMENTS,
    RevisitConfigError,
    parse_value,
)


class SourcesError(Exception):
    """The sources file is missing, unreadable, or does not declare what was asked for."""


@dataclass(frozen=True, slots=True)
class Source:
    """One publisher: where its articles are listed, and which URLs are articles."""

    name: str
    domains: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    start_pages: tuple[str, ...] = ()
    #: Regular expression (searched) that article URLs match; links from start pages that
    #: match are fetched as articles, the others are followed up to ``depth`` levels.
    article_pattern: str | None = None
    #: How many levels of non-article links to follow from the start pages (0: none).
    depth: int = 0
    urls: tuple[str, ...] = field(default=())
    #: ``module:function`` reading this source's pages instead of ``ARCHIVER_EXTRACTOR``.
    extractor: str | None = None
    #: CSS selectors of elements that are never article text on this source, and of
    #: elements that must survive chrome removal (``archiver.extract.ExtractRules``).
    drop: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    #: The revisit policy's arguments this source sets (``revisit_min_interval = "10m"``
    #: ...), parsed: ``(argument, value)`` pairs, applied over the ``ARCHIVER_REVISIT_*``
    #: settings for the articles of the source's domains (archiver/crawl/revisits.py).
    revisit: tuple[tuple[str, Any], ...] = ()
    #: How often ``archiver schedule`` crawls the source's listings (``"30m"``, ``"2h"``;
    #: parsed by archiver/service/jobs.py); None: only when crawled by hand.
    every: str | None = None

    def is_article_url(self, url: str) -> bool:
        return bool(self.article_pattern and re.search(self.article_pattern, url))

    def allows(self, url: str) -> bool:
        """Whether ``url``'s host is one of the source's domains or a subdomain of one
        (any host, if no domains are declared). Ports don't matter."""
        if not self.domains:
            return True
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        return any(
            host == d or host.endswith("." + d)
            for d in (d.lower().strip().rstrip(".").removeprefix("www.") for d in self.domains)
        ) or any(host == d.lower() for d in self.domains)


#: ``revisit_<argument>`` keys set the revisit policy's arguments for a source.
_REVISIT_PREFIX = "revisit_"
#: The policy's arguments that are numbers or true/false in TOML, not durations.
_REVISIT_NUMBERS = COUNT_ARGUMENTS + FACTOR_ARGUMENTS + SWITCH_ARGUMENTS
_LIST_KEYS = ("domains", "sitemaps", "feeds", "start_pages", "urls", "drop", "keep")


def _source_from_table(table: dict, where: str) -> Source:
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourcesError(f"{where}: every [[source]] needs a name")
    values: dict = {"name": name.strip()}
    for key in _LIST_KEYS:
        raw = table.get(key, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise SourcesError(f"{where}: source {name!r}: {key} must be a list of strings")
        values[key] = tuple(v.strip() for v in raw if v.strip())
    for key in ("sitemaps", "feeds", "start_pages", "urls"):
        for url in values[key]:
            if urlsplit(url).scheme not in ("http", "https"):
                raise SourcesError(f"{where}: source {name!r}: {key}: not an http(s) URL: {url}")
    pattern = table.get("article_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise SourcesError(
                f"{where}: source {name!r}: bad article_pattern {pattern!r}: {exc}"
            ) from exc
    values["article_pattern"] = pattern
    depth = table.get("depth", 0)
    if not isinstance(depth, int) or depth < 0:
        raise SourcesError(f"{where}: source {name!r}: depth must be a non-negative integer")
    values["depth"] = depth
    for key in ("drop", "keep"):
        for selector in values[key]:
            _check_selector(selector, f"{where}: source {name!r}: {key}")
    extractor = table.get("extractor")
    if extractor is not None:
        if not isinstance(extractor, str) or ":" not in extractor:
            raise SourcesError(
                f"{where}: source {name!r}: extractor must be 'module:function', "
                f"not {extractor!r}"
            )
        values["extractor"] = extractor.strip()
    every = table.get("every")
    if every is not None:
        if not isinstance(every, str):
            raise SourcesError(
                f"{where}: source {name!r}: every must be an interval like \"30m\", "
                f"not {every!r}"
            )
        values["every"] = every.strip()
    values["revisit"] = _revisit_values(table, f"{where}: source {name!r}")
    unknown = set(table) - {"name", "article_pattern", "depth", "extractor", "every", *_LIST_KEYS,
                            *(_REVISIT_PREFIX + a for a in CONFIG_ARGUMENTS)}
    if unknown:
        raise SourcesError(f"{where}: source {name!r}: unknown keys {sorted(unknown)}")
    return Source(**values)


def _revisit_values(table: dict, where: str) -> tuple[tuple[str, Any], ...]:
    """The ``revisit_*`` keys of a source, parsed (durations as strings: "15m", "7d")."""
    values = []
    for key in sorted(k for k in table if k.startswith(_REVISIT_PREFIX)):
        argument, raw = key.removeprefix(_REVISIT_PREFIX), table[key]
        if argument not in CONFIG_ARGUMENTS:
            continue  # an unknown key, reported with the others
        if argument not in _REVISIT_NUMBERS and not isinstance(raw, str):
            # A TOML number would have to mean seconds: a unit says what is meant.
            raise SourcesError(
                f'{where}: {key} must be a duration such as "15m", "2h" or "7d", not {raw!r}'
            )
        try:
            values.append((argument, parse_value(argument, raw, key)))
        except RevisitConfigError as exc:
            raise SourcesError(f"{where}: {exc}") from None
    return tuple(values)


def _check_selector(selector: str, where: str) -> None:
    from cssselect import GenericTranslator, SelectorError  # small, pure Python

    try:
        GenericTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise SourcesError(f"{where}: bad CSS selector {selector!r}: {exc}") from exc


def load_sources(path: str | Path) -> dict[str, Source]:
    """All sources declared in a TOML file, by name."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourcesError(
            f"sources file {path} not found (set ARCHIVER_SOURCES or -s ARCHIVER_SOURCES=...)"
        ) from exc
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourcesError(f"cannot read sources file {path}: {exc}") from exc
    tables = data.get("source", [])
    if not isinstance(tables, list):
        raise SourcesError(f"{path}: sources are declared as [[source]] tables")
    sources: dict[str, Source] = {}
    for table in tables:
        source = _source_from_table(table, str(path))
        if source.name in sources:
            raise SourcesError(f"{path}: source {source.name!r} is declared twice")
        sources[source.name] = source
    return sources


def get_source(path: str | Path, name: str) -> Source:
    sources = load_sources(path)
    try:
        return sources[name]
    except KeyError:
        known = ", ".join(sorted(sources)) or "none"
        raise SourcesError(f"no source named {name!r} in {path} (known: {known})") from None
