"""The revisit crawl's start requests: due (or all) archived articles, claimed in batches.

``scrapy crawl news -a revisit=due`` takes the articles whose next visit has come, oldest
due first; ``-a revisit=all`` every archived article. Both narrow with ``-a site=`` and
``-a source=``. Each batch is claimed in the database (archiver/storage/schedule.py), so
two revisit crawls never fetch the same article; fetching one releases its claim and
sets its next visit. Requests go through the same downloader slots as any crawl, so
``CONCURRENT_REQUESTS_PER_DOMAIN`` and AutoThrottle keep each publisher's load as usual.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from archiver.crawl.sources import Source
from archiver.storage.schedule import claim
from archiver.storage.session import make_engine, make_sessionmaker

#: The values ``-a revisit=`` takes.
MODES = ("due", "all")
#: Articles claimed per database round trip.
BATCH = 500


def revisit_domains(sites: Sequence[str], sources: Sequence[Source]) -> list[str]:
    """The site domains a revisit crawl is narrowed to (empty: every site)."""
    domains = []
    for site in sites:
        host = urlsplit(site).hostname if "//" in site else site.split("/")[0]
        domains.append((host or site).lower().rstrip("."))
    for source in sources:
        named = source.domains or tuple(
            urlsplit(u).hostname or ""
            for u in (*source.sitemaps, *source.feeds, *source.start_pages, *source.urls)
        )
        domains += [d.lower().rstrip(".") for d in named if d]
    return sorted({d.removeprefix("www.") for d in domains})


def claimed_urls(
    database_url: str,
    *,
    mode: str,
    domains: Sequence[str],
    limit: int | None,
    lease: timedelta,
) -> Iterator[str]:
    """Claim articles batch by batch and yield their URLs (at most ``limit``)."""
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    taken = 0
    try:
        while limit is None or taken < limit:
            size = BATCH if limit is None else min(BATCH, limit - taken)
            with sessions() as session, session.begin():
                batch = claim(session.connection(), due_only=mode == "due", limit=size,
                              domains=domains, lease=lease)
            if not batch:
                return
            taken += len(batch)
            yield from (c.url for c in batch)
    finally:
        engine.dispose()


