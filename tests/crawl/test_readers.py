"""Which extractor reads a page: ARCHIVER_EXTRACTOR, or its source's declaration."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.crawl.extractors import DEFAULT_EXTRACTOR, ExtractorError, Reader, Readers, read_page
from archiver.crawl.sources import SourcesError, load_sources
from archiver.extract import Article

SOURCES = """
[[source]]
name = "special"
domains = ["special.test"]
urls = ["https://special.test/a"]
extractor = "tests.crawl.plugged:upgraded"
drop = ["div.newsletter"]
keep = ["div.story-body"]

[[source]]
name = "plain"
domains = ["plain.test"]
"""


def test_pages_are_read_by_their_sources_extractor(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(SOURCES)
    readers = Readers.from_settings(None, path)
    readers.validate()
    special = Reader("tests.crawl.plugged:upgraded", ("div.newsletter",), ("div.story-body",))
    assert readers.for_page("https://www.special.test/x", None) == special  # by domain
    assert readers.for_page("https://elsewhere.test/x", "special") == special  # by name
    assert readers.for_page("https://plain.test/x") == Reader(DEFAULT_EXTRACTOR)
    assert readers.for_page("https://other.test/x") == Reader(DEFAULT_EXTRACTOR)
    # No sources file: the setting alone.
    assert Readers.from_settings("tests.crawl.plugged:upgraded", tmp_path / "none.toml") \
        .for_page("https://special.test/x").extractor == "tests.crawl.plugged:upgraded"


@pytest.mark.parametrize(("table", "message"), [
    ('extractor = "no-colon"', "extractor must be 'module:function'"),
    ('drop = ["div[["]', "drop: bad CSS selector 'div[['"),
    ('keep = "p::nope(("', "keep: bad CSS selector"),
])
def test_bad_declarations_are_one_clear_error(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(f'[[source]]\nname = "x"\n{table}\n')
    with pytest.raises(SourcesError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_sources(path)


def test_a_source_naming_a_missing_extractor_fails_validation(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nname = "x"\nextractor = "tests.crawl.plugged:gone"\n')
    with pytest.raises(ExtractorError, match=r"^sources: extractor 'tests.crawl.plugged:gone'"):
        Readers.from_settings(None, path).validate()


def test_read_page_outcomes() -> None:
    html = b"<html><body><p>short</p></body></html>"
    builtin = read_page(Reader(), html, "https://a.test/", None)
    assert builtin.article is None and builtin.reason and builtin.error is None
    raises = read_page(Reader("tests.crawl.plugged:raises"), html, "https://a.test/", None)
    assert raises.error == ("extractor tests.crawl.plugged:raises raised RuntimeError: "
                            "parser bug")
    none = read_page(Reader("tests.crawl.plugged:misses_a_third"), html, "https://a.test/", None)
    assert none.article is None and none.error is None
    assert none.reason == "tests.crawl.plugged:misses_a_third found no article"


def test_an_article_without_extractor_version_is_named_by_its_path() -> None:
    article = read_page(Reader("tests.crawl.test_readers:anonymous"), b"<p>x</p>", "u", None)
    assert article.article is not None
    assert article.article.extractor_version == "tests.crawl.test_readers:anonymous"


def anonymous(html: bytes, url: str, **kwargs: object) -> Article:
    return Article(text="a reading by an extractor that does not say its version")
