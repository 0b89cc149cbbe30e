"""Re-extraction benchmark: `archiver reextract` against single-process bare extraction.

Builds an archive of 1,000+ versions whose raw captures are the dev-set pages
(``../shared/devset/html``, each page made distinct per copy by a comment, as a real
archive holds distinct bodies), each read by an older extractor: trafilatura's own
``bare_extraction`` with its defaults, plugged in as ``bench-trafilatura-defaults``. Then,
in the same run:

1. one process doing ``trafilatura.bare_extraction(html, with_metadata=True)`` over the
   same pages (the baseline of ``bench/crawl.py``), and our own ``extract`` in one
   process;
2. ``archiver reextract --dry-run`` (the command, a subprocess), whose summary it prints:
   how switching from trafilatura's defaults to the built-in extractor would change this
   archive;
3. ``archiver reextract`` (the command), timed from process start to exit like the
   crawl's ratio, its memory sampled every 0.2 s (the command's process and its worker
   processes) to show it stays flat;
4. ``archiver reextract`` again: idempotent, it reads nothing;
5. the bare baseline again, to show the noise of a shared machine;
6. ``--rounds`` - 1 more pairs (the baseline, then ``archiver reextract`` on an archive
   of its own, built alike), and the median, best and worst ratio over all pairs: on a
   shared machine other work takes the cores at random moments, and one pair of runs
   can land on either side of it.

It prints the timings side by side with their ratios, then what keeping the bodies of
pages judged ``not_article`` costs in storage.

    .venv/bin/python bench/reextract.py                     # 1040 pages, fresh PostgreSQL
    .venv/bin/python bench/reextract.py --copies 4 --database-url sqlite:////tmp/rx.db

A benchmark, not a test: it prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from crawl import DEVSET, _drop_postgres, _fresh_postgres  # noqa: E402

#: The older extractor the archive was read with (see :func:`trafilatura_defaults`).
OLDER = "bench-trafilatura-defaults"


def _pages(copies: int) -> list[tuple[str, bytes]]:
    base = [gzip.decompress(p.read_bytes()) for p in sorted(DEVSET.glob("*.html.gz"))]
    return [
        (f"https://bench{i % 7}.example/p/{i}/{c}.html", html + f"<!-- copy {c} -->".encode())
        for c in range(copies) for i, html in enumerate(base)
    ]


def trafilatura_defaults(html: bytes, url: str) -> Any:
    """The older extractor: trafilatura's ``bare_extraction`` with its defaults, its
    loose values made an Article (a deployment before the built-in one)."""
    import trafilatura

    from archiver.extract import Article

    doc = trafilatura.bare_extraction(html.decode("utf-8", "replace"), url=url,
                                      with_metadata=True)
    if doc is None or not doc.text:
        return None
    published = None
    if doc.date:
        try:
            published = datetime.fromisoformat(doc.date).replace(tzinfo=timezone.utc)
        except ValueError:
            published = None
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    return Article(text=doc.text, title=doc.title, authors=authors, published_at=published,
                   site_name=doc.sitename, language=doc.language, extractor_version=OLDER)


def older_readings(pages: list[tuple[str, bytes]], copies: int) -> list[Any]:
    """The older extractor's reading of each distinct page."""
    return [trafilatura_defaults(body, u) for u, body in pages[:len(pages) // copies]]


def build_archive(url: str, pages: list[tuple[str, bytes]], readings: list[Any]) -> None:
    """One version per page, its capture the page, read by the older extractor."""
    from archiver.extract import Article
    from archiver.items import Fetch
    from archiver.storage import archive, make_engine, make_sessionmaker

    distinct = len(readings)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with sessions() as session:
        for n, (page_url, body) in enumerate(pages):
            fetch = Fetch(url=page_url, final_url=page_url, status=200, body=body,
                          headers={"content-type": "text/html; charset=utf-8"},
                          fetched_at=t0 + timedelta(seconds=n), meta={"kind": "article"})
            old = readings[n % distinct] or Article(text="", extractor_version=OLDER)
            archive(session, fetch, old)
    engine.dispose()


def bare_seconds(pages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """One process over every page: trafilatura's bare_extraction (wall and CPU s)."""
    import trafilatura

    html = [body.decode("utf-8", "replace") for _, body in pages]
    trafilatura.bare_extraction(html[0], with_metadata=True)  # warm imports and caches
    start, cpu = time.perf_counter(), time.process_time()
    for h in html:
        trafilatura.bare_extraction(h, with_metadata=True)
    return time.perf_counter() - start, time.process_time() - cpu


def ours_seconds(pages: list[tuple[str, bytes]]) -> float:
    """One process over every page: the built-in extract."""
    from archiver.extract import extract

    extract(pages[0][1], pages[0][0])
    start = time.perf_counter()
    for page_url, body in pages:
        extract(body, page_url)
    return time.perf_counter() - start


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_seconds() -> float:
    """CPU used so far by the PostgreSQL processes on this machine (and their reaped
    children): what the database spends on a run, read before and after it."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        if raw[raw.index("(") + 1:raw.rindex(")")].startswith("postgres"):
            fields = raw.rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class Sampler(threading.Thread):
    """The RSS of a process and of its descendants (the worker processes), every 0.2 s
    (who the descendants are, every second: scanning /proc costs CPU the run needs)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float, list[float]]] = []  # (t, own, descendants)
        #: CPU seconds each process used, as last seen.
        self.cpu: dict[int, float] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        descendants: list[int] = []
        while not self.stopped.wait(0.2):
            own = _rss_mb(self.pid)
            if not own:
                return
            if len(self.samples) % 5 == 0:
                descendants = _descendants(self.pid)
            self.samples.append((time.perf_counter() - start, own,
                                 [_rss_mb(p) for p in descendants]))
            for p in (self.pid, *descendants):
                self.cpu[p] = max(self.cpu.get(p, 0.0), _cpu_seconds(p))

    def cpu_summary(self, wall: float, database: float) -> str:
        own = self.cpu.get(self.pid, 0.0)
        others = sum(c for p, c in self.cpu.items() if p != self.pid)
        return (f"CPU: command process {own:.1f} s, worker processes {others:.1f} s, "
                f"PostgreSQL {database:.1f} s; command and workers kept "
                f"{(own + others) / wall:.2f} cores busy on average over {wall:.1f} s "
                "(sampled: the last 0.2 s of each process is missed)")

    def summary(self) -> str:
        if len(self.samples) < 8:
            return "too short to sample"
        n = len(self.samples)
        # After start-up (imports, pool) and before shutdown: the steady state.
        steady = self.samples[n // 8: n - n // 8]
        quarter = max(1, len(steady) // 4)
        first, last = steady[:quarter], steady[-quarter:]

        def peak(rows: list[tuple[float, float, list[float]]]) -> float:
            return max(own for _, own, _ in rows)

        workers = max((max(d) for _, _, d in self.samples if d), default=0.0)
        total = max(own + sum(d) for _, own, d in self.samples)
        return (f"command process {peak(first):.0f} MB in the first quarter of the run, "
                f"{peak(last):.0f} MB in the last (peak {peak(self.samples):.0f} MB); "
                f"largest worker process {workers:.0f} MB; all together at most "
                f"{total:.0f} MB ({n} samples)")


def run_command(url: str, *args: str, sample: bool = False) -> tuple[float, str, str]:
    """``archiver reextract ARGS`` in a process of its own: seconds from start to exit,
    stdout, and the memory and CPU samples' summary."""
    import tempfile

    env = {**os.environ, "ARCHIVER_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    env.pop("ARCHIVER_EXTRACTOR", None)  # the built-in
    database = _postgres_cpu_seconds()
    # In an empty directory: no sources.toml, every page read by the built-in.
    with tempfile.TemporaryDirectory() as empty:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "archiver.cli", "reextract", *args],
                                cwd=empty, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        sampler = Sampler(proc.pid)
        if sample:
            sampler.start()
        out, err = proc.communicate()
        took = time.perf_counter() - start
    sampler.stopped.set()
    if proc.returncode != 0:
        raise SystemExit(f"archiver reextract {' '.join(args)} exited {proc.returncode}:\n{err}")
    database = _postgres_cpu_seconds() - database
    summary = f"{sampler.summary()}\n{sampler.cpu_summary(took, database)}" if sample else ""
    return took, out, summary


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


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=16,
                        help="versions per dev-set page (default 16: 1040 pages)")
    parser.add_argument("--database-url", help="archive to use (default: fresh PostgreSQL)")
    parser.add_argument("--workers", type=int, default=0, help="default: one per core")
    parser.add_argument("--rounds", type=int, default=3,
                        help="baseline/reextract pairs, each on an archive of its own "
                             "(default 3; 1 with --database-url)")
    parser.add_argument("--dry-run-lines", type=int, default=40,
                        help="lines of the dry run's summary to print (default 40)")
    args = parser.parse_args()

    pages = _pages(args.copies)
    rounds = 1 if args.database_url else max(1, args.rounds)
    created: list[str] = []
    urls = [args.database_url] if args.database_url else []
    workers = ["--workers", str(args.workers)] if args.workers else []
    try:
        from archiver.storage.migrate import upgrade

        while len(urls) < rounds:
            url, name = _fresh_postgres()
            urls.append(url)
            created.append(name)
        readings = older_readings(pages, args.copies)
        for url in urls:
            upgrade(url)
            build_archive(url, pages, readings)
        url = urls[0]
        n = len(pages)
        print(f"{n} archived pages ({n // args.copies} dev-set pages x {args.copies}), "
              f"read by {OLDER}, in {rounds} archive(s); {os.cpu_count()} cores, "
              f"{url.split('://')[0]}; {_load()}")
        bare, bare_cpu = bare_seconds(pages)
        print(f"single-process bare_extraction:     {bare:6.2f} s  ({n / bare:5.1f} pages/s)"
              f"  [{bare_cpu:.1f} s CPU]")
        ours = ours_seconds(pages)
        print(f"single-process archiver extract:    {ours:6.2f} s  ({n / ours:5.1f} pages/s)")
        dry, dry_out, _ = run_command(url, "--dry-run", *workers)
        print(f"archiver reextract --dry-run:       {dry:6.2f} s  ({n / dry:5.1f} pages/s)"
              "  [process start to exit; writes nothing]")
        took, out, memory = run_command(url, *workers, sample=True)
        print(f"archiver reextract:                 {took:6.2f} s  ({n / took:5.1f} pages/s)"
              "  [process start to exit]")
        print(f"  {out.strip()}")
        again, again_out, _ = run_command(url, *workers)
        print(f"archiver reextract, again:          {again:6.2f} s  [{again_out.strip()}]")
        bare2, bare2_cpu = bare_seconds(pages)
        print(f"single-process bare_extraction again: {bare2:4.2f} s  ({n / bare2:5.1f} pages/s)"
              f"  [{bare2_cpu:.1f} s CPU; the noise; {_load()}]")
        ratios = [bare / took, bare2 / took]
        print(f"round 1 ratio (bare extraction time / reextract time): {bare / took:.2f}x "
              f"(with the second baseline: {bare2 / took:.2f}x); "
              f"archiver extract time / reextract time: {ours / took:.2f}x")
        # More rounds, each the baseline then reextract on an archive not read yet: on a
        # shared machine, other work takes the cores at random moments, and one pair of
        # runs can land on either side of it.
        for i, other in enumerate(urls[1:], start=2):
            b, _ = bare_seconds(pages)
            t, o, _ = run_command(other, *workers)
            ratios.append(b / t)
            print(f"round {i}: bare_extraction {b:6.2f} s, archiver reextract {t:6.2f} s: "
                  f"{b / t:.2f}x  [{o.strip().split(':', 1)[1].split(',')[0].strip()}; "
                  f"{_load()}]")
        ratios.sort()
        print(f"ratio over {len(ratios)} baseline/reextract pairs: median "
              f"{ratios[len(ratios) // 2]:.2f}x, best {ratios[-1]:.2f}x, worst {ratios[0]:.2f}x")
        print(f"memory: {memory}")
        print("(a bare-extraction process that gets a whole core spends as much CPU as wall "
              "time; when the bare runs' CPU falls short of their wall time, other work "
              "held the cores)")
        print(kept_body_cost(url, pages, args.copies))
        lines = dry_out.rstrip().splitlines()
        print(f"\n`archiver reextract --dry-run` said ({len(lines)} lines, the first "
              f"{min(len(lines), args.dry_run_lines)}):")
        print("\n".join(lines[:args.dry_run_lines]))
    finally:
        for name in created:
            _drop_postgres(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
