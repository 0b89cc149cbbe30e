"""What runs in the extraction worker processes.

Kept apart from :mod:`archiver.crawl.pipelines` so that a worker imports only extraction (not
Scrapy, Twisted or SQLAlchemy). The pipeline ships a page's bytes here, still gzipped
as they came off the wire, and gets back the decoded body and an
:class:`~archiver.extract.Article`: the reactor never inflates or parses HTML.
"""

from __future__ import annotations

import multiprocessing
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from archiver.crawl.extractors import Reader, read_page
from archiver.extract import Article
from archiver.extract.encoding import charset_from_content_type

#: Content-Encodings a worker decodes itself (Scrapy decodes any other on the reactor).
WORKER_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate"})

_BINARY_MAGIC = {
    b"%PDF": "application/pdf",
    b"\x89PNG": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF8": "image/gif",
    b"RIFF": "image/webp or media",
    b"PK\x03\x04": "application/zip",
}


class BodyTooLarge(Exception):
    """A compressed body inflated beyond the download size cap."""


@dataclass(frozen=True, slots=True)
class PageResult:
    """What a worker made of a page."""

    #: The decoded body when the worker had to decode it, else None (the body sent).
    body: bytes | None
    article: Article | None
    #: ``skipped``/``error`` when the worker decided (empty, binary, undecodable, the
    #: extractor failed), else None.
    outcome: str | None = None
    #: Why: for an outcome, or for a page holding no article (``not_article``).
    reason: str | None = None


def _init_worker(crawl_pid: int | None = None) -> None:
    # Workers are for CPU; a Ctrl-C reaches the crawl process, which shuts them down.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if crawl_pid is not None:
        _die_with(crawl_pid)


def _die_with(crawl_pid: int) -> None:
    """End this worker as soon as the crawl process ends, even by ``kill -9``.

    The crawl is not the worker's parent (the fork server is), and the fork server and
    its workers keep each other alive (each worker holds the server's "alive" pipe, and
    both ends of the pool's call queue), so without this the workers of a killed crawl
    live on, each holding ~60 MB. A thread waits on a pidfd of the crawl (Linux: woken
    when it exits, reaped or not), else looks every second.
    """
    import threading

    def wait_for_pidfd(fd: int) -> None:
        import select

        select.select([fd], [], [])
        os._exit(1)

    def poll() -> None:
        import time

        while True:
            try:
                os.kill(crawl_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass
            time.sleep(1.0)

    target, args = poll, ()
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            target, args = wait_for_pidfd, (pidfd_open(crawl_pid),)
        except ProcessLookupError:
            os._exit(1)  # it ended before we started
        except OSError:
            pass  # an old kernel: poll
    threading.Thread(target=target, args=args, name="archiver-crawl-watch", daemon=True).start()


def _wbits(encoding: str) -> list[int]:
    """zlib's window bits to try, in order, for a gzip or deflate Content-Encoding."""
    if encoding in ("gzip", "x-gzip"):
        return [16 + zlib.MAX_WBITS]
    return [zlib.MAX_WBITS, -zlib.MAX_WBITS]  # deflate: zlib-wrapped per the RFC, raw in practice


def decode_body(body: bytes, encoding: str, max_size: int) -> bytes:
    """Inflate a gzip or deflate body, never beyond ``max_size`` bytes (0: no cap).

    A truncated stream yields what could be inflated, as browsers (and Scrapy) do.

    Raises:
        BodyTooLarge: the body inflates beyond ``max_size``.
        zlib.error: the body is not what its Content-Encoding says.
    """
    candidates = _wbits(encoding)
    for i, wbits in enumerate(candidates):
        out = bytearray()
        data = body
        try:
            while data:
                d = zlib.decompressobj(wbits)
                limit = max_size + 1 - len(out) if max_size else 0
                out += d.decompress(data, limit)
                if max_size and (len(out) > max_size or d.unconsumed_tail):
                    raise BodyTooLarge(
                        f"body inflates beyond the download size cap ({max_size} bytes)"
                    )
                data = d.unused_data  # concatenated gzip members
                if encoding == "deflate":
                    break
            return bytes(out)
        except zlib.error:
            if i == len(candidates) - 1:
                raise
    raise AssertionError("unreachable")


def head_of_body(body: bytes, encoding: str | None, size: int) -> bytes:
    """The first ``size`` bytes of a body, inflating only that much of a gzip/deflate one.

    A body that does not inflate gives ``b""``: the worker will say what is wrong with it.
    """
    if not encoding:
        return body[:size]
    for wbits in _wbits(encoding):
        try:
            return zlib.decompressobj(wbits).decompress(body, size)
        except zlib.error:
            continue
    return b""


def process_page(
    body: bytes,
    encoding: str | None,
    url: str,
    content_type: str | None,
    max_size: int,
    reader: Reader | None = None,
) -> PageResult:
    """Decode (if ``encoding``), triage and read one page with ``reader``, in a worker."""
    decoded = None
    if encoding:
        try:
            decoded = body = decode_body(body, encoding, max_size)
        except BodyTooLarge as exc:
            return PageResult(None, None, "error", f"too large: {exc}")
        except zlib.error as exc:
            return PageResult(None, None, "error", f"undecodable {encoding} body: {exc}")
    verdict = sniff(body)
    if verdict:
        return PageResult(decoded, None, "skipped", verdict)
    reading = read_page(reader or Reader(), body, url, charset_from_content_type(content_type))
    if reading.error:
        return PageResult(decoded, None, "error", reading.error)
    return PageResult(decoded, reading.article, None, reading.reason)


def reread_capture(blob: bytes, charset: str | None, url: str, reader: Reader) -> PageResult:
    """Read a stored raw capture (zstd ``blob``) again with ``reader``, in a worker.

    Returns:
        A :class:`PageResult` without body: its article, or an ``error`` outcome for a
        capture that no longer decompresses or an extractor that failed on it.
    """
    import zstandard  # as archiver.storage.raw stores it, without loading SQLAlchemy here

    try:
        body = zstandard.ZstdDecompressor().decompress(blob)
    except Exception as exc:  # a damaged blob is an outcome for this capture
        return PageResult(None, None, "error", f"raw capture does not decompress: {exc}")
    verdict = sniff(body)
    if verdict:
        return PageResult(None, None, "skipped", verdict)
    reading = read_page(reader, body, url, charset)
    if reading.error:
        return PageResult(None, None, "error", reading.error)
    return PageResult(None, reading.article, None, reading.reason)


def extractor_versions(paths: tuple[str, ...]) -> dict[str, str | None]:
    """The ``extractor_version`` each extractor path writes, asked in a worker.

    ``archiver reextract`` asks here rather than in its own process, which then never
    loads trafilatura and lxml (a second of CPU and tens of MB): the workers hold them
    already, and what they say is what they will write.
    """
    from archiver.crawl.extractors import extractor_version_of

    return {path: extractor_version_of(path) for path in paths}


def sniff(body: bytes) -> str | None:
    """Why a 200 body is not a web page (empty, a PDF or image served as HTML), or None."""
    if not body.strip(b" \t\r\n\x00"):
        return "empty body"
    for magic, kind in _BINARY_MAGIC.items():
        if body.startswith(magic):
            return f"not a web page: looks like {kind}"
    return None


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` extraction processes.

    ``forkserver`` (``spawn`` where it is unavailable): never ``fork`` a process that runs
    a reactor and database connections. The server preloads extraction, so each worker
    starts with trafilatura already imported.
    """
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["archiver.crawl.workers", "archiver.extract.core"])
    return ProcessPoolExecutor(
        max_workers=max(1, workers), mp_context=context, initializer=_init_worker,
        initargs=(os.getpid(),),
    )


def default_workers() -> int:
    return os.cpu_count() or 1
