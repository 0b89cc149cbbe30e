"""A resolver for crawl tests: the policy resolver, answering some names from a table.

``-s TWISTED_DNS_RESOLVER=tests.crawl.resolver.HostsResolver`` and
``-s ARCHIVER_TEST_HOSTS='{"name": "127.0.0.2"}'``: a public-looking name answers a
loopback address, as a hostile publisher's DNS would answer a private one. Names not
in the table resolve as usual (the tests use none).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from archiver.crawl.netpolicy import PolicyResolver


class HostsResolver(PolicyResolver):
    hosts: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> HostsResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.hosts = dict(crawler.settings.getdict("ARCHIVER_TEST_HOSTS"))
        return resolver  # type: ignore[return-value]

    def _lookup(self, name: str, timeout: Any) -> Any:
        if name in self.hosts:
            return defer.succeed(self.hosts[name])
        return super()._lookup(name, timeout)
