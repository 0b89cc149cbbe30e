"""Which article a page is: a publisher's canonical URL is a claim to check, not a fact.

An article is identified by a normalised URL. A page may claim one (``<link
rel=canonical>``, ``og:url``, JSON-LD; see ``archiver/extract/metadata.py`` for which
source wins), and AMP copies, print views and tracking-parameter variants rightly point
at the article they copy. But SEO plugins set every page's ``og:url`` to the home page,
themes point canonicals at the section front, and the later pages of a multi-page
article point at page 1. Believing such a claim files unrelated stories as "versions"
of one article, which then alternate on every crawl.

The rules, in order (:func:`judge_claim` is the pure part, :func:`choose` the rest):

1. No claim, or one naming the page itself: the page's own final URL.
2. A claim is refused, and the page's own URL kept, when it is malformed, too long, on
   another scheme than http(s), on another site, the site root, a section above the page
   (``/news/`` for ``/news/2025/story.html``; an AMP or print copy's parent is allowed),
   the listing that linked the page, or made by a later page of a multi-page article
   (``?page=2``, ``/page/2/``, a ``rel=prev`` link): those pages are kept apart.
3. A claim is refused when the archive's last fetch of the URL says it names no
   article: a sitemap, feed, start page or section front, a page judged not to be an
   article, a 404 or 410, a redirect loop.
4. A claim is refused when an article already stands under it whose current version came
   from another page URL and whose text is unrelated (:func:`related`). If that article
   was itself filed there by another page's claim, two unrelated pages claim one URL:
   it names neither, and the holder moves to its own page URL too (:func:`split`).
5. A page already archived under its own URL stays there when it claims a free URL.
6. A page archived under its own URL finds there an article whose versions came from
   another page with unrelated text (a claim believed before this page was first seen):
   those versions move out to their own page URL (:func:`split`), and the page takes
   its URL back.

Every refusal and move is said in the fetch's reason ("canonical points at the site root;
kept under the page URL"). A page rewritten in place at the same URL stays one article,
however much its text changes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import Connection, func, select, update

from archiver.extract import Article
from archiver.items import REDIRECT_LOOP, TOO_MANY_REDIRECTS
from archiver.storage import models
from archiver.storage.history import record_changes
from archiver.storage.upsert import insert_ignore
from archiver.storage.urlkey import url_in, url_is, url_sha256
from archiver.urls import MAX_URL_LENGTH, normalise_url, same_site

__all__ = [
    "RELATED_THRESHOLD",
    "Identity",
    "Mixed",
    "choose",
    "find_mixed",
    "judge_claim",
    "related",
    "split",
]

Articles = models.Article.__table__
Versions = models.Version.__table__
Fetches = models.Fetch.__table__

#: Two texts are one article when at least this share of the shorter one's three-word
#: shingles appear in the other. An edit, a correction, an appended update or an AMP
#: copy keeps far more; two different stories, even on one topic, share almost none.
RELATED_THRESHOLD = 0.2
_SHINGLE = 3

#: Path segments (or suffixes) that make a page a copy of its parent: AMP and print views.
_COPY_SEGMENTS = frozenset({"amp", "print", "amp.html", "print.html", "output", "mobile",
                            "index.html", "index.htm", "index.php"})
_ROOT_PATHS = frozenset({"/", "/index.html", "/index.htm", "/index.php", "/home", "/home/"})
#: Pagination parameters (not WordPress's ``?p=123``, a post id).
_PAGE_PARAMS = frozenset({"page", "pg", "paged", "pagenum", "seite", "pagina"})
_PAGE_PATH = re.compile(r"/(?:page|seite|pagina)/(\d+)/?$", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_LISTING_KINDS = frozenset({"sitemap", "feed", "start_page", "robots"})


@dataclass(frozen=True, slots=True)
class Identity:
    """The URL an article is archived under, and why when a claim was not believed."""

    url: str
    reason: str | None = None
    #: Articles whose versions were moved out so that this page could take its URL back.
    moved: tuple[int, ...] = ()


def _page_number(url: str) -> int | None:
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if key.lower() in _PAGE_PARAMS and value.isdigit():
            return int(value)
    match = _PAGE_PATH.search(parts.path)
    return int(match.group(1)) if match else None


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def judge_claim(
    page_url: str,
    claim: str | None,
    *,
    listed_in: str | None = None,
    previous: str | None = None,
) -> tuple[str, str | None]:
    """The normalised URL a claim names, or the page's own URL and why the claim is refused.

    Pure: what can be said from the two URLs alone (see the module docstring, rules 1-2).

    Args:
        page_url: the page's final URL.
        claim: its canonical URL, absolute (metadata resolves relative ones), or None.
        listed_in: the listing (sitemap, feed, front) whose link led to the page.
        previous: the page's ``rel=prev`` link: a page whose previous page is the one
            it claims to be (or the same path) is a later page of a multi-page article.
            (WordPress themes also link adjacent posts so: those name other articles.)

    Returns:
        ``(url, reason)``: ``reason`` is None when the claim was believed (or absent).
    """
    page = normalise_url(page_url)
    if not claim or not claim.strip():
        return page, None
    claim = claim.strip()
    kept = "; kept under the page URL"
    if len(claim) > MAX_URL_LENGTH:
        return page, f"canonical longer than {MAX_URL_LENGTH} characters{kept}"
    try:
        parts = urlsplit(claim)
        _ = parts.port  # raises on a port out of range
        named = normalise_url(claim)
    except ValueError:
        return page, f"canonical is malformed{kept}"
    if any(c.isspace() or ord(c) < 32 for c in claim):
        return page, f"canonical is malformed{kept}"
    if parts.scheme.lower() not in ("http", "https"):
        return page, f"canonical is not an http(s) URL ({parts.scheme or 'no scheme'}){kept}"
    if not parts.hostname:
        return page, f"canonical has no host{kept}"
    if not same_site(claim, page_url):
        return page, f"canonical points at another site{kept}"
    if named == page:
        return page, None
    named_parts, page_parts = urlsplit(named), urlsplit(page)
    if named_parts.path in _ROOT_PATHS and not named_parts.query:
        return page, f"canonical points at the site root{kept}"
    number = _page_number(page)
    prev = _safe_normalise(previous) if previous else None
    later_page = prev is not None and (
        prev.rstrip("/") == named.rstrip("/") or urlsplit(prev).path == page_parts.path)
    if later_page or (number is not None and number > 1):
        what = f"page {number}" if number and number > 1 else "a later page"
        return page, f"{what} of a multi-page article points at another page{kept}"
    if listed_in and named == _safe_normalise(listed_in):
        return page, f"canonical points at the listing that linked the page{kept}"
    above, below = _segments(named_parts.path), _segments(page_parts.path)
    if len(above) < len(below) and below[: len(above)] == above:
        rest = [s.lower() for s in below[len(above):]]
        if not all(s in _COPY_SEGMENTS for s in rest):
            return page, f"canonical points at a section above the page{kept}"
    return named, None


def _safe_normalise(url: str) -> str | None:
    try:
        return normalise_url(url)
    except ValueError:
        return None


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str) -> set[tuple[str, ...]]:
    """The text's three-word shingles (its single words when shorter)."""
    words = _words(text)
    if len(words) < _SHINGLE:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)}


def similarity(a: str, b: str) -> float | None:
    """The share of the shorter text's shingles found in the other; None for an empty text."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return None
    return len(sa & sb) / min(len(sa), len(sb))


def related(a: str, b: str) -> bool:
    """Whether two texts can be one article (an empty text can't tell: related)."""
    score = similarity(a, b)
    return score is None or score >= RELATED_THRESHOLD


def _text(title: str | None, text: str | None) -> str:
    return f"{title or ''}\n{text or ''}"


def _source_page(metadata: Any, fallback: str | None) -> str | None:
    """The normalised page URL a version was read from (its reading's ``url``)."""
    url = metadata.get("url") if isinstance(metadata, dict) else None
    return _safe_normalise(url) if isinstance(url, str) and url else fallback


# --- at archiving time -------------------------------------------------------------------


def choose(conn: Connection, page_url: str, article: Article,
           listed_in: str | None = None) -> Identity:
    """The URL to archive ``article`` (read from ``page_url``) under; runs in the
    archiving transaction. Rules 3-6 of the module docstring on top of
    :func:`judge_claim`."""
    meta = article.metadata or {}
    page = normalise_url(page_url)
    prev = meta.get("rel_prev")
    url, reason = judge_claim(page_url, article.canonical_url, listed_in=listed_in,
                              previous=prev if isinstance(prev, str) else None)
    text = _text(article.title, article.text)
    kept = "; kept under the page URL"
    _serialise(conn, url)
    if url != page:
        known = _known_as(conn, article.canonical_url or url, url)
        if known is not None:
            url, reason = page, f"canonical points at {known}{kept}"
        else:
            other = _stranger(conn, url, page, text)
            if other is None and _archived_as_itself(conn, url, page):
                # A page archived under its own URL stays there when its claim names a
                # free URL (one freed because two unrelated pages claimed it, see below).
                url, reason = page, f"already archived under the page URL, not {url}"
            elif other is not None:
                held, score, source = other
                reason = (f"canonical names another article (its text shares {score:.0%} "
                          f"with this page's){kept}")
                if source != url:
                    # Its holder came from another page too: two unrelated pages claim
                    # one URL, so it names neither; the holder goes to its own URL.
                    freed = split(conn, held)
                    if freed.new_urls:
                        reason += (f"; the article read from {source}, which claimed it "
                                   f"too, moved to its own URL")
                url = page
    moved: tuple[int, ...] = ()
    if url == page:
        taken = _stranger(conn, page, page, text)
        if taken is not None:
            # Rule 5: a claim believed before this page was seen took its URL.
            result = split(conn, taken[0])
            moved = (taken[0], *result.new_ids)
            if result.new_urls:
                note = (f"versions read from other pages that had claimed this URL moved "
                        f"to their own URLs ({', '.join(result.new_urls)})")
                reason = f"{reason}; {note}" if reason else note
    problem = meta.get("canonical_problem")
    if isinstance(problem, str) and problem:
        reason = f"{problem}; {reason}" if reason else problem
    return Identity(url, reason, moved)


def _archived_as_itself(conn: Connection, url: str, page: str) -> bool:
    """Whether no article holds ``url`` and one under ``page`` was read from ``page``."""
    rows = conn.execute(
        select(Articles.c.url, Versions.c.metadata)
        .join(Versions, (Articles.c.id == Versions.c.article_id)
              & (Versions.c.version == Articles.c.current_version), isouter=True)
        .where(url_in(Articles, (url, page)))
    ).all()
    if any(r.url == url for r in rows):
        return False
    return any(r.url == page and _source_page(r.metadata, page) == page for r in rows)


def _serialise(conn: Connection, url: str) -> None:
    """Race: two pages claiming one URL archived at once would both find it free and
    both be filed under it. On PostgreSQL a transaction-scoped advisory lock on the URL
    makes the second wait and see the first's article; SQLite's writers are serial."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(url))))


def _known_as(conn: Connection, claim: str, named: str) -> str | None:
    """What the archive's last fetch of the claimed URL says it is, when that rules it out
    as this article's name: a listing, no article, gone, or a redirect loop."""
    variants = {claim, named, named.rstrip("/"), named.rstrip("/") + "/"}
    last = conn.execute(
        select(Fetches.c.outcome, Fetches.c.status, Fetches.c.kind, Fetches.c.reason)
        .where(url_in(Fetches, variants))
        .order_by(Fetches.c.fetched_at.desc(), Fetches.c.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    if last.kind in _LISTING_KINDS:
        return "a listing of the site"
    if last.outcome == models.Outcome.NOT_ARTICLE.value:
        return "a page that is not an article"
    if last.status in (404, 410):
        return f"a page that answered HTTP {last.status}"
    if last.outcome == models.Outcome.ERROR.value:
        for prefix, what in _REDIRECT_ERRORS.items():
            if (last.reason or "").startswith(prefix):
                return what
    return None


#: Fetch reasons (spiders/news.py's describe_failure) of a URL that never ends on a page.
_REDIRECT_ERRORS = {REDIRECT_LOOP: "a redirect loop",
                    TOO_MANY_REDIRECTS: "a URL that redirects too many times"}


def _stranger(
    conn: Connection, url: str, page: str, text: str
) -> tuple[int, float, str] | None:
    """The article under ``url``, its text's similarity to ``text`` and the page its
    current version came from, when that is another page than ``page`` and the texts are
    unrelated; else None."""
    row = conn.execute(
        select(Articles.c.id, Versions.c.title, Versions.c.text, Versions.c.metadata)
        .join(Articles, (Articles.c.id == Versions.c.article_id)
              & (Versions.c.version == Articles.c.current_version))
        .where(url_is(Articles, url))
    ).first()
    if row is None:
        return None
    source = _source_page(row.metadata, url)
    if source is None or source == page:
        return None  # rewritten in place: one article however much it changed
    score = similarity(_text(row.title, row.text), text)
    if score is None or score >= RELATED_THRESHOLD:
        return None
    return row.id, score, source


# --- repair ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Version:
    id: int
    version: int
    captured_at: datetime
    content_hash: str
    text: str
    page: str


@dataclass(slots=True)
class Mixed:
    """An article whose versions came from several pages with unrelated texts."""

    article_id: int
    url: str
    #: The pages its versions came from, each with its version numbers, in order.
    pages: dict[str, list[int]] = field(default_factory=dict)


@dataclass(slots=True)
class SplitResult:
    article_id: int
    new_ids: list[int] = field(default_factory=list)
    new_urls: list[str] = field(default_factory=list)
    #: Groups left in place because their page URL is another article already.
    left: list[str] = field(default_factory=list)


def _versions(conn: Connection, article_id: int, url: str) -> list[_Version]:
    rows = conn.execute(
        select(Versions.c.id, Versions.c.version, Versions.c.captured_at,
               Versions.c.content_hash, Versions.c.title, Versions.c.text,
               Versions.c.metadata)
        .where(Versions.c.article_id == article_id)
        .order_by(Versions.c.version)
    ).all()
    return [_Version(r.id, r.version, r.captured_at, r.content_hash,
                     _text(r.title, r.text), _source_page(r.metadata, url) or url)
            for r in rows]


def _groups(versions: list[_Version]) -> list[list[_Version]]:
    """Versions grouped into articles: one group per page, then pages whose texts are
    related joined (an AMP copy and its article). In order of first version."""
    by_page: dict[str, list[_Version]] = {}
    for v in versions:
        by_page.setdefault(v.page, []).append(v)
    groups: list[list[_Version]] = []
    for members in by_page.values():
        for group in groups:
            if any(related(a.text, b.text) for a in group for b in members):
                group.extend(members)
                break
        else:
            groups.append(list(members))
    for group in groups:
        group.sort(key=lambda v: v.version)
    return groups


def find_mixed(conn: Connection) -> Iterator[Mixed]:
    """Articles whose versions came from different page URLs with unrelated texts."""
    # Only articles whose versions name more than one page URL are read in full.
    page = Versions.c.metadata["url"].as_string()
    candidates = conn.execute(
        select(Versions.c.article_id, Articles.c.url)
        .join(Articles, Articles.c.id == Versions.c.article_id)
        .group_by(Versions.c.article_id, Articles.c.url)
        .having(func.count(page.distinct()) > 1)
        .order_by(Versions.c.article_id)
    ).all()
    for candidate in candidates:
        versions = _versions(conn, candidate.article_id, candidate.url)
        if len({v.page for v in versions}) < 2 or len(_groups(versions)) < 2:
            continue
        mixed = Mixed(candidate.article_id, candidate.url)
        for v in versions:
            mixed.pages.setdefault(v.page, []).append(v.version)
        yield mixed


def split(conn: Connection, article_id: int) -> SplitResult:
    """Split an article whose versions came from unrelated pages into one per page.

    Runs in the caller's transaction and locks the article row. The group read from the
    article's own URL keeps the row; without one, the first group keeps it and the row
    takes that group's page URL (freeing the URL for the page it names). Every other
    group becomes an article under its page URL, its versions renumbered from 1 and the
    fetches that made or matched them following. Nothing is deleted. A group whose page
    URL is already another article stays where it is (reported in ``left``).
    Idempotent: an article whose versions all belong to its own URL is left as it is.
    """
    row = conn.execute(
        select(Articles.c.id, Articles.c.url, Articles.c.site_id, Articles.c.next_visit_at)
        .where(Articles.c.id == article_id).with_for_update()
    ).one()
    result = SplitResult(article_id)
    groups = _groups(_versions(conn, row.id, row.url))
    if not groups:
        return result
    keeper = next((g for g in groups if any(v.page == row.url for v in g)), None)
    if keeper is not None and len(groups) == 1:
        return result
    if keeper is None:
        keeper = groups[0]
        if _taken(conn, keeper[0].page):
            result.left.append(keeper[0].page)
        else:
            conn.execute(update(Articles).where(Articles.c.id == row.id)
                         .values(url=keeper[0].page, url_sha256=url_sha256(keeper[0].page)))
            result.new_urls.append(keeper[0].page)
    for group in groups:
        if group is keeper:
            continue
        new_id = _move(conn, row, group, group[0].page)
        if new_id is None:
            result.left.append(group[0].page)
            continue
        result.new_ids.append(new_id)
        result.new_urls.append(group[0].page)
    moved = {v.id for g in groups if g is not keeper and g[0].page not in result.left
             for v in g}
    _renumber(conn, row.id, [v for g in groups for v in g if v.id not in moved])
    # Each article's versions now follow other versions: what kind of change each is too.
    for changed in (row.id, *result.new_ids):
        record_changes(conn, changed, 1)
    return result


def _taken(conn: Connection, url: str) -> bool:
    return conn.execute(select(Articles.c.id).where(url_is(Articles, url))).first() is not None


def _move(conn: Connection, row: Any, group: list[_Version], url: str) -> int | None:
    """A new article under ``url`` holding ``group``'s versions; None if ``url`` is taken."""
    last = group[-1]
    # Race: a crawl archives this page under its URL meanwhile; the unique url keeps its
    # article and this group stays where it was.
    new_id = conn.scalar(
        insert_ignore(conn, models.Article, ["url_sha256"], Articles.c.id),
        {"site_id": row.site_id, "url": url, "url_sha256": url_sha256(url),
         "first_seen_at": group[0].captured_at,
         "last_fetched_at": _last_fetched(conn, row.id, group),
         "last_changed_at": last.captured_at, "current_version": len(group),
         "current_hash": last.content_hash,
         # Revisited on the schedule the merged article had (NULL is never due).
         "next_visit_at": row.next_visit_at},
    )
    if new_id is None:
        return None
    for number, v in enumerate(group, 1):
        conn.execute(update(Versions).where(Versions.c.id == v.id)
                     .values(article_id=new_id, version=number))
        conn.execute(update(Fetches).where(Fetches.c.article_id == row.id,
                                           Fetches.c.version == v.version)
                     .values(article_id=new_id, version=number))
    return new_id


def _last_fetched(conn: Connection, article_id: int, group: list[_Version]) -> datetime:
    found = conn.scalar(
        select(func.max(Fetches.c.fetched_at)).where(
            Fetches.c.article_id == article_id,
            Fetches.c.version.in_([v.version for v in group]))
    )
    return max(filter(None, [found, group[-1].captured_at]))


def _renumber(conn: Connection, article_id: int, remaining: list[_Version]) -> None:
    """Number the versions left 1..n, oldest first (each new number is at most the old
    one, so ascending order never collides), and the article row's current one."""
    last = None
    for number, v in enumerate(sorted(remaining, key=lambda v: v.version), 1):
        last = v
        if number != v.version:
            conn.execute(update(Versions).where(Versions.c.id == v.id).values(version=number))
            conn.execute(update(Fetches).where(Fetches.c.article_id == article_id,
                                               Fetches.c.version == v.version)
                         .values(version=number))
        v.version = number
    if last is not None:
        conn.execute(update(Articles).where(Articles.c.id == article_id).values(
            current_version=last.version, current_hash=last.content_hash,
            last_changed_at=last.captured_at))


@dataclass(slots=True)
class IdentityReport:
    """What ``archiver identity`` found, and what ``--fix`` did about it."""

    mixed: list[Mixed]
    fixed: list[SplitResult] = field(default_factory=list)

    @property
    def left(self) -> list[str]:
        """Page URLs whose versions stayed put (already another article)."""
        return [url for result in self.fixed for url in result.left]


def check_identity(database_url: str | None = None, *, fix: bool = False) -> IdentityReport:
    """Articles whose versions came from different pages with unrelated texts; with
    ``fix``, each split (:func:`split`) in a transaction of its own, so an interruption
    keeps what was done and a second run finds only what is left."""
    from archiver.storage.session import check_database, make_engine

    engine = make_engine(database_url)
    try:
        check_database(engine)
        with engine.connect() as conn:
            report = IdentityReport(list(find_mixed(conn)))
        if fix:
            for mixed in report.mixed:
                with engine.begin() as conn:  # one transaction per article
                    report.fixed.append(split(conn, mixed.article_id))
        return report
    finally:
        engine.dispose()
