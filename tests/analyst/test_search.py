"""Full-text search on both databases: stemming, phrases, exclusions, filters, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from archiver.analyst import BadInput
from archiver.analyst.search import fts5_query, parse_query, search
from archiver.analyst.select import Selection

from .conftest import URL_BUDGET, URL_DE, URL_EN


def urls(conn: Connection, query: str, **kw: object) -> list[tuple[str, int]]:
    return sorted((h.url, h.version) for h in search(conn, query, Selection(**kw)))


def test_english_stemming_and_snippet(conn: Connection) -> None:
    hits = search(conn, "election")
    assert [(h.url, h.version, h.site) for h in hits] == [(URL_EN, 1, "example-news.com")]
    assert "«elections»" in hits[0].snippet
    assert hits[0].title == "Three cities vote"


def test_phrase_exclusion_and_or(conn: Connection) -> None:
    assert urls(conn, '"the council approved"') == [(URL_BUDGET, 3)]
    assert urls(conn, '"approved the council"') == []
    assert urls(conn, "mayor -libraries") == [(URL_EN, 1)]  # stemmed: "library" too
    assert urls(conn, 'mayor -"announce its budget"') == [(URL_BUDGET, 3)]
    assert urls(conn, "turnout or critics") == [(URL_BUDGET, 3), (URL_EN, 1)]


def test_all_versions_site_and_time(conn: Connection) -> None:
    from .conftest import make_fetch

    t = make_fetch(at=0).fetched_at
    from datetime import timedelta

    assert urls(conn, '"no library would close"') == [(URL_BUDGET, 3)]
    assert urls(conn, '"no library would close"', all_versions=True) == [
        (URL_BUDGET, 1), (URL_BUDGET, 3)]
    assert urls(conn, "mayor", all_versions=True, site="www.example-news.com") == [
        (URL_BUDGET, 1), (URL_BUDGET, 2), (URL_BUDGET, 3), (URL_EN, 1)]
    assert urls(conn, "mayor", all_versions=True, site="zeitung.de") == []
    assert urls(conn, "mayor", all_versions=True, since=t + timedelta(minutes=30),
                until=t + timedelta(minutes=90)) == [(URL_BUDGET, 2)]
    # As of one minute after the second capture: the first version of the budget story.
    assert urls(conn, "mayor", as_of=t + timedelta(minutes=61)) == [
        (URL_BUDGET, 2), (URL_EN, 1)]
    assert urls(conn, "mayor", as_of=t + timedelta(minutes=3)) == [
        (URL_BUDGET, 1), (URL_EN, 1)]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_german_stemming_on_postgresql(conn: Connection) -> None:
    """"Wahlen" finds "Wahl" in the German version, read with the German configuration;
    English words are stemmed in English in the same archive."""
    assert urls(conn, "Wahlen") == [(URL_DE, 1)]
    assert urls(conn, "Parteien Koalitionsgespräch") == [(URL_DE, 1)]
    assert urls(conn, "elected") == [(URL_EN, 1)]
    assert urls(conn, "Wahlen -Sonntag") == []
    assert urls(conn, "voter") == [(URL_EN, 1)]
    # The index is the one consulted.
    plan = "\n".join(conn.execute(text(
        "EXPLAIN SELECT id FROM versions WHERE search_vector @@ to_tsquery('simple', 'wahl')"
    )).scalars())
    assert "ix_versions_search_vector" in plan or "Seq Scan" in plan  # tiny table


def test_index_follows_rewritten_readings(conn: Connection, engine) -> None:
    """A re-reading rewrites the version row; the index follows (trigger)."""
    with engine.begin() as c:  # the search connection holds no lock meanwhile
        c.execute(text("UPDATE versions SET text = 'A completely different zeppelin story' "
                       "WHERE article_id = (SELECT id FROM articles WHERE url = :u)"),
                  {"u": URL_EN})
    assert urls(conn, "zeppelin") == [(URL_EN, 1)]
    assert urls(conn, "turnout") == []
    with engine.begin() as c:
        c.execute(text("DELETE FROM versions WHERE article_id = "
                       "(SELECT id FROM articles WHERE url = :u)"), {"u": URL_DE})
    assert urls(conn, "Hessen") == []


@pytest.mark.parametrize("query", ['"unbalanced', 'a "b" "c', "-", "or", "- or -", '""',
                                   "-budget", '-"a phrase"', "+ & |"])
def test_bad_queries(query: str) -> None:
    with pytest.raises(BadInput):
        parse_query(query)


def test_fts5_translation_quotes_everything() -> None:
    assert fts5_query(parse_query('NEAR(a b) "x* y" -c or d e OR f')) == (
        '("NEAR a") AND ("b") AND ("x y") AND ("d") AND ("e" OR "f") NOT ("c")'
    )
