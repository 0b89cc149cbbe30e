"""The network policy: which addresses a crawl may connect to, and which URLs it may ask for.

A publisher decides what the crawler fetches: its sitemaps, feeds, links, redirects and
meta refreshes name any URL it likes, and its DNS answers any address it likes. Left
alone, a crawl running next to its own PostgreSQL, Redis and a cloud metadata service
(169.254.169.254) would fetch from them and archive what they say (server-side request
forgery). So:

* **Addresses.** Loopback, private (RFC 1918, fc00::/7), link-local, carrier-grade NAT,
  multicast, unspecified and reserved addresses are refused (:func:`address_rule`),
  unless ``ARCHIVER_ALLOWED_NETWORKS`` allows them. The check is made on the address a
  name resolves to, by :class:`PolicyResolver`, the resolver the connection itself uses
  (``TWISTED_DNS_RESOLVER``): a public name answering a private address is caught, and a
  name that answers a public address first and a private one later (DNS rebinding) is
  caught when it connects.
* **Trust.** What the user names is trusted: hosts of ``-a sitemap/feed/url/site``
  arguments and the ``domains`` (and listed URLs) of a ``-a source``, so development
  against loopback keeps working. A request may also carry ``meta["archiver_trusted"]``
  (a revisit of an article already archived: it passed the policy when first fetched).
* **URLs.** Over ``ARCHIVER_MAX_URL_LENGTH`` characters, or a redirect / meta refresh hop
  off a source's domains: refused.

:class:`NetworkPolicyMiddleware` checks every request that reaches the downloader
(redirect and meta refresh hops included, as they go through the chain again) before
anything is sent, and turns a refusal into :class:`RequestRefused`, which the spider
records as a fetch with outcome ``skipped`` and a reason naming the rule. The pure
functions at the top decide; the Scrapy components below only apply them.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

logger = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Networks refused by default, each with the rule a refusal names. Most specific first:
#: the first match names the rule.
REFUSED_NETWORKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/32", "unspecified"),
    ("::/128", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("::1/128", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("fc00::/7", "private"),
    ("169.254.0.0/16", "link-local"),
    ("fe80::/10", "link-local"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("224.0.0.0/4", "multicast"),
    ("ff00::/8", "multicast"),
    ("0.0.0.0/8", "reserved"),              # "this network"
    ("192.0.0.0/24", "reserved"),           # IETF protocol assignments
    ("192.0.2.0/24", "reserved"),           # documentation
    ("198.18.0.0/15", "reserved"),          # benchmarking
    ("198.51.100.0/24", "reserved"),        # documentation
    ("203.0.113.0/24", "reserved"),         # documentation
    ("240.0.0.0/4", "reserved"),            # future use, and 255.255.255.255 broadcast
    ("100::/64", "reserved"),               # discard-only
    ("2001:db8::/32", "reserved"),          # documentation
    ("2001::/23", "reserved"),              # IETF protocol assignments
    ("fec0::/10", "reserved"),              # deprecated site-local
)
_REFUSED = tuple((ipaddress.ip_network(net), rule) for net, rule in REFUSED_NETWORKS)

_DEFAULT_PORTS = {"http": 80, "https": 443}


class PolicyError(ValueError):
    """A setting of the network policy cannot be read (a bad CIDR in the allow-list)."""


class RequestRefused(IgnoreRequest):
    """The network policy refused a request before anything was sent.

    ``rule`` is short and stable (``loopback``, ``url-length``, ``off-source``, ...): it
    names the stats key ``archiver/refused/<rule>``; ``reason`` is the sentence recorded
    with the fetch.
    """

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


def parse_networks(value: str | Iterable[str] | None) -> tuple[IPNetwork, ...]:
    """CIDR networks from a comma- or space-separated string (or a list of them).

    Raises:
        PolicyError: naming the entry that is not a network.
    """
    if not value:
        return ()
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    out = []
    for item in items:
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as exc:
            raise PolicyError(f"ARCHIVER_ALLOWED_NETWORKS: not a network: {item!r}") from exc
    return tuple(out)


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def address_rule(address: str | IPAddress) -> tuple[str, str] | None:
    """The rule refusing ``address`` by default, as ``(rule, network)``, or None.

    An IPv6 address standing for an IPv4 one (``::ffff:127.0.0.1``, 6to4, NAT64) is
    judged as that IPv4 address.
    """
    addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:
            addr = ipaddress.IPv6Address(str(addr).split("%", 1)[0])
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            return address_rule(embedded)
    for network, rule in _REFUSED:
        if addr.version == network.version and addr in network:
            return rule, str(network)
    return None


def ip_literal(host: str) -> IPAddress | None:
    """``host`` as an IP address if it is one (``[::1]`` brackets removed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:  # a port out of range: no trust for it
        port = None
    return host, port


@dataclass
class Trust:
    """What the user named: hosts (with their port) and domains (any port, subdomains)."""

    hosts: set[tuple[str, int | None]] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)

    def add_url(self, url: str) -> None:
        self.hosts.add(_host_port(url))

    def add_domain(self, domain: str) -> None:
        self.domains.add(domain.lower().strip().rstrip(".").removeprefix("www."))

    def names(self) -> set[str]:
        """Host names trusted at any port, for the resolver (which sees no port)."""
        return {h for h, _ in self.hosts} | self.domains

    def covers(self, url: str) -> bool:
        host, port = _host_port(url)
        if (host, port) in self.hosts:
            return True
        return domain_trusted(host, self.domains)


def domain_trusted(host: str, domains: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one."""
    host = host.lower().rstrip(".")
    bare = host.removeprefix("www.")
    return any(host == d or bare == d or host.endswith("." + d) for d in domains if d)


@dataclass(frozen=True)
class AddressPolicy:
    """Refuses the default networks, except those the allow-list names."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> AddressPolicy:
        allowed = settings.get("ARCHIVER_ALLOWED_NETWORKS")
        if isinstance(allowed, (list, tuple)):
            return cls(parse_networks(allowed))
        return cls(parse_networks(allowed or ""))

    def refusal(self, address: str | IPAddress) -> RequestRefused | None:
        """Why connecting to ``address`` is refused, or None if it is allowed."""
        addr = ipaddress.ip_address(address) if isinstance(address, str) else address
        found = address_rule(addr)
        if found is None:
            return None
        if any(addr.version == n.version and addr in n for n in self.allowed):
            return None
        rule, network = found
        return RequestRefused(
            rule,
            f"refused by the network policy: {addr} is a {rule} address ({network}); "
            f"name the host yourself or allow the network in ARCHIVER_ALLOWED_NETWORKS",
        )


def url_refusal(url: str, max_length: int) -> RequestRefused | None:
    """Why ``url`` is refused before any address is looked at, or None."""
    if max_length and len(url) > max_length:
        return RequestRefused(
            "url-length", f"URL too long: {len(url)} characters (limit {max_length})"
        )
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return RequestRefused("scheme", f"not an http(s) URL: {url[:200]}")
    return None


# --- Scrapy components --------------------------------------------------------------------


class AddressRefused(DNSLookupError):
    """Raised by :class:`PolicyResolver` for a refused answer. A ``DNSLookupError``, so
    Twisted turns it into a failed connection without logging a traceback."""


@implementer(IResolverSimple)
class PolicyResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing answers the address policy refuses.

    Installed with ``TWISTED_DNS_RESOLVER = "archiver.crawl.netpolicy.PolicyResolver"``. Every
    connection the HTTP download handler makes resolves its host through here (an IP
    literal too), and the address checked is the address connected to, cached or not:
    an answer that changes between the middleware's check and the connection is
    checked again. Names the crawl trusts (:meth:`trust`) are answered as they resolve.
    """

    def __init__(self, reactor: Any, cache_size: int, timeout: float,
                 policy: AddressPolicy | None = None) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy or AddressPolicy()
        self.trusted: set[str] = set()
        #: The last refusal by host name, for the middleware to record the reason.
        self.refusals: dict[str, RequestRefused] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PolicyResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.policy = AddressPolicy.from_settings(crawler.settings)
        return resolver

    def trust(self, names: Iterable[str]) -> None:
        """Answer these names (and their subdomains) whatever address they resolve to."""
        self.trusted.update(n.lower().rstrip(".") for n in names if n)

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:  # noqa: N802 - Twisted's name
        d = self._lookup(name, timeout)
        d.addCallback(self._check, name)
        return d

    def _lookup(self, name: str, timeout: Any) -> Any:
        """The address ``name`` resolves to (a Deferred), through Scrapy's DNS cache."""
        return super().getHostByName(name, timeout)

    def _check(self, address: str, name: str) -> str:
        if domain_trusted(name, self.trusted):
            return address
        refused = self.policy.refusal(address)
        if refused is not None:
            self.refusals[name.lower().rstrip(".")] = refused
            raise AddressRefused(f"{name}: {refused.reason}")
        return address


class NetworkPolicyMiddleware:
    """Refuse, before anything is sent, a request the network policy does not allow.

    Runs for every request that reaches the downloader: those the spider yields, each
    redirect and meta refresh hop, and robots.txt requests. Checks, in order: URL length
    and scheme; a hop off the source's domains (``meta["archiver_source"]``); then the
    address, for hosts the user did not name: an IP literal as it is, a name as the
    resolver answers it (through the DNS cache the connection uses next). A refusal
    raises :class:`RequestRefused` (a plain ``IgnoreRequest`` for Scrapy's own robots.txt
    requests), counted as ``archiver/refused/<rule>``.
    """

    #: Request kinds held to their source's domains across redirects and meta refreshes
    #: (a source's own sitemaps and feeds may live on a CDN host: they are named by it).
    SOURCE_BOUND_KINDS = ("article", "start_page")

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.policy = AddressPolicy.from_settings(settings)
        self.max_url_length = settings.getint("ARCHIVER_MAX_URL_LENGTH", 2048)
        self.stats = crawler.stats
        self.trust = Trust()
        self.resolver: Any = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Any) -> NetworkPolicyMiddleware:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import reactor

        for url in getattr(spider, "trusted_urls", ()):
            self.trust.add_url(url)
        for domain in getattr(spider, "trusted_domains", ()):
            self.trust.add_domain(domain)
        self.resolver = getattr(reactor, "resolver", None)
        if isinstance(self.resolver, PolicyResolver):
            self.resolver.trust(self.trust.names())
        else:
            logger.warning(
                "The DNS resolver is %s, not archiver.crawl.netpolicy.PolicyResolver: addresses "
                "are checked before each request but not when connecting",
                type(self.resolver).__name__,
            )

    def _refuse(self, request: Request, refused: RequestRefused) -> RequestRefused | IgnoreRequest:
        self.stats.inc_value(f"archiver/refused/{refused.rule}")
        logger.info("Refused %s: %s", request.url[:300], refused.reason)
        if request.meta.get("archiver_kind") is None:
            # Scrapy's own requests (robots.txt): nothing of ours records them.
            return IgnoreRequest(refused.reason)
        return refused

    async def process_request(self, request: Request) -> None:
        refused = url_refusal(request.url, self.max_url_length) or self._off_source(request)
        if refused is None and not self._trusted(request):
            refused = await self._address_refusal(request.url)
        if refused is not None:
            raise self._refuse(request, refused)
        return None

    def process_exception(self, request: Request, exception: Exception) -> None:
        # The resolver refused the connection (an answer that changed since the check
        # above): record why, rather than retrying a DNS failure.
        if isinstance(exception, DNSLookupError) and isinstance(self.resolver, PolicyResolver):
            host = (urlsplit(request.url).hostname or "").lower().rstrip(".")
            refused = self.resolver.refusals.get(host)
            if refused is not None:
                raise self._refuse(request, refused) from exception
        return None

    def _trusted(self, request: Request) -> bool:
        if request.meta.get("archiver_trusted"):
            host = (urlsplit(request.url).hostname or "")
            if isinstance(self.resolver, PolicyResolver):
                self.resolver.trust([host])
            return True
        return self.trust.covers(request.url)

    def _off_source(self, request: Request) -> RequestRefused | None:
        source = request.meta.get("archiver_source")
        if (
            source is None or not request.meta.get("redirect_urls")
            or request.meta.get("archiver_kind") not in self.SOURCE_BOUND_KINDS
            or source.allows(request.url)
        ):
            return None
        host = urlsplit(request.url).hostname or ""
        return RequestRefused(
            "off-source",
            f"redirected off source {source.name!r}: {host} is not one of its domains",
        )

    async def _address_refusal(self, url: str) -> RequestRefused | None:
        host = urlsplit(url).hostname or ""
        literal = ip_literal(host)
        if literal is not None:
            return self.policy.refusal(literal)
        if self.resolver is None:
            return None
        try:
            address = await maybe_deferred_to_future(self.resolver.getHostByName(host))
        except AddressRefused:
            return self.resolver.refusals.get(host.lower().rstrip("."))
        except Exception:  # noqa: BLE001 - NXDOMAIN, timeouts: the download reports them
            return None
        return self.policy.refusal(address)
