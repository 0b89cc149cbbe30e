"""Analyst benchmark: search, exports and the cost of the search index, beside baselines.

Builds (once; it is kept and reused) an archive of ``--versions`` (default 100,000)
versions synthesised from the real pages of both dev sets (``shared/devset`` and
``shared/devset-readability``): each page is read with ``extract()``, then every
synthetic article starts from one page's text, a little shuffled (sentences dropped,
paragraphs swapped, sentences borrowed from other pages in its language, numbers
changed), and each later version drops, adds or rewords a sentence, so versions differ
as a publisher's edits do. The first ``--sample`` versions go through the archive's own
write path (``archiver.storage.archive``, one fetch at a time with its raw capture); the
rest are bulk-loaded with ``COPY`` (PostgreSQL) or ``executemany`` (SQLite), with the
search triggers of migration 0013 running as they do for every write. Bulk versions share
their page's raw capture and have a fetch row each, as a crawl leaves them.

Then, each beside its baseline in the same run:

1. **Search** (PostgreSQL; SQLite too unless ``--no-sqlite``): typical queries through
   ``archiver.analyst.search.search`` (what ``archiver search`` runs), latest versions and
   ``--all-versions``, median of ``--repeat`` warm runs, beside the same question as a
   ``LIKE`` scan of the same archive (what analysts wrote before).
2. **Export**: ``archiver export`` as a subprocess for 10,000 and 100,000 versions (and
   none, the process's fixed cost), JSONL, CSV and WARC to a pipe: seconds, versions/s,
   MB/s, and the process's peak RSS (``wait4``), beside PostgreSQL's own
   ``COPY (SELECT * FROM article_versions ...) TO STDOUT`` through ``psql``.
3. **What indexing costs a crawl**: the write path (``archive()`` per fetch, raw capture
   and all) into two fresh archives, one as migrated and one with the search trigger and
   index dropped, in alternating rounds; and, unless ``--no-crawl``, whole crawls of the
   dev set (``bench/crawl.py``'s server and spider) into fresh databases with and without
   them, alternating.

    .venv/bin/python bench/analyst.py                      # builds once, then measures
    .venv/bin/python bench/analyst.py --rebuild            # build the archives again
    .venv/bin/python bench/analyst.py --only search        # search, export or indexing

The PostgreSQL archive is the database ``--database`` (default ``archiver_bench_analyst``)
on the server of ``ARCHIVER_BENCH_PG`` (default ``postgres@127.0.0.1``); the SQLite one
``--sqlite-path`` (default ``/var/tmp/archiver-bench-analyst.db``). A build takes some
ten minutes on two cores. A benchmark, not a test: it prints figures and asserts nothing
about time.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PG_ADMIN_URL = os.environ.get(
    "ARCHIVER_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEFAULT_DATABASE = "archiver_bench_analyst"
DEFAULT_SQLITE = "/var/tmp/archiver-bench-analyst.db"
T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
#: Bumped when the synthesis changes: an archive built otherwise is rebuilt.
RECIPE = "analyst-bench/1"


def _shared(name: str) -> Path:
    """``shared/NAME`` beside the repository, else ``/work/shared/NAME``."""
    beside = REPO.parent / "shared" / name
    return beside if beside.exists() else Path("/work/shared") / name


# --- the pages ---------------------------------------------------------------------------


@dataclass
class Page:
    url: str
    domain: str
    html: bytes
    title: str
    language: str | None
    #: paragraphs of sentences
    paragraphs: list[list[str]]


_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def load_pages() -> list[Page]:
    """Both dev sets' pages, read with ``extract()``; those with a real body."""
    from archiver.extract import extract
    from archiver.urls import site_domain

    sources: list[tuple[str, bytes]] = []
    devset = _shared("devset")
    truth = json.loads((devset / "ground-truth.json").read_text())
    for path in sorted((devset / "html").glob("*.html.gz")):
        sources.append((truth[path.name.removesuffix(".html.gz")]["url"],
                        gzip.decompress(path.read_bytes())))
    for d in sorted((_shared("devset-readability") / "pages").iterdir()):
        # The set has no fetch URL: each page gets one of its own.
        sources.append((f"https://{d.name}.readability.example/story",
                        gzip.decompress((d / "source.html.gz").read_bytes())))
    pages = []
    for url, html in sources:
        article = extract(html, url)
        if article is None or len(article.text) < 600:
            continue
        paragraphs = [[s for s in _SENTENCE.split(p.strip()) if s]
                      for p in article.text.split("\n\n") if p.strip()]
        pages.append(Page(url, site_domain(url), html, article.title or "Untitled",
                          (article.language or "").split("-")[0].lower() or None,
                          paragraphs))
    return pages


# --- synthetic histories -----------------------------------------------------------------


@dataclass
class Synthetic:
    """One version to write."""

    article: int
    version: int
    url: str
    page: int
    captured_at: datetime
    title: str
    text: str


class Histories:
    """Deterministic article histories drawn from the pages."""

    def __init__(self, pages: list[Page], versions_per_article: int = 4) -> None:
        self.pages = pages
        self.per_article = versions_per_article
        self.by_language: dict[str | None, list[int]] = {}
        for i, page in enumerate(pages):
            self.by_language.setdefault(page.language, []).append(i)

    def article(self, i: int) -> list[Synthetic]:
        rng = random.Random(f"{RECIPE}:{i}")
        page_no = i % len(self.pages)
        page = self.pages[page_no]
        donors = [d for d in self.by_language.get(page.language, []) if d != page_no] or [page_no]
        paras = [list(p) for p in page.paragraphs]
        # The first version: the page a little shuffled.
        for p in paras:
            for j in range(len(p) - 1, -1, -1):
                if len(p) > 1 and rng.random() < 0.12:
                    del p[j]
        if len(paras) > 3:
            a, b = rng.sample(range(1, len(paras)), 2)
            paras[a], paras[b] = paras[b], paras[a]
        for _ in range(rng.randint(1, 3)):
            self._borrow(rng, paras, donors)
        paras = [[self._numbers(rng, s) for s in p] for p in paras]
        title = page.title
        first_seen = T0 + timedelta(seconds=20 * i, microseconds=i % 1_000_000)
        url = f"https://{page.domain}/bench/{i}/{_slug(page.title)}"
        out = []
        for v in range(1, self.per_article + 1):
            if v > 1:
                edits = rng.sample(["drop", "borrow", "reword", "numbers"], rng.randint(1, 2))
                if "drop" in edits:
                    self._drop(rng, paras)
                if "borrow" in edits:
                    self._borrow(rng, paras, donors)
                if "reword" in edits:
                    self._reword(rng, paras)
                if "numbers" in edits:
                    pi = rng.randrange(len(paras))
                    paras[pi] = [self._numbers(rng, s) for s in paras[pi]]
                if rng.random() < 0.15:
                    title = f"{page.title} ({rng.choice(['updated', 'corrected', 'live'])})"
            at = first_seen + timedelta(hours=3 * (v - 1), seconds=rng.randint(0, 3000))
            text = "\n\n".join(" ".join(p) for p in paras if p)
            while out and text == out[-1].text:  # an edit that changed nothing
                self._borrow(rng, paras, donors)
                text = "\n\n".join(" ".join(p) for p in paras if p)
            out.append(Synthetic(i, v, url, page_no, at, title, text))
        return out

    def _borrow(self, rng: random.Random, paras: list[list[str]], donors: list[int]) -> None:
        donor = self.pages[rng.choice(donors)]
        sentence = rng.choice(rng.choice(donor.paragraphs))
        target = rng.choice(paras)
        target.insert(rng.randint(0, len(target)), sentence)

    @staticmethod
    def _drop(rng: random.Random, paras: list[list[str]]) -> None:
        candidates = [p for p in paras if len(p) > 1] or paras
        p = rng.choice(candidates)
        if p:
            del p[rng.randrange(len(p))]

    @staticmethod
    def _reword(rng: random.Random, paras: list[list[str]]) -> None:
        p = rng.choice(paras)
        if not p:
            return
        j = rng.randrange(len(p))
        words = p[j].split(" ")
        if len(words) > 3:
            del words[rng.randrange(1, len(words) - 1)]
            p[j] = " ".join(words)

    @staticmethod
    def _numbers(rng: random.Random, sentence: str) -> str:
        return re.sub(r"\b\d{2,}\b",
                      lambda m: str(rng.randint(10, 10 ** len(m.group()) - 1))
                      if rng.random() < 0.5 else m.group(), sentence)

    def versions(self, start_article: int = 0) -> Iterator[Synthetic]:
        i = start_article
        while True:
            yield from self.article(i)
            i += 1


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower())[:60].strip("-") or "story"


def _hash(text: str, title: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


# --- building the archives ---------------------------------------------------------------


def _libpq(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url(database: str) -> str:
    from sqlalchemy import make_url

    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(sql)


def _pg_marker(database: str) -> str | None:
    import psycopg

    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (database,)).fetchone()
    return None if row is None else (row[0] or "")


def _marker(versions: int, sample: int) -> str:
    return f"{RECIPE} versions={versions} sample={sample}"


def write_sample(url: str, history: Iterator[Synthetic], pages: list[Page], count: int) -> float:
    """Write ``count`` versions through ``archive()`` (one fetch each, its own raw
    capture: the page with a comment naming the version); the seconds it took."""
    from archiver.extract import Article
    from archiver.items import Fetch
    from archiver.storage import archive
    from archiver.storage.session import make_engine, make_sessionmaker

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    start = time.perf_counter()
    with sessions() as session:
        for _ in range(count):
            s = next(history)
            page = pages[s.page]
            body = page.html + f"\n<!-- bench article {s.article} version {s.version} -->".encode()
            fetch = Fetch(url=s.url, final_url=s.url, status=200, body=body,
                          fetched_at=s.captured_at,
                          headers={"content-type": "text/html; charset=utf-8",
                                   "server": "bench"})
            article = Article(text=s.text, title=s.title, language=page.language,
                              canonical_url=s.url, extractor_version="bench/1")
            archive(session, fetch, article)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def _copy_text(value: object) -> object:
    return value


def bulk_postgres(url: str, history: Iterator[Synthetic], pages: list[Page], count: int) -> None:
    """Bulk-load ``count`` versions with COPY (the search trigger runs on every row)."""
    import psycopg
    from psycopg.types.json import Jsonb

    from archiver.storage.raw import pack
    from archiver.storage.urlkey import url_sha256

    with psycopg.connect(_libpq(url)) as conn:
        now = datetime.now(UTC)
        site_ids: dict[str, int] = {}
        capture_ids: dict[int, int] = {}
        for n, page in enumerate(pages):
            row = conn.execute(
                "INSERT INTO sites (domain, name, first_seen_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (domain) DO UPDATE SET domain = EXCLUDED.domain RETURNING id",
                (page.domain, None, T0)).fetchone()
            site_ids[page.domain] = row[0]
            packed = pack(page.html)
            row = conn.execute(
                "INSERT INTO raw_captures (sha256, body, size, compressed_size, content_type, "
                "charset, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (sha256) DO UPDATE SET size = EXCLUDED.size RETURNING id",
                (packed.sha256, packed.blob, packed.size, len(packed.blob),
                 "text/html; charset=utf-8", "utf-8", now)).fetchone()
            capture_ids[n] = row[0]
        next_article, next_version, next_fetch = (conn.execute(
            f"SELECT COALESCE(max(id), 0) + 1 FROM {t}").fetchone()[0]
            for t in ("articles", "versions", "fetches"))
        conn.commit()
        written = 0
        batch = 5000
        while written < count:
            chunk: list[Synthetic] = []
            while len(chunk) < batch and written + len(chunk) < count:
                chunk.append(next(history))
            articles: dict[int, list[Synthetic]] = {}
            for s in chunk:
                articles.setdefault(s.article, []).append(s)
            with conn.cursor() as cur:
                ids: dict[int, int] = {}
                with cur.copy("COPY articles (id, site_id, url, url_sha256, first_seen_at, "
                              "last_fetched_at, last_changed_at, current_version, current_hash) "
                              "FROM STDIN") as copy:
                    for number, vs in articles.items():
                        ids[number] = next_article
                        last = vs[-1]
                        copy.write_row((next_article, site_ids[pages[last.page].domain],
                                        last.url, url_sha256(last.url), vs[0].captured_at,
                                        last.captured_at, last.captured_at, last.version,
                                        _hash(last.text, last.title)))
                        next_article += 1
                with cur.copy("COPY versions (id, article_id, version, captured_at, title, "
                              "language, text, paywalled, paywall_evidence, content_hash, "
                              "extractor_version, raw_capture_id, metadata) FROM STDIN") as copy:
                    for s in chunk:
                        copy.write_row((next_version, ids[s.article], s.version, s.captured_at,
                                        s.title, pages[s.page].language, s.text, False,
                                        Jsonb([]), _hash(s.text, s.title), "bench/1",
                                        capture_ids[s.page], Jsonb({})))
                        next_version += 1
                with cur.copy("COPY fetches (id, uid, url, url_sha256, final_url, status, "
                              "fetched_at, outcome, article_id, version, raw_capture_id, "
                              "content_type, headers, kind, site_id) FROM STDIN") as copy:
                    for s in chunk:
                        copy.write_row((next_fetch, uuid.uuid4().hex, s.url, url_sha256(s.url),
                                        s.url, 200, s.captured_at,
                                        "new_article" if s.version == 1 else "new_version",
                                        ids[s.article], s.version, capture_ids[s.page],
                                        "text/html; charset=utf-8",
                                        Jsonb({"content-type": "text/html; charset=utf-8",
                                               "server": "bench"}),
                                        "article", site_ids[pages[s.page].domain]))
                        next_fetch += 1
            conn.commit()
            written += len(chunk)
            print(f"\r  bulk: {written}/{count} versions", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        for table in ("articles", "versions", "fetches"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def bulk_sqlite(path: str, history: Iterator[Synthetic], pages: list[Page], count: int) -> None:
    """Bulk-load ``count`` versions with executemany (the FTS5 triggers run on every row)."""
    from archiver.storage.raw import pack
    from archiver.storage.urlkey import url_sha256

    conn = sqlite3.connect(path)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")

    def ts(value: datetime) -> str:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")

    site_ids: dict[str, int] = {}
    capture_ids: dict[int, int] = {}
    for n, page in enumerate(pages):
        conn.execute("INSERT OR IGNORE INTO sites (domain, first_seen_at) VALUES (?, ?)",
                     (page.domain, ts(T0)))
        site_ids[page.domain] = conn.execute("SELECT id FROM sites WHERE domain = ?",
                                             (page.domain,)).fetchone()[0]
        packed = pack(page.html)
        conn.execute("INSERT OR IGNORE INTO raw_captures (sha256, body, size, compressed_size, "
                     "content_type, charset, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (packed.sha256, packed.blob, packed.size, len(packed.blob),
                      "text/html; charset=utf-8", "utf-8", now))
        capture_ids[n] = conn.execute("SELECT id FROM raw_captures WHERE sha256 = ?",
                                      (packed.sha256,)).fetchone()[0]
    next_article = conn.execute("SELECT COALESCE(max(id), 0) + 1 FROM articles").fetchone()[0]
    conn.commit()
    written = 0
    headers = json.dumps({"content-type": "text/html; charset=utf-8", "server": "bench"})
    while written < count:
        chunk: list[Synthetic] = []
        while len(chunk) < 5000 and written + len(chunk) < count:
            chunk.append(next(history))
        articles: dict[int, list[Synthetic]] = {}
        for s in chunk:
            articles.setdefault(s.article, []).append(s)
        ids = {}
        rows = []
        for number, vs in articles.items():
            ids[number] = next_article
            last = vs[-1]
            rows.append((next_article, site_ids[pages[last.page].domain], last.url,
                         url_sha256(last.url), ts(vs[0].captured_at), ts(last.captured_at),
                         ts(last.captured_at), last.version, _hash(last.text, last.title)))
            next_article += 1
        conn.executemany("INSERT INTO articles (id, site_id, url, url_sha256, first_seen_at, "
                         "last_fetched_at, last_changed_at, current_version, current_hash) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany(
            "INSERT INTO versions (article_id, version, captured_at, title, language, text, "
            "paywalled, paywall_evidence, content_hash, extractor_version, raw_capture_id, "
            "metadata, unverified_change) VALUES (?, ?, ?, ?, ?, ?, 0, '[]', ?, 'bench/1', ?, "
            "'{}', 0)",
            [(ids[s.article], s.version, ts(s.captured_at), s.title, pages[s.page].language,
              s.text, _hash(s.text, s.title), capture_ids[s.page]) for s in chunk])
        conn.executemany(
            "INSERT INTO fetches (uid, url, url_sha256, final_url, status, fetched_at, outcome, "
            "article_id, version, raw_capture_id, content_type, headers, kind, site_id) "
            "VALUES (?, ?, ?, ?, 200, ?, ?, ?, ?, ?, 'text/html; charset=utf-8', ?, "
            "'article', ?)",
            [(uuid.uuid4().hex, s.url, url_sha256(s.url), s.url, ts(s.captured_at),
              "new_article" if s.version == 1 else "new_version", ids[s.article], s.version,
              capture_ids[s.page], headers, site_ids[pages[s.page].domain]) for s in chunk])
        conn.commit()
        written += len(chunk)
        print(f"\r  bulk: {written}/{count} versions", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def _build(label: str, url: str, pages: list[Page], versions: int, sample: int,
           bulk: Callable[[Iterator[Synthetic], int], None]) -> None:
    """Migrate the empty archive at ``url``, write ``sample`` versions through
    ``archive()``, then ``bulk`` the rest."""
    from archiver.storage.migrate import upgrade

    upgrade(url)
    history = Histories(pages).versions()
    start = time.perf_counter()
    seconds = write_sample(url, history, pages, sample)
    print(f"  {label}: {sample} versions through archive() in {seconds:.1f} s "
          f"({sample / seconds:.0f}/s)", file=sys.stderr)
    bulk(history, versions - sample)
    print(f"  {label}: built in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def build_postgres(database: str, pages: list[Page], versions: int, sample: int) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{database}"')
    url = _pg_url(database)
    _build("PostgreSQL", url, pages, versions, sample,
           lambda history, n: bulk_postgres(url, history, pages, n))
    marker = _marker(versions, sample).replace("'", "''")
    _admin(f"COMMENT ON DATABASE \"{database}\" IS '{marker}'")


def build_sqlite(path: str, pages: list[Page], versions: int, sample: int) -> None:
    for leftover in (path, f"{path}-wal", f"{path}-shm", f"{path}.built"):
        Path(leftover).unlink(missing_ok=True)
    _build("SQLite", f"sqlite:///{path}", pages, versions, sample,
           lambda history, n: bulk_sqlite(path, history, pages, n))
    Path(f"{path}.built").write_text(_marker(versions, sample))


def ensure_archives(args: argparse.Namespace, pages: list[Page]) -> None:
    """Build the archives, or bring kept ones up to the code's schema (a migration the
    code gained since they were built)."""
    from archiver.storage.migrate import upgrade

    marker = _marker(args.versions, args.sample)
    if args.rebuild or _pg_marker(args.database) != marker:
        print(f"building PostgreSQL archive {args.database} ({args.versions} versions)...",
              file=sys.stderr)
        build_postgres(args.database, pages, args.versions, args.sample)
    else:
        upgrade(_pg_url(args.database))
    if args.sqlite:
        built = Path(f"{args.sqlite_path}.built")
        if args.rebuild or not built.exists() or built.read_text() != marker:
            print(f"building SQLite archive {args.sqlite_path}...", file=sys.stderr)
            build_sqlite(args.sqlite_path, pages, args.versions, args.sample)
        else:
            upgrade(f"sqlite:///{args.sqlite_path}")



# --- 1. search ---------------------------------------------------------------------------

#: (what it shows, the query): typical queries of an analyst on this archive's pages.
QUERIES = [
    ("a phrase", '"health insurance"'),
    ("two words", "supreme court"),
    ("a name", "Zuckerberg"),
    ("word -exclusion", "police -fire"),
    ("a or b", "election or vote"),
    ("French, stemmed", "séismes"),
    ("one common word", "climate"),
    ("one very common word", "game"),
]


def _like_sql(query: str, dialect: str, latest: bool) -> tuple[str, dict[str, str]]:
    """The same question as a LIKE scan, newest first (what analysts wrote before)."""
    from archiver.analyst.search import parse_query

    parsed = parse_query(query)
    params: dict[str, str] = {}
    n = 0

    def term(words: tuple[str, ...]) -> str:
        nonlocal n
        params[f"t{n}"] = "%" + " ".join(words).lower() + "%"
        n += 1
        return f"(lower(v.text) LIKE :t{n - 1} OR lower(v.title) LIKE :t{n - 1})"

    conds = ["(" + " OR ".join(term(t) for t in g) + ")" for g in parsed.groups]
    conds += [f"NOT {term(t)}" for t in parsed.excluded]
    if latest:
        conds.append("v.version = a.current_version")
    sql = ("SELECT a.url, v.version, v.captured_at, v.title FROM versions v "
           "JOIN articles a ON a.id = v.article_id WHERE " + " AND ".join(conds)
           + " ORDER BY v.captured_at DESC LIMIT 20")
    return sql, params


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _matches(conn, query: str) -> int:
    """How many versions match (all versions), for the table."""
    from sqlalchemy import text

    from archiver.analyst.search import fts5_query, parse_query

    if conn.dialect.name == "postgresql":
        return conn.execute(text(
            "SELECT count(*) FROM version_search WHERE document @@ websearch_to_tsquery(config, :q)"
        ), {"q": query}).scalar_one()
    return conn.execute(text("SELECT count(*) FROM versions_fts WHERE versions_fts MATCH :m"),
                        {"m": fts5_query(parse_query(query))}).scalar_one()


def bench_search(url: str, label: str, repeat: int) -> None:
    from sqlalchemy import text

    from archiver.analyst.search import search
    from archiver.analyst.select import Selection, read_engine

    engine = read_engine(url)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM versions")).scalar_one()
        latest_n = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
        print(f"\n### Search, {label}: {total:,} versions of {latest_n:,} articles "
              f"(median of {repeat} warm runs, ms; 20 results)\n")
        print("| query | matching versions | search, latest | LIKE, latest | "
              "search, all versions | LIKE, all versions |")
        print("|---|---:|---:|---:|---:|---:|")
        for what, query in QUERIES:
            row = [f"{what}: `{query}`", f"{_matches(conn, query):,}"]
            for latest in (True, False):
                selection = Selection(all_versions=not latest)
                ms = _median_ms(lambda q=query, s=selection: search(conn, q, s, limit=20), repeat)
                sql, params = _like_sql(query, conn.dialect.name, latest)
                like = _median_ms(lambda q=sql, p=params: conn.execute(text(q), p).all(),
                                  max(1, repeat // 2))
                row += [f"{ms:.0f}", f"{like:.0f}"]
            print("| " + " | ".join(row) + " |")
    engine.dispose()


# --- 2. export ---------------------------------------------------------------------------


def _until_for(url: str, n: int) -> str:
    """A time before which exactly ``n`` versions were captured."""
    from sqlalchemy import text

    from archiver.analyst.select import read_engine

    engine = read_engine(url)
    with engine.connect() as conn:
        if n == 0:
            return "2000-01-01T00:00:00+00:00"
        at = conn.execute(text(
            "SELECT captured_at FROM versions ORDER BY captured_at LIMIT 1 OFFSET :n"),
            {"n": n}).scalar()
    engine.dispose()
    if at is None:
        return "2999-01-01T00:00:00+00:00"
    if isinstance(at, str):  # SQLite
        at = datetime.fromisoformat(at).replace(tzinfo=UTC)
    return at.isoformat()


#: Runs a command and prints its peak RSS: Linux counts in a process's peak the memory of
#: the process it was forked from (the fork's copy, kept through exec), so the command is
#: forked from this small interpreter, not from the benchmark (some 200 MB).
_SPAWN = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\nPEAK-RSS-KB {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _run_measured(command: list[str]) -> tuple[float, int, int, int]:
    """Run ``command``, reading its stdout as a pipe: seconds, bytes and lines out, peak
    RSS (kB)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _SPAWN, *command],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    out = [0, 0]

    def drain() -> None:
        while chunk := proc.stdout.read(1 << 20):  # type: ignore[union-attr]
            out[0] += len(chunk)
            out[1] += chunk.count(b"\n")

    reader = threading.Thread(target=drain)
    reader.start()
    err = proc.stderr.read().decode()  # type: ignore[union-attr]
    proc.wait()
    elapsed = time.perf_counter() - start
    reader.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)}: exit {proc.returncode}: {err[-2000:]}")
    peak = int(re.findall(r"PEAK-RSS-KB (\d+)", err)[-1])
    return elapsed, out[0], out[1], peak


def bench_export(url: str, label: str, sizes: list[int], formats: list[str],
                 baseline: bool) -> None:
    print(f"\n### Export, {label}: `archiver export --all-versions --until T` to a pipe\n")
    print("| format | versions | seconds | versions/s | MB out | MB/s | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for fmt in formats:
        for n in sizes:
            until = _until_for(url, n)
            command = [sys.executable, "-m", "archiver.cli", "--database-url", url, "export",
                       "--format", fmt, "--all-versions", "--until", until]
            seconds, size, lines, rss = _run_measured(command)
            if fmt == "jsonl" and lines != n:  # a line per version: the work was done
                raise SystemExit(f"export of {n} versions wrote {lines} JSONL lines")
            rate = f"{n / seconds:,.0f}" if n else "–"
            print(f"| {fmt} | {n:,} | {seconds:.1f} | {rate} | {size / 1e6:,.0f} | "
                  f"{size / 1e6 / seconds:,.0f} | {rss / 1024:.0f} |", flush=True)
        if baseline and fmt == "csv":
            libpq = _libpq(url)
            for n in sizes:
                until = _until_for(url, n)
                sql = (f"\\copy (SELECT * FROM article_versions WHERE captured_at < "
                       f"'{until}' ORDER BY article_id, version) TO STDOUT WITH CSV HEADER")
                seconds, size, _, rss = _run_measured(["psql", libpq, "-c", sql])
                rate = f"{n / seconds:,.0f}" if n else "–"
                print(f"| baseline: psql `\\copy` of the view as CSV | {n:,} | {seconds:.1f} | "
                      f"{rate} | {size / 1e6:,.0f} | {size / 1e6 / seconds:,.0f} | "
                      f"({rss / 1024:.0f}: psql) |", flush=True)


# --- 3. what indexing costs --------------------------------------------------------------

PG_DROP_SEARCH = ["DROP TRIGGER versions_search_vector ON versions",
                  "DROP INDEX ix_versions_search_vector"]
SQLITE_DROP_SEARCH = ["DROP TRIGGER versions_fts_insert", "DROP TRIGGER versions_fts_update",
                      "DROP TRIGGER versions_fts_delete"]


def _fresh_archive(kind: str, indexed: bool, tmp: Path) -> tuple[str, str | None]:
    """A migrated, empty archive (the search trigger dropped unless ``indexed``)."""
    from sqlalchemy import text

    from archiver.storage.migrate import upgrade
    from archiver.storage.session import make_engine

    if kind == "postgresql":
        name = f"archiver_bench_{uuid.uuid4().hex[:8]}"
        _admin(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    else:
        name = None
        url = f"sqlite:///{tmp / (uuid.uuid4().hex[:8] + '.db')}"
    upgrade(url)
    if not indexed:
        engine = make_engine(url)
        with engine.begin() as conn:
            for sql in PG_DROP_SEARCH if kind == "postgresql" else SQLITE_DROP_SEARCH:
                conn.execute(text(sql))
        engine.dispose()
    return url, name


def bench_write_path(pages: list[Page], kind: str, rounds: int, per_round: int,
                     tmp: Path) -> None:
    """archive() per fetch into two fresh archives, with and without the search index."""
    history = Histories(pages).versions(start_article=10_000_000)
    chunks = [[next(history) for _ in range(per_round)] for _ in range(rounds)]
    archives = {True: _fresh_archive(kind, True, tmp), False: _fresh_archive(kind, False, tmp)}
    seconds = {True: 0.0, False: 0.0}
    try:
        for r, chunk in enumerate(chunks):
            for indexed in ((True, False) if r % 2 == 0 else (False, True)):
                seconds[indexed] += write_sample(archives[indexed][0], iter(chunk), pages,
                                                 len(chunk))
    finally:
        for url, name in archives.values():
            if name:
                _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    n = rounds * per_round
    on, off = n / seconds[True], n / seconds[False]
    print(f"| write path (`archive()` per fetch), {kind} | {n:,} versions, {rounds} "
          f"alternating rounds | {on:.0f} | {off:.0f} | {on / off:.3f} | "
          f"{(1 - on / off) * 100:+.1f}% |", flush=True)


def bench_crawl(copies: int, rounds: int) -> None:
    """Whole crawls of the dev set (bench/crawl.py) into fresh PostgreSQL archives."""
    sys.path.insert(0, str(REPO / "bench"))
    import crawl as crawl_bench  # bench/crawl.py

    pages = [gzip.compress(gzip.decompress(p.read_bytes()), 6)
             for p in sorted(crawl_bench.DEVSET.glob("*.html.gz"))]
    server = crawl_bench._BenchServer(pages, copies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    import psycopg

    seconds = {True: 0.0, False: 0.0}
    archived = {True: 0, False: 0}
    try:
        for r in range(rounds):
            for indexed in ((True, False) if r % 2 == 0 else (False, True)):
                url, name = _fresh_archive("postgresql", indexed, Path("/tmp"))
                try:
                    elapsed, _ = crawl_bench.crawl_seconds(server, url, [])
                    with psycopg.connect(_libpq(url)) as conn:
                        archived[indexed] += conn.execute(
                            "SELECT count(*) FROM versions").fetchone()[0]
                finally:
                    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                seconds[indexed] += elapsed
    finally:
        server.shutdown()
    n = len(server.urls) * rounds
    on, off = n / seconds[True], n / seconds[False]
    # The same work both ways, or the ratio means nothing.
    print(f"| whole crawl (`scrapy crawl news`, bench/crawl.py), postgresql | "
          f"{len(server.urls):,} pages x {rounds} alternating crawls, "
          f"{archived[True]:,} / {archived[False]:,} versions archived | {on:.1f} | {off:.1f} | "
          f"{on / off:.3f} | {(1 - on / off) * 100:+.1f}% |", flush=True)


def bench_indexing(pages: list[Page], args: argparse.Namespace) -> None:
    import tempfile

    print("\n### What the search index costs the crawl (versions or pages per second)\n")
    print("| path | work | with the index | without (trigger and index dropped) | ratio | "
          "cost |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        bench_write_path(pages, "postgresql", args.rounds, args.per_round, Path(tmp))
        if args.sqlite:
            bench_write_path(pages, "sqlite", args.rounds, args.per_round, Path(tmp))
    if args.crawl:
        bench_crawl(args.copies, args.crawl_rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help=f"PostgreSQL database kept between runs (default {DEFAULT_DATABASE})")
    parser.add_argument("--sqlite-path", default=DEFAULT_SQLITE,
                        help=f"SQLite archive kept between runs (default {DEFAULT_SQLITE})")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false",
                        help="PostgreSQL only")
    parser.add_argument("--versions", type=int, default=100_000,
                        help="versions in the archive (default 100,000)")
    parser.add_argument("--sample", type=int, default=2_000,
                        help="of which written through archive() (default 2,000)")
    parser.add_argument("--rebuild", action="store_true", help="build the archives again")
    parser.add_argument("--only", choices=["build", "search", "export", "indexing"],
                        action="append", help="run only these parts (repeatable)")
    parser.add_argument("--repeat", type=int, default=5, help="search runs per query (median)")
    parser.add_argument("--formats", default="jsonl,csv,warc", help="export formats")
    parser.add_argument("--rounds", type=int, default=6,
                        help="write-path rounds per archive (alternating; default 6)")
    parser.add_argument("--per-round", type=int, default=250,
                        help="versions written per round (default 250)")
    parser.add_argument("--no-crawl", dest="crawl", action="store_false",
                        help="skip the whole-crawl comparison")
    parser.add_argument("--copies", type=int, default=16,
                        help="URLs per dev-set page in the crawls (default 16: 1040 pages)")
    parser.add_argument("--crawl-rounds", type=int, default=4,
                        help="crawls with and without the index each (alternating; default 4)")
    args = parser.parse_args()
    parts = set(args.only or ["build", "search", "export", "indexing"])
    start = time.perf_counter()
    pages = load_pages()
    languages: dict[str | None, int] = {}
    for page in pages:
        languages[page.language] = languages.get(page.language, 0) + 1
    print(f"{len(pages)} dev-set pages with a body ({time.perf_counter() - start:.0f} s); "
          "languages: " + ", ".join(f"{k or 'none'} {v}" for k, v in
                                    sorted(languages.items(), key=lambda kv: -kv[1]))
          + f"; {os.cpu_count()} cores")
    ensure_archives(args, pages)
    pg = _pg_url(args.database)
    lite = f"sqlite:///{args.sqlite_path}"
    if "search" in parts:
        bench_search(pg, "PostgreSQL", args.repeat)
        if args.sqlite:
            bench_search(lite, "SQLite", args.repeat)
    if "export" in parts:
        sizes = [0, 10_000, args.versions]
        formats = args.formats.split(",")
        bench_export(pg, "PostgreSQL", sizes, formats, baseline=True)
        if args.sqlite:
            bench_export(lite, "SQLite", sizes, [f for f in formats if f != "warc"],
                         baseline=False)
    if "indexing" in parts:
        bench_indexing(pages, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
