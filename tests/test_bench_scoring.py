"""The scoring rules of ``bench/extraction.py`` on made-up snippets (no dev set needed)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "bench" / "extraction.py"
_spec = importlib.util.spec_from_file_location("bench_extraction", _PATH)
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)


def test_shingle_metric():
    truth = "one two three four five six"
    assert bench.page_scores(truth, truth) == (1.0, 1.0, True)
    assert bench.page_scores(truth, "") == (None, 0.0, False)
    # Half the truth: every shingle we give is right, half of the truth's are found.
    precision, recall, exact = bench.page_scores(truth, "one two three four five")
    assert (precision, recall, exact) == (1.0, 2 / 3, False)
    # Chrome around the body costs precision, not recall.
    precision, recall, _ = bench.page_scores(truth, "menu home " + truth)
    assert recall == 1.0 and precision == 3 / 5


def test_readability_html_becomes_paragraphs():
    html = (
        "<div><h2>Title</h2><p>Hello <b>wor</b>ld, <a href='#'>link</a><br>next</p>"
        "<ul><li>one</li><li>two</li></ul><!-- note -->after"
        "<script>var x = 1;</script><table><tr><td>a</td><td>b</td></tr></table></div>"
    )
    assert bench.html_to_text(html) == (
        "Title\n\nHello world, link\nnext\n\none\n\ntwo\n\nafter\n\na\n\nb"
    )
    assert bench.html_to_text("") == ""


def test_byline_names():
    assert bench.byline_names("By Jane Doe and John Roe") == {"jane doe", "john roe"}
    assert bench.byline_names("Martin Dupont (avec Anne Roy et Paul Lévy)") == {
        "martin dupont", "anne roy", "paul lévy"
    }
    assert bench.byline_names("By  JANE   DOE, MD\n  March 11, 2015 3:46 PM") == {"jane doe"}
    assert bench.byline_names("Written by Jane Doe\n Edited by John Roe") == {"jane doe"}
    assert bench.byline_names("Daily Planet", site_name="Daily Planet") == set()
    assert bench.byline_names("Updated April 28, 2019") == set()
    # Ours are compared as given: one "A und B" entry is one wrong name.
    assert bench.author_set(["John C. Welch"]) == bench.byline_names("john c welch")
    assert bench.author_set(["Anna Roth und Ben Kern"]) != bench.byline_names(
        "Anna Roth und Ben Kern"
    )


def test_title_match():
    assert bench.title_match("A Headline", "a  headline") == (True, True)
    assert bench.title_match("A Headline | Daily Planet", "A Headline") == (False, True)
    assert bench.title_match("A Headline", "A Headline - The Daily Planet Of Metropolis") == (
        False, True,
    )
    assert bench.title_match("A long headline about many things", "Things") == (False, False)
    assert bench.title_match("Tom & Jerry", "Tom &amp; Jerry") == (False, False)  # undecoded
    assert bench.title_match("A Headline", None) == (False, False)


def test_published_day():
    seoul = timezone(timedelta(hours=9))
    assert bench.same_day("2024-12-06T22:00:40Z", datetime(2024, 12, 7, 7, 0, 40, tzinfo=seoul))
    assert bench.same_day("2018-04-05T06:00", "2018-04-05")
    assert not bench.same_day("2024-12-06T22:00:40Z", "2024-12-07")
    assert bench.day_of(None) is None
    assert bench.lang_of("pt-BR") == "pt" and bench.lang_of("") is None
