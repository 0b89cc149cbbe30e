"""The extractor never keeps much less article than the page holds (issue: fidelity).

Pages of our own making, one per mechanism: loss recovery against trafilatura's own
reading, a declared paywall kept and flagged, a short teaser before a gate, and the
judgement of what is not an article (with the reason the fetch log records).
"""

from __future__ import annotations

import pytest

from archiver.extract import extract, judge

PARAGRAPHS = [
    "The city council voted on Tuesday night to close the old harbour bridge to cars from "
    "next spring, ending a decade of argument over the crumbling steel crossing.",
    "Engineers told the council that the bridge, built in 1931, could no longer carry heavy "
    "traffic safely, and that repairs would cost more than a new footbridge would.",
    "Shop owners on both banks had fought the closure for years, saying that trade would "
    "suffer if drivers could no longer cross the river in the centre of town.",
    "The mayor said a shuttle bus would run every ten minutes between the two car parks, "
    "and that the council would review the effect on trade after one year.",
    "Work on the new footbridge is due to start in the autumn, once the final design has "
    "been approved by the regional heritage office and the port authority.",
]

HEAD = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Council closes harbour bridge to cars</title>
<meta property="og:title" content="Council closes harbour bridge to cars">
{meta}</head><body>
<header><nav><a href="/">Home</a> <a href="/news/">News</a></nav></header>"""
FOOT = """<footer><p>Copyright The Harbour Times</p></footer></body></html>"""
ARTICLE_META = """<meta property="og:type" content="article">
<meta property="article:published_time" content="2024-03-05T20:15:00+00:00">"""


def page(body: str, meta: str = ARTICLE_META) -> bytes:
    return (HEAD.format(meta=meta) + body + FOOT).encode()


def paras(items: list[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "".join(f"<div{attr}><p>{p}</p></div>" for p in items)


def test_body_lost_to_cleaning_is_recovered() -> None:
    # Each paragraph of the story sits in its own block whose class names chrome (a
    # theme's "promo" wrapper): each is small beside the page, so removal by name takes
    # them one by one and would leave only the first. trafilatura alone keeps them all.
    html = page(
        "<main><article><h1>Council closes harbour bridge to cars</h1>"
        f"<p>{PARAGRAPHS[0]}</p>"
        + paras(PARAGRAPHS[1:], cls="block promo-inline")
        + "</article></main>"
    )
    article = extract(html, "https://harbour.example/news/2024/03/05/bridge-closes")
    assert article is not None
    assert [line for line in article.text.split("\n\n")] == PARAGRAPHS


def test_recovery_keeps_chrome_out() -> None:
    # Teasers between the paragraphs, in blocks our cleaning removes by name; when the
    # body is recovered from trafilatura's reading, these links must stay out.
    teaser = '<div class="promo-inline"><ul>' + "".join(
        f'<li><a href="/news/2024/03/0{i}/port-director">Port authority names director '
        f"number {i} after a long search for a successor</a></li>" for i in range(1, 4)
    ) + "</ul></div>"
    html = page(
        "<main><article><h1>Council closes harbour bridge to cars</h1>"
        f"<p>{PARAGRAPHS[0]}</p>" + teaser
        + paras(PARAGRAPHS[1:3], cls="block promo-inline") + teaser.replace("port-director", "ferry")
        + paras(PARAGRAPHS[3:], cls="block promo-inline")
        + "</article></main>"
    )
    article = extract(html, "https://harbour.example/news/2024/03/05/bridge-closes")
    assert article is not None
    assert article.text == "\n\n".join(PARAGRAPHS)


def test_paragraphs_are_separated_by_a_blank_line() -> None:
    article = extract(page("<article>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
                           + "</article>"), "https://harbour.example/news/a-story")
    assert article is not None
    assert article.text == "\n\n".join(PARAGRAPHS)


@pytest.mark.parametrize("part", ["paid", "paywall premium-content"])
def test_declared_paywall_keeps_the_text_and_flags_it(part: str) -> None:
    jsonld = """<script type="application/ld+json">{"@type":"NewsArticle",
      "headline":"Council closes harbour bridge to cars","datePublished":"2024-03-05",
      "isAccessibleForFree":false,
      "hasPart":{"@type":"WebPageElement","isAccessibleForFree":false,"cssSelector":".%s"}}
    </script>""" % part.split()[0]
    html = page(
        "<article>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:4])
        + f'<div class="{part}">' + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[4:]) + "</div>"
        + "</article>",
        meta=jsonld,
    )
    article = extract(html, "https://harbour.example/news/bridge")
    assert article is not None
    assert article.text == "\n\n".join(PARAGRAPHS)
    assert article.paywalled
    assert f"jsonld:hasPart.cssSelector=.{part.split()[0]}" in article.paywall_evidence


@pytest.mark.parametrize("teaser", [PARAGRAPHS[0][:90] + ".", PARAGRAPHS[0]])
def test_short_teaser_before_a_gate_is_a_paywalled_article(teaser: str) -> None:
    html = page(
        f"<article><h1>Council closes harbour bridge to cars</h1><p>{teaser}</p>"
        '<div class="gate"><h3>Subscribe to continue reading</h3>'
        '<p>Already a subscriber? <a href="/login">Log in</a></p></div>'
        "<p>Hidden text the page never serves to readers who are not subscribers.</p>"
        "</article>"
    )
    verdict = judge(html, "https://harbour.example/news/2024/03/05/bridge-closes")
    assert verdict.article is not None, verdict.reason
    assert verdict.article.paywalled
    assert verdict.article.text == teaser
    assert any(e.startswith("gate:") for e in verdict.article.paywall_evidence)


NO_META = "<title>The Harbour Times</title>"


def test_about_page_is_not_an_article() -> None:
    html = page(
        "<main><h1>About us</h1>" + "".join(
            f"<p>The Harbour Times has reported on the port and its people since 1921. {p}</p>"
            for p in PARAGRAPHS[:3]
        ) + "</main>",
        meta=NO_META,
    )
    verdict = judge(html, "https://harbour.example/about-us/")
    assert verdict.article is None
    assert "site page" in verdict.reason


@pytest.mark.parametrize("shape", ["headings", "list"])
def test_section_front_without_listing_markup_is_not_an_article(shape: str) -> None:
    if shape == "headings":
        teasers = "".join(
            f'<div class="teaser"><h3><a href="/news/2024/03/0{i}/story-{i}">Headline of '
            f"story number {i} from the harbour</a></h3><p>A one-line summary of story {i}."
            "</p></div>" for i in range(1, 9)
        )
    else:  # a bare list of links with dates: trafilatura alone keeps it as text
        teasers = '<ul class="teasers">' + "".join(
            f'<li><a href="/news/2024/03/0{i}/story-{i}">Headline of story number {i} from '
            f"the harbour</a> <span>Mar 0{i}</span></li>" for i in range(1, 9)
        ) + "</ul>"
    verdict = judge(page(f"<main><h1>News</h1>{teasers}</main>", meta=NO_META),
                    "https://harbour.example/news/")
    assert verdict.article is None
    assert "listing" in verdict.reason or "no article body" in verdict.reason


def test_article_declaring_website_type_is_still_an_article() -> None:
    # Article pages often carry og:type=website from a theme; with prose they are articles.
    teasers = "".join(
        f'<li><h3><a href="/news/story-{i}">Another story number {i}</a></h3></li>'
        for i in range(1, 9)
    )
    html = page(
        "<article>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article>"
        f"<aside><ul>{teasers}</ul></aside>",
        meta='<meta property="og:type" content="website">',
    )
    verdict = judge(html, "https://harbour.example/news/bridge")
    assert verdict.article is not None, verdict.reason



def test_recovered_lines_that_are_link_texts_stay_out() -> None:
    # When the body comes from trafilatura's reading, a line that is a link's text on the
    # page (a teaser headline trafilatura kept, "Related: <headline>") is left out unless
    # our own reading kept it; prose our cleaning removed comes back.
    from archiver.extract import core

    headline = "Port authority names a new director after a long search"
    raw = core._parse(page(
        f'<article><p>{PARAGRAPHS[0]}</p><p><a href="/news/port">{headline}</a></p>'
        f"<p>{PARAGRAPHS[1]}</p></article>"
    ), None)
    links = core._link_texts(raw)
    reference = "\n".join([PARAGRAPHS[0], headline, f"Related: {headline}", PARAGRAPHS[1]])
    ours = PARAGRAPHS[0]
    assert core._drop_link_lines(reference, core._lines(ours), links) == "\n".join(
        [PARAGRAPHS[0], PARAGRAPHS[1]]
    )


def test_plain_text_is_not_an_article() -> None:
    # A text/plain response (notes, a robots file, a transcript) has no markup to read a
    # title, byline or body from: it is not archived as an untitled article.
    text = "Council closes the harbour bridge\n\n" + "\n\n".join(PARAGRAPHS)
    verdict = judge(text.encode(), "https://harbour.example/notes.txt")
    assert verdict.article is None
    assert verdict.reason == "no HTML document"


def test_about_page_with_a_webpage_node_is_not_an_article() -> None:
    # SEO plugins put a JSON-LD WebPage node on every page: it does not make one an article.
    jsonld = ('<script type="application/ld+json">{"@context":"https://schema.org",'
              '"@graph":[{"@type":"WebPage","name":"About us","url":'
              '"https://harbour.example/about/"},{"@type":"Organization","name":'
              '"The Harbour Times"}]}</script>')
    html = page("<main><h1>About us</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
                + "</main>", meta=jsonld)
    verdict = judge(html, "https://harbour.example/about/")
    assert verdict.article is None
    assert "site page" in verdict.reason
