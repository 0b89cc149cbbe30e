"""Article identity: a publisher's canonical is a claim checked before it is believed,
and ``archiver identity --check/--fix`` repairs articles merged before that; on SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archiver.storage import Outcome, archive, identity, models
from archiver.storage.identity import Identity, judge_claim, related, similarity
from archiver.urls import article_url

from .helpers import BODY_A, BODY_B, make_article, make_fetch

SITE = "https://www.example-news.com"

#: Five different stories (no three-word run in common between any two).
STORIES = [
    (
        "The harbour ferry resumes its winter timetable on Monday after repairs to the pier "
        "were finished ahead of schedule, the port authority said in a statement."
    ),
    (
        "A new public library opens in the old railway station next spring, with a reading "
        "room for children and a workshop where residents can repair bicycles."
    ),
    (
        "Farmers in the eastern valley expect a record apple harvest after a mild spring and "
        "a wet summer, although prices at the wholesale market keep falling."
    ),
    (
        "The regional court rejected an appeal by the tram operator against a fine imposed for "
        "delays that left commuters stranded during last year's heatwave."
    ),
    (
        "Scientists at the university measured the fastest glacier retreat on record in the "
        "northern mountains, where ice has thinned by forty metres in a decade."
    ),
]


def page_url(i: int) -> str:
    return f"{SITE}/news/2026/story-{i}.html"


# --- the pure rule ----------------------------------------------------------------------


@pytest.mark.parametrize(("claim", "why"), [
    (f"{SITE}/", "site root"),
    ("https://example-news.com", "site root"),
    (f"{SITE}/index.html", "site root"),
    (f"{SITE}/news/", "section above the page"),
    (f"{SITE}/news/2026/", "section above the page"),
    ("https://other.example.org/news/2026/story-1.html", "another site"),
    ("ftp://www.example-news.com/story-1", "not an http(s) URL"),
    ("javascript:alert(1)", "not an http(s) URL"),
    ("http://[::1", "malformed"),
    ("https://www.example-news.com:99999/x", "malformed"),
    ("https://www.example-news.com/a b", "malformed"),
    (f"{SITE}/#top", "site root"),
    (SITE + "/" + "x" * 3000, "longer than"),
])
def test_claims_that_name_no_article_are_refused(claim: str, why: str) -> None:
    url, reason = judge_claim(page_url(1), claim)
    assert url == "https://www.example-news.com/news/2026/story-1.html"
    assert reason is not None and why in reason and "kept under the page URL" in reason


@pytest.mark.parametrize(("page", "claim", "expected"), [
    (page_url(1), page_url(1) + "#comments", page_url(1)),
    (page_url(1) + "?utm_source=x", page_url(1), page_url(1)),
    (f"{SITE}/news/2026/story-1.html/amp", page_url(1), page_url(1)),
    (f"{SITE}/news/2026/story-1/amp/", f"{SITE}/news/2026/story-1/", f"{SITE}/news/2026/story-1/"),
    (f"{SITE}/amp/news/2026/story-1.html", page_url(1), page_url(1)),
    (f"{SITE}/print/news/2026/story-1.html", page_url(1), page_url(1)),
    (f"{SITE}/news/2026/story-1/index.html", f"{SITE}/news/2026/story-1/",
     f"{SITE}/news/2026/story-1/"),
    ("http://example-news.com/news/2026/story-1.html", page_url(1), page_url(1)),
])
def test_copies_and_variants_name_their_article(page: str, claim: str, expected: str) -> None:
    assert judge_claim(page, claim) == (expected, None)


def test_later_pages_and_the_listing_that_linked_are_no_claim() -> None:
    url, reason = judge_claim(page_url(1) + "?page=2", page_url(1))
    assert url == page_url(1) + "?page=2" and "page 2 of a multi-page article" in reason
    url, reason = judge_claim(f"{SITE}/news/2026/story-1/page/3/", f"{SITE}/news/2026/story-1/")
    assert "page 3" in reason
    url, reason = judge_claim(page_url(2), page_url(1), previous=page_url(1))
    assert url == page_url(2) and "later page" in reason
    # WordPress links the adjacent post as rel=prev: no page of this article.
    assert judge_claim(page_url(2) + "?utm_source=x", page_url(2), previous=page_url(1)) == (
        page_url(2), None)
    assert judge_claim(f"{SITE}/x/amp/", f"{SITE}/x/", previous=page_url(1)) == (
        f"{SITE}/x/", None)
    # WordPress's ?p=123 is a post id, not a page number.
    assert judge_claim(f"{SITE}/?p=123", page_url(1)) == (page_url(1), None)
    url, reason = judge_claim(page_url(2), f"{SITE}/latest", listed_in=f"{SITE}/latest")
    assert url == page_url(2) and "listing that linked" in reason
    assert judge_claim(page_url(1), None) == (page_url(1), None)


def test_similarity_tells_an_edit_from_another_story() -> None:
    assert related(BODY_A, BODY_B)
    assert related(STORIES[0], STORIES[0] + " A second paragraph was added later today.")
    for other in STORIES[1:]:
        assert not related(STORIES[0], other), other
        assert similarity(STORIES[0], other) < identity.RELATED_THRESHOLD
    assert related("", STORIES[0])  # nothing to compare: no reason to split


# --- at archiving time ------------------------------------------------------------------


def story(i: int, claim: str | None, **kw: object):
    return make_article(STORIES[i], title=f"Story {i}", canonical_url=claim, **kw)


def counts(session: Session) -> tuple[int, int]:
    with session.begin():
        return (len(session.scalars(select(models.Article.id)).all()),
                len(session.scalars(select(models.Version.id)).all()))


@pytest.mark.parametrize("claim", [f"{SITE}/", f"{SITE}/news/"])
def test_stories_claiming_the_root_or_a_section_stay_apart(session: Session, claim: str) -> None:
    for visit in range(2):
        for i in range(5):
            result = archive(session, make_fetch(page_url(i), at=10 * visit + i),
                             story(i, claim))
            assert result.outcome is (Outcome.NEW_ARTICLE if visit == 0 else Outcome.UNCHANGED)
            assert "kept under the page URL" in result.reason
    assert counts(session) == (5, 5)
    with session.begin():
        urls = set(session.scalars(select(models.Article.url)))
    assert urls == {page_url(i) for i in range(5)}


def test_a_canonical_claimed_by_two_different_stories(session: Session) -> None:
    shared = f"{SITE}/news/2026/the-story.html"
    first = archive(session, make_fetch(page_url(0)), story(0, shared))
    second = archive(session, make_fetch(page_url(1), at=1), story(1, shared))
    assert first.outcome is second.outcome is Outcome.NEW_ARTICLE
    assert first.article_id != second.article_id
    assert "canonical names another article" in second.reason
    assert "which claimed it too, moved to its own URL" in second.reason
    with session.begin():
        assert set(session.scalars(select(models.Article.url))) == {page_url(0), page_url(1)}
    # Again: nothing new, each in its place.
    again = [archive(session, make_fetch(page_url(i), at=5 + i), story(i, shared))
             for i in (0, 1)]
    assert [r.outcome for r in again] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert [r.article_id for r in again] == [first.article_id, second.article_id]
    assert counts(session) == (2, 2)


def test_the_page_a_claim_named_takes_its_url_back(session: Session) -> None:
    # Story 1 claims story 0's URL before story 0 was ever seen: believed, for now.
    impostor = archive(session, make_fetch(page_url(1)), story(1, page_url(0)))
    assert impostor.outcome is Outcome.NEW_ARTICLE
    owner = archive(session, make_fetch(page_url(0), at=1), story(0, page_url(0)))
    assert owner.outcome is Outcome.NEW_ARTICLE and owner.article_id != impostor.article_id
    assert "moved to their own URLs" in owner.reason
    with session.begin():
        assert session.get(models.Article, impostor.article_id).url == page_url(1)
    later = [archive(session, make_fetch(page_url(i), at=5 + i), story(i, page_url(0)))
             for i in (0, 1)]
    assert [r.outcome for r in later] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert [r.article_id for r in later] == [owner.article_id, impostor.article_id]
    assert counts(session) == (2, 2)


def test_copies_edits_and_in_place_rewrites_still_merge(session: Session) -> None:
    amp = archive(session, make_fetch(f"{SITE}/amp/news/2026/story-0.html"),
                  story(0, page_url(0)))
    main = archive(session, make_fetch(page_url(0) + "?utm_source=feed", at=1),
                   story(0, page_url(0)))
    edit = archive(session, make_fetch(page_url(0), at=2),
                   make_article(STORIES[0] + " Updated.", title="Story 0",
                                canonical_url=page_url(0)))
    assert (amp.outcome, main.outcome, edit.outcome) == (
        Outcome.NEW_ARTICLE, Outcome.UNCHANGED, Outcome.NEW_VERSION)
    assert amp.article_id == main.article_id == edit.article_id
    # A live page rewritten in place: one article, however different its text.
    rewritten = archive(session, make_fetch(page_url(0), at=3), story(3, page_url(0)))
    assert (rewritten.outcome, rewritten.article_id) == (Outcome.NEW_VERSION, amp.article_id)


def test_a_listing_the_archive_knows_is_no_canonical(session: Session) -> None:
    front = f"{SITE}/latest"
    archive(session, make_fetch(front, meta={"kind": "start_page"}), None,
            outcome=Outcome.NOT_ARTICLE, reason="start page")
    result = archive(session, make_fetch(page_url(0), at=1), story(0, front))
    assert result.outcome is Outcome.NEW_ARTICLE
    assert "canonical points at a listing of the site" in result.reason
    with session.begin():
        assert session.get(models.Article, result.article_id).url == page_url(0)


def test_conflicting_tag_sources_are_said(session: Session) -> None:
    art = story(0, page_url(0), metadata={
        "canonical_problem": "2 <link rel=canonical> name different URLs; none is used"})
    result = archive(session, make_fetch(page_url(0)), art)
    assert result.outcome is Outcome.NEW_ARTICLE
    assert result.reason.startswith("2 <link rel=canonical> name different URLs")


# --- repair -----------------------------------------------------------------------------


def old_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Archive as the code before identity checks did: every same-site claim believed."""
    monkeypatch.setattr(identity, "choose", lambda conn, page, art, listed=None:
                        Identity(article_url(page, art.canonical_url)))


def test_check_and_fix_split_what_a_believed_root_merged(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        old_rule(m)
        for visit in range(2):
            for i in range(3):
                archive(session, make_fetch(page_url(i), at=10 * visit + i), story(i, SITE))
        # An AMP copy of an article and its edit: related texts, one article.
        archive(session, make_fetch(f"{SITE}/amp/news/2026/story-4.html", at=30),
                story(4, page_url(4)))
        archive(session, make_fetch(page_url(4), at=31),
                make_article(STORIES[4] + " Updated.", title="Story 4",
                             canonical_url=page_url(4)))
    assert counts(session) == (2, 8)
    with session.begin():
        fetches_before = sorted(session.scalars(select(models.Fetch.id)))
        mixed = list(identity.find_mixed(session.connection()))
    assert [(m.url, sorted(m.pages)) for m in mixed] == [
        ("https://www.example-news.com/", sorted(page_url(i) for i in range(3)))]
    root = mixed[0].article_id
    with session.begin():
        due = session.get(models.Article, root).next_visit_at
        assert due is not None
        result = identity.split(session.connection(), root)
    assert sorted(result.new_urls) == sorted(page_url(i) for i in range(3))
    with session.begin():
        conn = session.connection()
        assert list(identity.find_mixed(conn)) == []
        assert identity.split(conn, root).new_urls == []  # idempotent
    assert counts(session) == (4, 8)  # every version kept
    with session.begin():
        for i in range(3):
            art = session.scalars(select(models.Article).where(
                models.Article.url == page_url(i))).one()
            rows = session.execute(select(models.Version.version, models.Version.text).where(
                models.Version.article_id == art.id).order_by(models.Version.version)).all()
            assert [tuple(r) for r in rows] == [
                (n, STORIES[i]) for n in range(1, art.current_version + 1)]
            # Each fetch that made or matched a version follows it.
            fetched = session.execute(select(models.Fetch.url, models.Fetch.version).where(
                models.Fetch.article_id == art.id)).all()
            assert {f.url for f in fetched} == {page_url(i)}
            assert all(1 <= f.version <= art.current_version for f in fetched)
            assert art.next_visit_at == due  # still revisited
        assert sorted(session.scalars(select(models.Fetch.id))) == fetches_before
    # The next crawl of the same pages adds nothing.
    for i in range(3):
        assert archive(session, make_fetch(page_url(i), at=50 + i),
                       story(i, SITE)).outcome is Outcome.UNCHANGED
    assert counts(session) == (4, 8)


def test_identity_command_checks_then_fixes(
    session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from archiver.cli import main

    with monkeypatch.context() as m:
        old_rule(m)
        for i in range(2):
            archive(session, make_fetch(page_url(i), at=i), story(i, f"{SITE}/news/"))
    assert counts(session) == (1, 2)
    assert main(["--database-url", db_url, "identity", "--check"]) == 1
    out = capsys.readouterr().out
    assert "article 1 https://www.example-news.com/news/: versions from unrelated pages" in out
    assert f"{page_url(1)} (versions 2)" in out and out.endswith("1 mixed articles\n")
    assert main(["--database-url", db_url, "identity", "--fix"]) == 0
    assert "1 mixed articles, 1 split" in capsys.readouterr().out
    assert counts(session) == (2, 2)
    assert main(["--database-url", db_url, "identity", "--json"]) == 0
    assert '"mixed": []' in capsys.readouterr().out


def test_a_canonical_the_archive_found_gone_or_looping_is_no_name(session: Session) -> None:
    gone, loop = f"{SITE}/news/2026/removed.html", f"{SITE}/news/2026/loop.html"
    archive(session, make_fetch(gone, status=404, body=None), None)
    archive(session, make_fetch(loop, status=None, body=None,
                                error="redirect loop: max redirections reached"), None)
    first = archive(session, make_fetch(page_url(0), at=1), story(0, gone))
    second = archive(session, make_fetch(page_url(1), at=2), story(1, loop))
    assert "canonical points at a page that answered HTTP 404" in first.reason
    assert "canonical points at a redirect loop" in second.reason
    with session.begin():
        assert set(session.scalars(select(models.Article.url))) == {page_url(0), page_url(1)}


def test_stories_claiming_one_free_url_at_once_stay_apart(db_url: str) -> None:
    """Four writers (as four crawl processes), released together each round, archive four
    different stories that all claim one canonical no article holds yet."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from archiver.storage import make_engine, make_sessionmaker

    writers, rounds = 4, 8
    barrier = threading.Barrier(writers)

    def writer(w: int) -> list[Outcome]:
        engine = make_engine(db_url)
        sessions = make_sessionmaker(engine)
        out = []
        try:
            for r in range(rounds):
                barrier.wait(timeout=60)
                with sessions() as session:
                    result = archive(session, make_fetch(f"{SITE}/r{r}/story-{w}.html", at=r),
                                     story(w, f"{SITE}/r{r}/the-story.html"))
                out.append(result.outcome)
        finally:
            engine.dispose()
        return out

    with ThreadPoolExecutor(writers) as pool:
        outcomes = [o for outs in pool.map(writer, range(writers)) for o in outs]
    assert outcomes == [Outcome.NEW_ARTICLE] * writers * rounds
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            assert counts(session) == (writers * rounds, writers * rounds)
            # Whichever was believed first, the URL they all claimed names none of them.
            urls = set(session.scalars(select(models.Article.url)))
            assert urls == {f"{SITE}/r{r}/story-{w}.html"
                            for r in range(rounds) for w in range(writers)}
    finally:
        engine.dispose()
