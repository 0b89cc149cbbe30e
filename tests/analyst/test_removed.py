"""What was removed and when (and added), on crafted histories, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection

from archiver.analyst import BadInput
from archiver.analyst.search import changes
from archiver.analyst.select import Selection

from ..storage.helpers import T0
from .conftest import URL_BUDGET

PROMISE = "no library would close"


def test_removed_names_both_versions_and_sentences(conn: Connection) -> None:
    [removal] = changes(conn, PROMISE)
    assert (removal.url, removal.before_version, removal.after_version) == (URL_BUDGET, 1, 2)
    assert removal.captured_at == T0 + timedelta(minutes=60)
    assert removal.sentence_before == (
        "The mayor promised that no library would close this year.")
    assert removal.sentence_after == "The mayor said some libraries might close this year."


def test_added_is_the_reverse(conn: Connection) -> None:
    [addition] = changes(conn, "No  LIBRARY would\nclose", removed=False)
    assert (addition.before_version, addition.after_version) == (2, 3)
    assert addition.sentence_before == ""  # nothing stood in its place
    assert addition.sentence_after == "The mayor promised that no library would close this year."
    # "some libraries might close" came in with version 2 and never left.
    assert [(c.before_version, c.after_version)
            for c in changes(conn, "libraries might close", removed=False)] == [(1, 2)]
    assert changes(conn, "libraries might close") == []


def test_removed_respects_site_and_time(conn: Connection) -> None:
    assert changes(conn, PROMISE, selection=Selection(all_versions=True, site="zeitung.de")) == []
    assert changes(conn, PROMISE, selection=Selection(
        all_versions=True, since=T0.replace(hour=13, minute=30))) == []


def test_a_phrase_without_words_is_bad_input(conn: Connection) -> None:
    with pytest.raises(BadInput):
        changes(conn, " ,, ")
