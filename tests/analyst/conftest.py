"""A small archive of crafted histories, for search, removals, as-of and exports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine

from archiver.analyst.select import read_engine
from archiver.storage import archive

from ..storage.helpers import make_article, make_fetch

ELECTION_DE = (
    "Die Wahl in Hessen hat am Sonntag stattgefunden. Die Parteien bereiten sich auf "
    "lange Koalitionsgespräche vor.\n\nDer Ministerpräsident sprach von einem klaren Auftrag."
)
ELECTION_EN = (
    "Voters went to the polls in three elections on Sunday. Turnout was higher than "
    "expected.\n\nThe mayor said the city would announce its budget next week."
)
BUDGET_1 = (
    "The council approved the budget on Monday. The mayor promised that no library "
    "would close this year. Critics said the plan was vague."
)
BUDGET_2 = (
    "The council approved the budget on Monday. The mayor said some libraries might "
    "close this year. Critics said the plan was vague."
)
BUDGET_3 = BUDGET_2 + " The mayor promised that no library would close this year."

URL_DE = "https://www.zeitung.de/politik/wahl-hessen"
URL_EN = "https://www.example-news.com/world/elections"
URL_BUDGET = "https://www.example-news.com/city/budget"
PAGES = {URL_DE: b"<html><body>Wahl</body></html>", URL_EN: b"<html>elections</html>"}


def build_archive(session) -> None:
    """Three articles: a German one, an English one, and a budget story edited twice
    (v1 promises no library closes, v2 drops the promise, v3 puts it back)."""
    archive(session, make_fetch(URL_DE, at=0, body=PAGES[URL_DE]),
            make_article(ELECTION_DE, title="Hessen hat gewählt", language="de",
                         canonical_url=URL_DE, authors=["Eva Koch"]))
    archive(session, make_fetch(URL_EN, at=1, body=PAGES[URL_EN]),
            make_article(ELECTION_EN, title="Three cities vote", language="en",
                         canonical_url=URL_EN))
    for minute, body in ((2, BUDGET_1), (60, BUDGET_2), (120, BUDGET_3)):
        archive(session, make_fetch(URL_BUDGET, at=minute, body=body.encode()),
                make_article(body, title="Council approves budget", language="en-GB",
                             canonical_url=URL_BUDGET))


@pytest.fixture
def reader(db_url: str) -> Iterator[Engine]:
    """The engine analysts' commands read through."""
    eng = read_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(reader: Engine, session) -> Iterator[Connection]:
    build_archive(session)
    session.close()
    with reader.connect() as c:
        yield c
