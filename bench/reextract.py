"""Re-extraction benchmark: `archiver reextract` against single-process bare extraction.

Builds an archive of 1,000+ versions whose raw captures are the dev-set pages
(``../shared/devset/html``, each page made distinct per copy by a comment, as a real
archive holds distinct bodies), all read by an "older extractor", then times
:func:`archiver.ops.reextract.reextract` re-reading every capture with the built-in extractor
(worker pool, batches committed to the database). In the same run it times one process
doing ``trafilatura.bare_extraction(html, with_metadata=True)`` over the same pages (the
baseline of ``bench/crawl.py``) and our own ``extract`` in one process, and prints them
side by side with their ratios. Then it reports what keeping the bodies of pages judged
``not_article`` costs in storage.

    .venv/bin/python bench/reextract.py                     # 1040 pages, fresh PostgreSQL
    .venv/bin/python bench/reextract.py --copies 4 --database-url sqlite:////tmp/rx.db

A benchmark, not a test: it prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from crawl import DEVSET, _drop_postgres, _fresh_postgres  # noqa: E402


def _pages(copies: int) -> list[tuple[str, bytes]]:
    base = [gzip.decompress(p.read_bytes()) for p in sorted(DEVSET.glob("*.html.gz"))]
    return [
        (f"https://bench{i % 7}.example/p/{i}/{c}.html", html + f"<!-- copy {c} -->".encode())
        for c in range(copies) for i, html in enumerate(base)
    ]


def build_archive(url: str, pages: list[tuple[str, bytes]]) -> None:
    """One version per page, its capture the page, read by an "older extractor"."""
    from archiver.extract import Article
    from archiver.items import Fetch
    from archiver.storage import archive, make_engine, make_sessionmaker

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with sessions() as session:
        for n, (page_url, body) in enumerate(pages):
            fetch = Fetch(url=page_url, final_url=page_url, status=200, body=body,
                          headers={"content-type": "text/html; charset=utf-8"},
                          fetched_at=t0 + timedelta(seconds=n), meta={"kind": "article"})
            old = Article(text=f"older reading of page {n}", title=f"Page {n}",
                          extractor_version="bench-older/1")
            archive(session, fetch, old)
    engine.dispose()


def bare_seconds(pages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """One process over every page: trafilatura's bare_extraction, and our extract."""
    import trafilatura

    from archiver.extract import extract

    html = [body.decode("utf-8", "replace") for _, body in pages]
    trafilatura.bare_extraction(html[0], with_metadata=True)  # warm imports and caches
    extract(pages[0][1], pages[0][0])
    start = time.perf_counter()
    for h in html:
        trafilatura.bare_extraction(h, with_metadata=True)
    bare = time.perf_counter() - start
    start = time.perf_counter()
    for page_url, body in pages:
        extract(body, page_url)
    ours = time.perf_counter() - start
    return bare, ours


def kept_body_cost(url: str, pages: list[tuple[str, bytes]], copies: int) -> str:
    """What keeping the bodies judged not_article costs, measured on this archive."""
    from sqlalchemy import func, select

    from archiver.storage import make_engine, models

    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.execute(
            select(func.count(), func.sum(models.RawCapture.compressed_size),
                   func.sum(models.RawCapture.size))
        ).one()
        text_bytes = conn.scalar(select(func.sum(func.length(models.Version.text))))
    engine.dispose()
    from archiver.extract import judge

    distinct = len(pages) // copies
    judged = [judge(body, u) for u, body in pages[:distinct]]
    not_articles = [i for i, v in enumerate(judged) if v.article is None]
    import zstandard

    kept = sum(len(zstandard.ZstdCompressor(level=3).compress(pages[i][1]))
               for i in not_articles) * copies
    per_page = total[1] / total[0]
    return (
        f"raw captures: {total[0]} bodies, {total[2] / 1e6:.1f} MB -> {total[1] / 1e6:.1f} MB "
        f"zstd ({per_page / 1e3:.1f} KB a page); newest readings' text {text_bytes / 1e6:.1f} MB\n"
        f"kept not_article bodies: {len(not_articles)} of {distinct} dev-set pages judged "
        f"not_article ({len(not_articles) / distinct:.0%}) -> {kept / 1e6:.2f} MB zstd "
        f"over {len(pages)} pages, {kept / max(total[1], 1):.1%} on top of the raw captures "
        "of versions\n"
        f"a kept body costs what a version's capture does, {per_page / 1e3:.1f} KB zstd here: "
        f"at the 4-in-257 not_article rate of real publisher pages, "
        f"{per_page * 4 / 257 * 1000 / 1e6:.2f} MB per 1,000 fetched pages "
        f"({4 / 257:.1%} on top of the captures of versions)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=16,
                        help="versions per dev-set page (default 16: 1040 pages)")
    parser.add_argument("--database-url", help="archive to use (default: fresh PostgreSQL)")
    parser.add_argument("--workers", type=int, default=0, help="default: one per core")
    args = parser.parse_args()

    pages = _pages(args.copies)
    created = None
    url = args.database_url
    if url is None:
        url, created = _fresh_postgres()
    try:
        from archiver.crawl.extractors import Readers
        from archiver.ops.reextract import reextract
        from archiver.storage.migrate import upgrade

        upgrade(url)
        build_archive(url, pages)
        n = len(pages)
        print(f"{n} archived pages ({n // args.copies} dev-set pages x {args.copies}), "
              f"{os.cpu_count()} cores, {url.split('://')[0]}")
        bare, ours = bare_seconds(pages)
        print(f"single-process bare_extraction:   {bare:6.2f} s  ({n / bare:5.1f} pages/s)")
        print(f"single-process archiver extract:  {ours:6.2f} s  ({n / ours:5.1f} pages/s)")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        report = reextract(url, readers=Readers(), workers=args.workers or None)
        took = time.perf_counter() - start
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"archiver reextract (pool, commits): {took:6.2f} s  ({n / took:5.1f} pages/s)"
              "  [pool start to last commit]")
        print(f"  {report.summary()}")
        print(f"ratio (bare extraction time / reextract time): {bare / took:.2f}x; "
              f"(archiver extract time / reextract time): {ours / took:.2f}x")
        print(f"peak RSS of the reextract process: {rss_after / 1024:.0f} MB "
              f"(+{(rss_after - rss_before) / 1024:.0f} MB during the run)")
        print(kept_body_cost(url, pages, args.copies))
    finally:
        if created:
            _drop_postgres(created)
    return 0


if __name__ == "__main__":
    sys.exit(main())
