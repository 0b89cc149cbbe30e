"""Extractors plugged in through ARCHIVER_EXTRACTOR by the tests, wrapping the built-in.

``upgraded`` simulates a new extractor release: it reads about half the articles
differently (a fuller title), as a fidelity fix would. The others simulate extractors
that miss pages, fail, or collapse.
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import Any

from archiver.extract import EXTRACTOR_VERSION as BUILTIN_VERSION
from archiver.extract import Article
from archiver.extract import extract as builtin

EXTRACTOR_VERSION = "test-upgraded/2"


def _changed(url: str | None) -> bool:
    # By the article's slug, not the whole URL (the loopback port changes every run).
    slug = (url or "").rstrip("/").rsplit("/", 1)[-1]
    return zlib.crc32(slug.encode()) % 2 == 0


def upgraded(html: bytes, url: str, *, encoding: str | None = None, rules: Any = None) -> Article | None:
    article = builtin(html, url, encoding=encoding, rules=rules)
    if article is None:
        return None
    title = article.title
    if _changed(article.canonical_url or url):
        title = f"{title} (full headline)"
    return dataclasses.replace(article, title=title, extractor_version=EXTRACTOR_VERSION)


def misses_a_third(html: bytes, url: str, *, encoding: str | None = None,
                   rules: Any = None) -> Article | None:
    """The built-in, except that it finds no article on a third of the pages."""
    if zlib.crc32(url.rstrip("/").rsplit("/", 1)[-1].encode()) % 3 == 0:
        return None
    return builtin(html, url, encoding=encoding, rules=rules)


# What it writes is the built-in's reading: it says so (not its module's version).
misses_a_third.extractor_version = BUILTIN_VERSION  # type: ignore[attr-defined]


def one_paragraph(html: bytes, url: str, *, encoding: str | None = None,
                  rules: Any = None) -> Article | None:
    """What a redesign does to the built-in: the same extractor, one paragraph a page."""
    article = builtin(html, url, encoding=encoding, rules=rules)
    if article is None:
        return None
    return dataclasses.replace(article, text=article.text.split("\n\n")[0])


def raises(html: bytes, url: str, **kwargs: Any) -> Article | None:
    raise RuntimeError("parser bug")


def wrong_type(html: bytes, url: str, **kwargs: Any) -> Any:
    return {"text": "a dict is not an Article"}


not_callable = 42
