"""Metadata where publishers put it: small pages of our own, one per mechanism.

Each page is the smallest template that shows a pattern met on real sites: a
double-escaped og:title, a publisher named as the author, a photo credit in the author
tag, "A und B" in one meta tag, a WordPress byline linking to the author archive, bylines
in several languages, a date written only in the byline, JSON-LD in a Yoast @graph, a
``<time itemprop>`` and a header widget showing today's date.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import lxml.html
import pytest

from archiver.extract import Article, extract
from archiver.extract.metadata import Metadata, parse_date, read_metadata, split_byline

PARAGRAPH = (
    "The harbour board met on Tuesday evening to settle the dispute over the new quay, "
    "which has been delayed by two years because of rising costs and a row over dredging."
)
BODY = "".join(f"<p>Point {i}: {PARAGRAPH}</p>" for i in range(6))


def _page(head: str = "", body: str = "", *, title: str = "Harbour board settles quay row") -> str:
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body>{body}</body></html>"
    )


def _read(html: str, url: str = "https://news.example.org/2024/harbour") -> Metadata:
    return read_metadata(lxml.html.document_fromstring(html), url)


def _jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _article(headline: str = "Harbour board settles quay row", byline: str = "") -> str:
    """An article's body: headline, byline line, text."""
    return f"<article><h1>{headline}</h1>{byline}{BODY}</article>"


# --- titles ------------------------------------------------------------------------------


def test_title_entities_are_decoded_even_when_escaped_twice() -> None:
    md = _read(_page(
        '<meta property="og:title" content="Br&amp;ouml;tchen &amp;quot;for all&amp;quot;: '
        'the &amp;#8216;quay&amp;#8217; deal">'
        '<meta property="og:site_name" content="Coast &amp;amp; Country">'
        '<meta property="og:description" content="Caf&amp;eacute; owners cheer">',
        "<p>x</p>",
    ))
    assert md.title == "Brötchen \"for all\": the ‘quay’ deal"
    assert md.site_name == "Coast & Country"
    assert md.description == "Café owners cheer"


def test_jsonld_headline_entities_decoded_and_ampersands_left_alone() -> None:
    md = _read(_page(_jsonld({
        "@context": "https://schema.org", "@type": "NewsArticle",
        "headline": "AT&T and R&D: &quot;a merger&quot;",
        "author": {"@type": "Person", "name": "J&ouml;rg M&uuml;ller"},
    }), title="AT&amp;T and R&amp;D: a merger | Bay Post"))
    assert md.title == 'AT&T and R&D: "a merger"'
    assert md.authors == ["Jörg Müller"]


def test_jsonld_headline_that_is_a_description_loses_to_the_page_title() -> None:
    md = _read(_page(_jsonld({"@type": "Article", "headline": "constitutional monarchy in Oceania"}),
                     "<h1>New Zealand</h1>" + BODY, title="New Zealand - Wikipedia"))
    assert md.title == "New Zealand"


# --- authors -----------------------------------------------------------------------------


def test_site_name_and_publisher_are_not_authors() -> None:
    md = _read(_page(
        '<meta property="og:site_name" content="Coast Daily">'
        '<meta name="author" content="Coast Daily">'
        + _jsonld({"@type": "NewsArticle", "headline": "Harbour board settles quay row",
                   "author": [{"@type": "Organization", "name": "Coast Media Group"},
                              {"@type": "Person", "name": "Coast Daily"}],
                   "publisher": {"@type": "Organization", "name": "Coast Media Group"}}),
        _article(),
    ), url="https://www.coastdaily.example/news/harbour")
    # The Person-typed "Coast Daily" is the site's name too, but the page insists it is a
    # person: kept. The Organization and the meta tag naming the site are not people.
    assert md.authors == ["Coast Daily"]

    md = _read(_page(
        '<meta property="og:site_name" content="Coast Daily">'
        '<meta name="author" content="CoastDaily">', _article(),
    ), url="https://www.coastdaily.example/news/harbour")
    assert md.authors == []


def test_personal_blog_named_for_its_author_keeps_the_author() -> None:
    md = _read(_page('<meta property="og:site_name" content="Haki Benita">'
                     '<meta name="author" content="Haki Benita">', _article()))
    assert md.authors == ["Haki Benita"]


@pytest.mark.parametrize(
    "value",
    ["By", "Foto: Jane Roe", "Photo: Getty Images", "Quelle: sid/dpa", "Bild: dpa", "dpa",
     "AFP", "Reuters", "https://news.example.org/staff/jane", "jane@news.example.org",
     "Name *", "Staff Reporter", "Redaktion"],
)
def test_junk_authors_are_dropped(value: str) -> None:
    assert split_byline(value) == []
    assert _read(_page(f'<meta name="author" content="{value}">', "<p>x</p>")).authors == []


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("Anna Schmidt und Jonas Weber", ["Anna Schmidt", "Jonas Weber"]),
        ("Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("Claire Martin et Paul Durand", ["Claire Martin", "Paul Durand"]),
        ("Lucía Gómez y Pedro Ruiz", ["Lucía Gómez", "Pedro Ruiz"]),
        ("Giulia Bianchi e Marco Rossi", ["Giulia Bianchi", "Marco Rossi"]),
        ("Sanne de Vries en Pieter Bakker", ["Sanne de Vries", "Pieter Bakker"]),
        ("Karin Berg och Erik Lund", ["Karin Berg", "Erik Lund"]),
        ("Anna Nowak i Jan Kowalski", ["Anna Nowak", "Jan Kowalski"]),
        ("Jane Doe, John Roe & Ann Poe", ["Jane Doe", "John Roe", "Ann Poe"]),
        # "y" inside one person's name is not a list.
        ("José Ortega y Gasset", ["José Ortega y Gasset"]),
        ("Von Anna Schmidt, 10.02.2021", ["Anna Schmidt"]),
        ("Autor: Anna Schmidt", ["Anna Schmidt"]),
        ("By JANE DOE March 11, 2015 3:46 PM", ["Jane Doe"]),
        ("Brenda Goodman, MA", ["Brenda Goodman"]),
        ("Bradley M. Kuhn (http://ebb.org/bkuhn/)", ["Bradley M. Kuhn"]),
        ("Martin Dupont (avec Léa Leroy et Hugo Petit)", ["Martin Dupont", "Léa Leroy", "Hugo Petit"]),
        ("Jane Doe/dpa", ["Jane Doe"]),
        ("Written by Rob Roe Edited by Betsy Poe", ["Rob Roe"]),
    ],
)
def test_bylines_split_into_people(value: str, names: list[str]) -> None:
    assert split_byline(value) == names


def test_meta_author_with_two_people_is_two_authors() -> None:
    md = _read(_page('<meta name="author" content="Anna Schmidt und Jonas Weber">', _article()))
    assert md.authors == ["Anna Schmidt", "Jonas Weber"]


def test_citation_style_creators_are_first_name_first() -> None:
    md = _read(_page('<meta name="DC.Creator" content="Kooman, F.">'
                     '<meta name="DC.Creator" content="Jong, Michiel de">', "<p>x</p>"))
    assert md.authors == ["F. Kooman", "Michiel de Jong"]


def test_jsonld_author_by_reference_in_graph() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "Article", "@id": "https://b.example/q/#article",
         "headline": "Harbour board settles quay row",
         "author": {"@id": "https://b.example/#/schema/person/1"},
         "publisher": {"@id": "https://b.example/#organization"}},
        {"@type": "Organization", "@id": "https://b.example/#organization", "name": "Bay Post"},
        {"@type": "Person", "@id": "https://b.example/#/schema/person/1", "name": "Ada Lind"},
    ]}
    md = _read(_page(_jsonld(graph), _article()))
    assert md.authors == ["Ada Lind"]
    assert md.site_name == "Bay Post"


def test_wordpress_byline_link_to_author_archive() -> None:
    byline = ('<div class="entry-meta">By <a href="/author/ada-lind/">Ada Lind</a> and '
              '<a href="/author/ben-okafor/">Ben Okafor</a></div>')
    html = _page("", _article(byline=byline) + (
        '<aside class="widget"><a href="/author/someone-else/">Someone Else</a></aside>'))
    article = extract(html, "https://blog.example.org/2021/02/harbour/")
    assert isinstance(article, Article)
    assert article.authors == ["Ada Lind", "Ben Okafor"]


@pytest.mark.parametrize(
    ("href", "attrs"),
    [("/authors/ada-lind", ""), ("/autor/ada-lind", ""), ("/auteur/1234-ada-lind", ""),
     ("/journalist/ada-lind", ""), ("/profile/ada", ""), ("/people/ada-lind", ""),
     ("https://elsewhere.example/~ada", 'rel="author"')],
)
def test_author_archive_link_patterns(href: str, attrs: str) -> None:
    byline = f'<p><a href="{href}" {attrs}>Ada Lind</a></p>'
    assert _read(_page("", _article(byline=byline))).authors == ["Ada Lind"]


def test_itemprop_author_of_the_article_item() -> None:
    body = ('<article itemscope itemtype="http://schema.org/BlogPosting">'
            "<h2>Harbour board settles quay row</h2>" + BODY +
            '<aside><span itemprop="author" itemscope itemtype="http://schema.org/Person">'
            '<span itemprop="name">Ada Lind</span></span></aside></article>')
    assert _read(_page("", body)).authors == ["Ada Lind"]


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ('<p class="byline">Par Claire Martin et Paul Durand</p>', ["Claire Martin", "Paul Durand"]),
        ("<p>Von Anna Schmidt und Jonas Weber</p>", ["Anna Schmidt", "Jonas Weber"]),
        ('<div class="autor">Por Lucía Gómez</div>', ["Lucía Gómez"]),
        ("<p><span>Di Giulia Bianchi</span></p>", ["Giulia Bianchi"]),
        ('<p class="meta">Door Sanne de Vries en Pieter Bakker</p>', ["Sanne de Vries", "Pieter Bakker"]),
        ("<p>Av Karin Berg</p>", ["Karin Berg"]),
        ("<p>Przez Anna Nowak</p>", ["Anna Nowak"]),
    ],
)
def test_bylines_in_other_languages(line: str, names: list[str]) -> None:
    assert _read(_page("", _article(byline=line))).authors == names


def test_sidebar_and_comment_bylines_are_not_the_authors() -> None:
    body = (
        "<article><h1>Harbour board settles quay row</h1>" + BODY +
        '<div class="related"><p class="byline">By Tom Teaser</p></div>'
        '<section id="comments"><div class="comment-author">By Carl Commenter</div>'
        '<a href="/author/carl">Carl Commenter</a></section></article>'
    )
    assert _read(_page("", body)).authors == []


def test_byline_of_other_stories_listed_after_the_article_is_not_taken() -> None:
    teasers = "".join(
        f'<li class="smr-post"><a href="/story/{i}">Story {i}</a>'
        f'<span class="byline"><a href="/writer/writer-{i}/">Writer Number</a></span></li>'
        for i in range(5)
    )
    body = (
        "<article><h1>Harbour board settles quay row</h1>"
        '<span class="byline"><a href="/writer/ada_lind/" rel="author">Ada Lind</a></span>'
        + BODY + f'</article><div class="sidebar"><ul>{teasers}</ul></div>'
    )
    assert _read(_page("", body)).authors == ["Ada Lind"]


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "day"),
    [
        ('<p class="byline">By Ada Lind - 2021-02-10</p>', date(2021, 2, 10)),
        ("<p>Von Anna Schmidt, 10.02.2021</p>", date(2021, 2, 10)),
        ("<p>Par Claire Martin, le 10 février 2021</p>", date(2021, 2, 10)),
        ("<p>Publicado el 10 de febrero de 2021</p>", date(2021, 2, 10)),
        ("<p>Di Giulia Bianchi, 10 febbraio 2021</p>", date(2021, 2, 10)),
        ("<p>Door Sanne de Vries, 10 februari 2021</p>", date(2021, 2, 10)),
        ('<p class="meta">Posted on February 10, 2021 by Ada Lind</p>', date(2021, 2, 10)),
        # The update is not the publication.
        ("<p>By Ada Lind. Updated March 3, 2021. Published February 10, 2021</p>", date(2021, 2, 10)),
    ],
)
def test_date_written_in_the_byline(line: str, day: date) -> None:
    md = _read(_page("", _article(byline=line)), url="https://news.example.org/harbour")
    assert md.published_at is not None
    assert md.published_at.date() == day


@pytest.mark.parametrize(
    "line",
    [
        "<p>By Ada Lind, 02/03/2021</p>",  # day or month first? it depends on the country
        "<p>By Ada Lind. Updated March 3, 2021</p>",  # an update only
        '<p class="meta"><time itemprop="dateModified" datetime="2021-03-03">Last updated '
        "March 3, 2021</time></p>",
    ],
)
def test_no_byline_date_rather_than_a_wrong_one(line: str) -> None:
    md = _read(_page("", _article(byline=line)), url="https://news.example.org/harbour")
    assert md.published_at is None


def test_header_date_widget_is_never_the_date() -> None:
    today = datetime.now(timezone.utc).date()
    widget = (
        f'<header><div class="date">{today.strftime("%A, %B %d, %Y")}</div>'
        f'<time datetime="{today.isoformat()}">{today.isoformat()}</time>'
        '<nav><a href="/">Home</a></nav></header>'
    )
    md = _read(_page("", widget + _article(byline="<p>By Ada Lind</p>")),
               url="https://news.example.org/harbour")
    assert md.published_at is None
    assert md.authors == ["Ada Lind"]
    # With the date in the byline, that is the one read.
    md = _read(_page("", widget + _article(byline="<p>By Ada Lind, 10 February 2021</p>")),
               url="https://news.example.org/harbour")
    assert md.published_at == datetime(2021, 2, 10, tzinfo=timezone.utc)


def test_no_byline_date_under_a_headline_that_is_the_site_name() -> None:
    # The only <h1> is the site's logo: what follows it is the header, not a byline.
    body = ('<div><h1>Coast Daily</h1><p class="date">Monday, 10 February 2021</p></div>'
            "<div><h2>Harbour board settles quay row</h2>" + BODY + "</div>")
    assert _read(_page("", body)).published_at is None


def test_jsonld_date_published_in_graph() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "@id": "https://b.example/q/", "datePublished": "2021-02-10T08:00:00+00:00"},
        {"@type": "Article", "headline": "Harbour board settles quay row",
         "isPartOf": {"@id": "https://b.example/q/"}},
    ]}
    md = _read(_page(_jsonld(graph), _article()))
    assert md.published_at == datetime(2021, 2, 10, 8, tzinfo=timezone.utc)


def test_jsonld_in_cdata_and_several_objects_in_one_script() -> None:
    script = ('<script type="application/ld+json">//<![CDATA[\n'
              '{"@type": "Organization", "name": "Bay Post"}\n'
              '{"@type": "NewsArticle", "headline": "Harbour board settles quay row", '
              '"datePublished": "Wed Feb 10 2021 08:00:00 GMT+0000 (Coordinated Universal Time)"}'
              "\n//]]></script>")
    md = _read(_page(script, _article()))
    assert md.published_at == datetime(2021, 2, 10, 8, tzinfo=timezone.utc)


def test_time_itemprop_date_published() -> None:
    byline = '<p>By Ada Lind <time itemprop="datePublished" datetime="2021-02-10T08:00:00+01:00">Feb 10</time></p>'
    md = _read(_page("", _article(byline=byline)), url="https://news.example.org/harbour")
    assert md.published_at == datetime.fromisoformat("2021-02-10T08:00:00+01:00")


def test_meta_tags_pushed_into_the_body_by_a_broken_head_still_count() -> None:
    # A <div> in the head ends it for the parser: the tags after it land in the body.
    html = ('<html><head><title>Harbour board settles quay row</title><div>ad</div>'
            '<meta property="article:published_time" content="2015-07-10 09:53:00 -0400">'
            '<meta name="author" content="Ada Lind"></head><body>' + _article() + "</body></html>")
    md = _read(html)
    assert md.published_at == datetime.fromisoformat("2015-07-10T09:53:00-04:00")
    assert md.authors == ["Ada Lind"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-02-10T08:00:00Z", "2021-02-10T08:00:00+00:00"),
        ("2015-07-10 09:53:00 -0400", "2015-07-10T09:53:00-04:00"),
        ("Thu, 13 Oct 2016 17:00:03 GMT", "2016-10-13T17:00:03+00:00"),
        ("Sat Dec 07 2024 01:36:42 GMT+0000 (UTC)", "2024-12-07T01:36:42+00:00"),
        ("February 10, 2021", "2021-02-10T00:00:00+00:00"),
        ("2021-02-10", "2021-02-10T00:00:00+00:00"),
    ],
)
def test_parse_date_formats(value: str, expected: str) -> None:
    assert parse_date(value) == datetime.fromisoformat(expected)


@pytest.mark.parametrize("value", ["", "soon", "05/08/2014", "10.15.15", "1 day ago", "0000-00-00"])
def test_parse_date_refuses_what_it_cannot_be_sure_of(value: str) -> None:
    assert parse_date(value) is None
