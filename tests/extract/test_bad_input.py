"""Bad input is an outcome, not a crash: extract() returns None or an Article, never raises."""

from __future__ import annotations

import os

import pytest

from archiver.extract import Article, extract
from archiver.extract.encoding import decode_html

PARAGRAPH = (
    "The council met on Tuesday evening to discuss the new library, which has been delayed "
    "by two years because of rising construction costs and a dispute over the site."
)


def _paras(n: int) -> str:
    """``n`` distinct paragraphs (trafilatura drops repeated ones)."""
    return "".join(f"<p>Item {i}: {PARAGRAPH}</p>" for i in range(n))


def _page(body: str, head: str = "<meta charset='utf-8'>") -> str:
    return f"<html><head>{head}<title>Library delayed</title></head><body><article>{body}</article></body></html>"


@pytest.mark.parametrize(
    "html",
    [b"", "", b"   \n\t ", "<html></html>", b"\x00" * 1000, "<<<>>>", "<p>", b"\xff\xfe\x00"],
)
def test_empty_and_trivial_pages_are_none(html) -> None:
    assert extract(html, "https://example.org/x") is None


def test_binary_garbage_is_none_or_article() -> None:
    garbage = os.urandom(200_000)
    result = extract(garbage, "https://example.org/file.pdf")
    assert result is None or isinstance(result, Article)
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + os.urandom(50_000)
    assert extract(pdf, "https://example.org/file.pdf") is None


def test_nul_bytes_inside_an_article_are_dropped() -> None:
    body = "".join(f"<p>{i} {PARAGRAPH[:40]}\x00{PARAGRAPH[40:]}</p>" for i in range(3))
    article = extract(_page(body).encode("utf-8"), "https://example.org/a")
    assert article is not None
    assert "\x00" not in article.text
    assert "new library, which has been delayed" in article.text


def test_deeply_nested_html() -> None:
    deep = "<div>" * 10_000 + _paras(3) + "</div>" * 10_000
    result = extract(_page(deep), "https://example.org/deep")
    assert result is None or isinstance(result, Article)


def test_five_megabyte_page() -> None:
    body = "".join(
        f"<div class='teaser'><a href='/n/{i}'>Headline number {i}</a><p>{PARAGRAPH}</p></div>"
        for i in range(25_000)
    )
    html = _page(f"<p>{PARAGRAPH}</p>" + body)
    assert len(html) > 5_000_000
    result = extract(html.encode("utf-8"), "https://example.org/huge")
    assert result is None or isinstance(result, Article)


def test_undeclared_cp1252_bytes_are_decoded() -> None:
    text = "Caf\u00e9 owners say the \u201cnew\u201d rules cost them \u20ac2,000 a year. " * 3
    html = _page(f"<p>{text}</p>{_paras(2)}", head="")
    article = extract(html.encode("cp1252"), "https://example.org/cafe")
    assert article is not None
    assert "Café owners say the “new” rules cost them €2,000 a year." in article.text


def test_http_charset_wins_over_meta() -> None:
    html = _page(f"<p>Gr\u00fc\u00dfe aus M\u00fcnchen. {PARAGRAPH}</p>{_paras(2)}",
                 head="<meta charset='utf-8'>")
    article = extract(html.encode("latin-1"), "https://example.org/m", encoding="iso-8859-1")
    assert article is not None
    assert "Grüße aus München." in article.text


def test_decode_html_never_raises_on_bad_labels() -> None:
    text, name = decode_html(b"<meta charset='no-such-charset'><p>caf\xe9</p>", "bogus")
    assert "caf" in text and name


def test_invalid_rule_selectors_do_not_raise() -> None:
    from archiver.extract import ExtractRules

    article = extract(_page(_paras(3)), "https://example.org/r", rules=ExtractRules(drop=("!!>",)))
    assert article is not None
