"""A resolver for crawl tests: the policy resolver, answering some names from a table.

``-s TWISTED_DNS_RESOLVER=tests.crawl.resolver.HostsResolver`` and
``-s ARCHIVER_TEST_HOSTS='{"name": "127.0.0.2"}'``: a public-looking name answers a
loopback address, as a hostile publisher's DNS would answer a private one. A list of
addresses is answered in turn, the last one from then on (``["127.0.0.3", "127.0.0.2"]``:
a name that rebinds between the check before a request and the connection). Names not
in the table resolve as usual (the tests use none).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from archiver.crawl.netpolicy import PolicyResolver


class HostsResolver(PolicyResolver):
    hosts: dict[str, Any] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> HostsResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.hosts = {
            name: list(answer) if isinstance(answer, list) else [answer]
            for name, answer in crawler.settings.getdict("ARCHIVER_TEST_HOSTS").items()
        }
        return resolver  # type: ignore[return-value]

    def _lookup(self, name: str, timeout: Any) -> Any:
        answers = self.hosts.get(name)
        if answers:
            return defer.succeed(answers.pop(0) if len(answers) > 1 else answers[0])
        return super()._lookup(name, timeout)
