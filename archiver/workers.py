"""What runs in the extraction worker processes.

Kept apart from :mod:`archiver.pipelines` so that a worker imports only extraction (not
Scrapy, Twisted or SQLAlchemy). The pipeline ships a page's bytes here and gets back an
:class:`~archiver.extract.Article`, which is small; the reactor never parses HTML.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from archiver.extract import Article, extract
from archiver.extract.encoding import charset_from_content_type


def _init_worker() -> None:
    # Workers are for CPU; a Ctrl-C reaches the crawl process, which shuts them down.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def extract_page(body: bytes, url: str, content_type: str | None) -> Article | None:
    """``extract()`` with the charset the HTTP header named, run in a worker."""
    return extract(body, url, encoding=charset_from_content_type(content_type))


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` extraction processes.

    ``forkserver`` (``spawn`` where it is unavailable): never ``fork`` a process that runs
    a reactor and database connections. The server preloads extraction, so each worker
    starts with trafilatura already imported.
    """
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["archiver.workers"])
    return ProcessPoolExecutor(
        max_workers=max(1, workers), mp_context=context, initializer=_init_worker
    )


def default_workers() -> int:
    return os.cpu_count() or 1
