"""Several crawl processes archiving the same article at the same moment.

Each writer has its own engine and connection pool, as separate crawl processes would;
a barrier releases them together each round so their transactions overlap.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from archiver.storage import Outcome, archive, make_engine, make_sessionmaker, models

from .helpers import BODY_A, BODY_B, make_article, make_fetch

WRITERS = 4
ROUNDS = 25
URL = "https://www.example-news.com/city/night-buses"


def _run(db_url: str, body_for) -> list[Outcome]:  # noqa: ANN001
    barrier = threading.Barrier(WRITERS)

    def writer(w: int) -> list[Outcome]:
        engine = make_engine(db_url)
        sessions = make_sessionmaker(engine)
        out = []
        try:
            for r in range(ROUNDS):
                barrier.wait(timeout=60)
                with sessions() as session:
                    result = archive(session, make_fetch(URL, at=r), make_article(body_for(w, r)))
                out.append(result.outcome)
        finally:
            engine.dispose()
        return out

    with ThreadPoolExecutor(WRITERS) as pool:
        return [o for outs in pool.map(writer, range(WRITERS)) for o in outs]


def _check_chain(db_url: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.execute(
                select(models.Version.version, models.Version.content_hash)
                .order_by(models.Version.version)
            ).all()
            art = session.scalars(select(models.Article)).one()
    finally:
        engine.dispose()
    numbers = [r.version for r in rows]
    hashes = [r.content_hash for r in rows]
    assert numbers == list(range(1, len(rows) + 1)), "version numbers must be 1..n, no gaps or twins"
    assert all(a != b for a, b in zip(hashes, hashes[1:])), "no two equal versions back to back"
    assert art.current_version == len(rows) and art.current_hash == hashes[-1]
    return hashes


def test_same_content_at_once_makes_one_version_per_change(db_url: str) -> None:
    # Every writer writes the same content in a round; content alternates A, B, A, ...
    outcomes = _run(db_url, lambda w, r: BODY_A if r % 2 == 0 else BODY_B)
    hashes = _check_chain(db_url)
    assert len(hashes) == ROUNDS  # exactly one version per round, whoever won it
    assert outcomes.count(Outcome.NEW_ARTICLE) == 1
    assert outcomes.count(Outcome.NEW_VERSION) == ROUNDS - 1
    assert outcomes.count(Outcome.UNCHANGED) == (WRITERS - 1) * ROUNDS


def test_different_content_at_once_never_duplicates(db_url: str) -> None:
    # Two pairs of writers disagree within a round; every write is serialised.
    outcomes = _run(db_url, lambda w, r: f"{BODY_A}\n\nUpdate {r}-{w % 2}.")
    hashes = _check_chain(db_url)
    made = outcomes.count(Outcome.NEW_ARTICLE) + outcomes.count(Outcome.NEW_VERSION)
    assert made == len(hashes)
    # Two distinct contents per round, each new: at least 2, at most one per writer.
    assert 2 * ROUNDS <= len(hashes) <= WRITERS * ROUNDS
