"""The revisit crawl's start requests: due (or all) archived articles, claimed in batches.

``scrapy crawl news -a revisit=due`` takes the articles whose next visit has come, oldest
due first; ``-a revisit=all`` every archived article. Both narrow with ``-a site=`` and
``-a source=``. Each batch is claimed in the database (archiver/storage/schedule.py), so
two revisit crawls never fetch the same article; fetching one releases its claim and
sets its next visit, and the claims the crawl took but did not fetch are given back when
it ends (:class:`RevisitClaims`). Requests go through the same downloader slots as any
crawl, so ``CONCURRENT_REQUESTS_PER_DOMAIN`` and AutoThrottle keep each publisher's load
as usual.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.crawl.sources import Source, SourcesError, load_sources
from archiver.revisit import RevisitConfig, RevisitConfigError, config_from_settings
from archiver.storage.schedule import Claimed, Settled, claim, settle
from archiver.storage.session import make_engine, make_sessionmaker

#: The values ``-a revisit=`` takes.
MODES = ("due", "all")
#: Articles claimed per database round trip (``ARCHIVER_REVISIT_BATCH``).
BATCH = 500


def revisit_domains(sites: Sequence[str], sources: Sequence[Source]) -> list[str]:
    """The site domains a revisit crawl is narrowed to (empty: every site)."""
    domains = []
    for site in sites:
        host = urlsplit(site).hostname if "//" in site else site.split("/")[0]
        domains.append((host or site).lower().rstrip("."))
    for source in sources:
        domains += source_domains(source)
    return sorted({d.removeprefix("www.") for d in domains})


def source_domains(source: Source) -> tuple[str, ...]:
    """The domains whose articles are the source's: its declared ``domains``, else the
    hosts of its listings and URLs (without ``www.``)."""
    named = source.domains or tuple(
        urlsplit(u).hostname or ""
        for u in (*source.sitemaps, *source.feeds, *source.start_pages, *source.urls)
    )
    return tuple(sorted({d.lower().rstrip(".").removeprefix("www.") for d in named if d}))


def revisit_config(settings: Any) -> RevisitConfig:
    """The revisit policy of a crawl: the ``ARCHIVER_REVISIT_*`` settings, and over them
    the ``revisit_*`` keys of each ``[[source]]`` in ``ARCHIVER_SOURCES`` (if the file
    exists) for the articles of that source's domains: a source's value wins for its
    articles, whichever crawl fetches them (a listing crawl, or ``revisit=due``).

    Raises:
        RevisitConfigError: a bad setting (named).
        SourcesError: a source whose values do not fit with the settings (e.g. its
            minimum interval is longer than the maximum).
    """
    base = config_from_settings(settings)
    path = settings.get("ARCHIVER_SOURCES")
    if not path or not Path(path).is_file():
        return base
    per_source = []
    for source in load_sources(path).values():
        if not source.revisit:
            continue
        try:
            config = base.overridden(dict(source.revisit),
                                     {a: f"revisit_{a}" for a, _ in source.revisit})
        except RevisitConfigError as exc:
            raise SourcesError(f"{path}: source {source.name!r}: {exc}") from None
        domains = source_domains(source)
        if domains:
            per_source.append((domains, config))
    return replace(base, sources=tuple(per_source))


class RevisitClaims:
    """The articles one revisit crawl claims, batch by batch, and what becomes of its
    claims when it ends.

    Iterating claims articles as the crawl asks for requests (at most ``limit``). The
    spider calls :meth:`answered` for each one it got an answer for (a response or a
    failure), and :meth:`settle` when it closes: a claim no fetch released is then given
    back at once (the crawl stopped, was interrupted, or never reached it: the article is
    due again now, not when the lease runs out), or, for an article that was answered
    but archived under another article (its page now redirects elsewhere), its next visit
    is set as after any fetch.
    """

    def __init__(
        self,
        database_url: str,
        *,
        mode: str,
        domains: Sequence[str],
        limit: int | None,
        lease: timedelta,
        config: RevisitConfig | None = None,
        batch: int = BATCH,
    ) -> None:
        self.database_url = database_url
        self.batch = max(1, batch)
        self.mode, self.domains, self.limit, self.lease = mode, list(domains), limit, lease
        self.config = config
        self.claimed: list[Claimed] = []
        self._answered: set[int] = set()

    def __iter__(self) -> Iterator[Claimed]:
        engine = make_engine(self.database_url)
        sessions = make_sessionmaker(engine)
        try:
            while self.limit is None or len(self.claimed) < self.limit:
                size = self.batch
                if self.limit is not None:
                    size = min(size, self.limit - len(self.claimed))
                with sessions() as session, session.begin():
                    batch = claim(session.connection(), due_only=self.mode == "due",
                                  limit=size, domains=self.domains, lease=self.lease)
                if not batch:
                    return
                self.claimed += batch
                yield from batch
        finally:
            engine.dispose()

    def answered(self, article_id: int) -> None:
        self._answered.add(article_id)

    def settle(self) -> Settled:
        """Release or reschedule the claims no fetch released (see the class)."""
        if not self.claimed:
            return Settled(0, 0)
        engine = make_engine(self.database_url)
        try:
            with make_sessionmaker(engine)() as session, session.begin():
                return settle(session.connection(), self.claimed, self._answered, self.config)
        finally:
            engine.dispose()
