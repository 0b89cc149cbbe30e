"""The network policy in whole crawls: a publisher on 127.0.0.1 points the crawler at an
"internal" host on 127.0.0.2 (standing for a metadata service or an intranet page) every
way it can; the internal host must never see a request, and every refusal is a fetch
row with outcome ``skipped`` and a reason naming the rule."""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.crawl.conftest import REPO, CrawlResult, crawl_command, crawl_env
from tests.crawl.mockserver import InternalServer, MockServer, go_url, refresh_url

#: A public-looking name that the test resolver answers with the internal address.
REBOUND = "metadata.news-cdn.example"
TEST_RESOLVER = {
    "TWISTED_DNS_RESOLVER": "tests.crawl.resolver.HostsResolver",
    "ARCHIVER_TEST_HOSTS": json.dumps({REBOUND: "127.0.0.2"}),
}


@pytest.fixture(scope="module")
def internal() -> Iterator[InternalServer]:
    srv = InternalServer().start()
    assert isinstance(srv, InternalServer)
    yield srv
    srv.stop()


@pytest.fixture
def policy_crawl(tmp_path: Path) -> Any:
    """``policy_crawl(db_url, settings={...}, **args)``: a whole crawl with the test
    resolver installed (and the tests importable by the crawl process)."""

    def run(db_url: str, settings: dict[str, str] | None = None, **args: str) -> CrawlResult:
        proc = subprocess.run(
            crawl_command(args, {**TEST_RESOLVER, **(settings or {})}),
            env=crawl_env(db_url, tmp_path / "spool", PYTHONPATH=str(REPO)),
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )
        return CrawlResult(proc.returncode, proc.stderr)

    return run


def _sitemap(server: MockServer, urls: list[str]) -> str:
    """Serve a urlset listing ``urls``; returns its URL."""
    path = f"/lists-{uuid.uuid4().hex[:8]}/sitemap.xml"
    server.documents[path] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<url><loc>{u.replace('&', '&amp;')}</loc></url>\n" for u in urls)
        + "</urlset>\n"
    ).encode()
    return server.url(path)


def test_every_way_to_the_internal_host_is_refused_and_recorded(
    server: MockServer, internal: InternalServer, sqlite_url: str, policy_crawl: Any,
    archive_of: Any,
):
    site = server.new_site(n=3, seed=21)
    tag = f"/i-{uuid.uuid4().hex[:8]}"
    port = internal.server_address[1]
    listed = internal.url(f"{tag}/latest/meta-data/")
    redirected = go_url(server, internal.url(f"{tag}/redirected"))
    refreshed = refresh_url(server, internal.url(f"{tag}/refreshed"))
    by_name = f"http://{REBOUND}:{port}{tag}/by-name"
    mapped = f"http://[::ffff:127.0.0.2]:{port}{tag}/mapped"
    articles = [server.article_url(site, a) for a in site.articles]
    sitemap = _sitemap(server, [*articles, listed, redirected, refreshed, by_name, mapped])
    archive = archive_of(sqlite_url)

    result = policy_crawl(sqlite_url, sitemap=sitemap)

    assert result.returncode == 0, result.log[-3000:]
    assert internal.requests == [], "the internal host was reached"
    assert {archive.fetch(u).outcome for u in articles} == {"new_article"}
    rows = {name: archive.fetch(url) for name, url in [
        ("listed", listed), ("redirected", redirected), ("refreshed", refreshed),
        ("by_name", by_name), ("mapped", mapped),
    ]}
    for name, row in rows.items():
        assert row.outcome == "skipped", name
        assert "refused by the network policy" in row.reason and "loopback" in row.reason, name
        assert row.article_id is None, name
    assert rows["redirected"].final_url == internal.url(f"{tag}/redirected")
    assert rows["refreshed"].final_url == internal.url(f"{tag}/refreshed")
    assert "127.0.0.2 is a loopback address (127.0.0.0/8)" in rows["by_name"].reason
    assert archive.scalar("SELECT count(*) FROM versions") == 3
    assert "5 skipped" in result.summary


def test_what_the_user_names_and_the_allow_list_are_trusted(
    server: MockServer, internal: InternalServer, sqlite_url: str, policy_crawl: Any,
    archive_of: Any,
):
    tag = f"/t-{uuid.uuid4().hex[:8]}"
    archive = archive_of(sqlite_url)
    # A URL given with -a url=: its (loopback) host is the user's choice.
    named = internal.url(f"{tag}/named")
    result = policy_crawl(sqlite_url, url=named)
    assert result.returncode == 0, result.log[-3000:]
    assert archive.fetch(named).outcome == "new_article"
    assert f"{tag}/named" in internal.requests

    # The same host listed by another publisher: refused, then allowed by the allow-list.
    listed = internal.url(f"{tag}/listed")
    sitemap = _sitemap(server, [listed])
    assert policy_crawl(sqlite_url, sitemap=sitemap).returncode == 0
    assert archive.fetch(listed).outcome == "skipped"
    assert f"{tag}/listed" not in internal.requests
    allowed = policy_crawl(
        sqlite_url, sitemap=sitemap, settings={"ARCHIVER_ALLOWED_NETWORKS": "127.0.0.2/32"}
    )
    assert allowed.returncode == 0, allowed.log[-3000:]
    assert archive.fetch(listed).outcome == "new_article"
    assert f"{tag}/listed" in internal.requests


def test_a_public_name_named_by_the_user_is_trusted_whatever_it_resolves_to(
    internal: InternalServer, sqlite_url: str, policy_crawl: Any, archive_of: Any,
):
    tag = f"/n-{uuid.uuid4().hex[:8]}"
    url = f"http://{REBOUND}:{internal.server_address[1]}{tag}/story"
    result = policy_crawl(sqlite_url, url=url)
    assert result.returncode == 0, result.log[-3000:]
    assert archive_of(sqlite_url).fetch(url).outcome == "new_article"
    assert f"{tag}/story" in internal.requests


# --- the pure rules --------------------------------------------------------------------


@pytest.mark.parametrize("address, rule", [
    ("127.0.0.2", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"),
    ("172.31.255.1", "private"), ("192.168.0.1", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"), ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("198.18.0.1", "reserved"),
    ("::ffff:169.254.169.254", "link-local"), ("64:ff9b::7f00:1", "loopback"),
    ("2002:a00:1::", "private"),
    ("93.184.215.14", None), ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
    ("100.128.0.1", None), ("172.32.0.1", None),
])
def test_address_rules(address, rule):
    from archiver.crawl.netpolicy import address_rule

    found = address_rule(address)
    assert (found[0] if found else None) == rule


def test_allow_list_widens_the_policy_and_bad_entries_are_named():
    from archiver.crawl.netpolicy import AddressPolicy, PolicyError, parse_networks

    policy = AddressPolicy(parse_networks("10.0.0.0/8, fd00::/8"))
    assert policy.refusal("10.20.30.40") is None and policy.refusal("fd00::5") is None
    refused = policy.refusal("192.168.1.1")
    assert refused is not None and refused.rule == "private"
    assert "ARCHIVER_ALLOWED_NETWORKS" in refused.reason
    with pytest.raises(PolicyError, match="'10.0.0.0/33'"):
        parse_networks("10.0.0.0/33")


def test_trust_is_per_host_and_port_for_urls_and_any_port_for_domains():
    from archiver.crawl.netpolicy import Trust

    trust = Trust()
    trust.add_url("http://127.0.0.1:8000/sitemap.xml")
    trust.add_domain("www.example.com")
    assert trust.covers("http://127.0.0.1:8000/any/page")
    assert not trust.covers("http://127.0.0.1:6379/")  # another service on the same host
    assert trust.covers("https://example.com:8443/") and trust.covers("http://news.example.com/")
    assert not trust.covers("http://example.com.evil.test/")


def test_a_source_is_held_to_its_domains_across_redirects_and_refreshes(
    server: MockServer, sqlite_url: str, crawl: Any, archive_of: Any, tmp_path: Path,
):
    site = server.new_site(n=3, seed=22)
    port = server.server_address[1]
    # The source is "localhost"; 127.0.0.1 is the same machine but another host.
    on, off, refresh_off = (f"http://localhost:{port}{site.prefix}{a.path}"
                            for a in site.articles)
    off_target = server.article_url(site, site.articles[1])
    refresh_target = server.article_url(site, site.articles[2])
    local = f"http://localhost:{port}"
    urls = {
        "within": local + "/go/" + quote(on, safe=""),
        "redirect": local + "/go/" + quote(off_target, safe=""),
        "refresh": local + "/refresh/" + quote(refresh_target, safe=""),
    }
    (tmp_path / "sources.toml").write_text(textwrap.dedent(f"""
        [[source]]
        name = "local-news"
        domains = ["localhost"]
        urls = {json.dumps(list(urls.values()))}
    """))
    result = crawl(sqlite_url, source="local-news",
                   settings={"ARCHIVER_SOURCES": str(tmp_path / "sources.toml")})
    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    assert archive.fetch(urls["within"]).outcome == "new_article"
    for name in ("redirect", "refresh"):
        row = archive.fetch(urls[name])
        assert row.outcome == "skipped", name
        assert "redirected off source 'local-news': 127.0.0.1 is not one of its domains" \
            in row.reason, name
    assert server.requests_for(site.prefix + site.articles[1].path) == []
    assert server.requests_for(site.prefix + site.articles[2].path) == []


# --- what the user names, host by host ----------------------------------------------------


@pytest.fixture(scope="module")
def intranet() -> Iterator[list[MockServer]]:
    """Three publishers of an intranet, each on its own port of 127.0.0.2: trust is given
    per host and port, so each is trusted only if the crawl names it."""
    servers = [MockServer(host="127.0.0.2").start() for _ in range(3)]
    yield servers  # type: ignore[misc]
    for srv in servers:
        srv.stop()


def test_sitemap_feed_and_site_arguments_trust_their_own_hosts(
    intranet: list[MockServer], internal: InternalServer, sqlite_url: str, policy_crawl: Any,
    archive_of: Any,
):
    by_sitemap, by_feed, by_site = intranet
    site1 = by_sitemap.new_site(n=2, seed=31)
    site2 = by_feed.new_site(n=2, seed=32)
    site3 = by_site.new_site(n=2, seed=33)
    by_site.robots_sites = [site3.prefix]
    tag = f"/u-{uuid.uuid4().hex[:8]}"
    unnamed = internal.url(f"{tag}/same-address-other-port")  # 127.0.0.2, nobody named it
    sitemap = _sitemap(by_sitemap, [by_sitemap.article_url(site1, a) for a in site1.articles]
                       + [unnamed])

    result = policy_crawl(sqlite_url, sitemap=sitemap,
                          feed=f"{by_feed.base_url}{site2.prefix}/feed.xml",
                          site=by_site.base_url + "/")

    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    for srv, site in ((by_sitemap, site1), (by_feed, site2), (by_site, site3)):
        for article in site.articles:
            assert archive.fetch(srv.article_url(site, article)).outcome == "new_article"
    row = archive.fetch(unnamed)
    assert row.outcome == "skipped" and "127.0.0.2 is a loopback address" in row.reason
    assert all(not p.startswith(tag) for p in internal.requests), "the internal host was reached"


def test_a_sources_domains_are_trusted_on_any_port_and_so_are_its_revisits(
    server: MockServer, intranet: list[MockServer], sqlite_url: str, policy_crawl: Any,
    archive_of: Any, tmp_path: Path,
):
    host = intranet[0]
    site = host.new_site(n=3, seed=34)
    articles = [host.article_url(site, a) for a in site.articles]
    # The source's sitemap lives on another host (127.0.0.1) and lists pages on
    # 127.0.0.2, a port nothing names: only the source's `domains` trusts them.
    sitemap = _sitemap(server, articles)
    (tmp_path / "sources.toml").write_text(textwrap.dedent(f"""
        [[source]]
        name = "intranet-news"
        domains = ["127.0.0.2"]
        sitemaps = [{json.dumps(sitemap)}]
    """))
    settings = {"ARCHIVER_SOURCES": str(tmp_path / "sources.toml")}
    result = policy_crawl(sqlite_url, settings=settings, source="intranet-news")
    assert result.returncode == 0, result.log[-3000:]
    archive = archive_of(sqlite_url)
    assert {archive.fetch(u).outcome for u in articles} == {"new_article"}

    # A revisit names nothing: the articles' own URLs passed the policy when archived.
    before = len(host.requests_for(site.prefix))
    revisit = policy_crawl(sqlite_url, settings=settings, revisit="all")
    assert revisit.returncode == 0, revisit.log[-3000:]
    run = archive.last_run()
    assert {archive.fetch(u, run).outcome for u in articles} <= {"unchanged", "not_modified"}
    assert len(host.requests_for(site.prefix)) == before + 3


def test_a_name_rebinding_to_an_internal_address_is_refused_when_connecting(
    server: MockServer, internal: InternalServer, sqlite_url: str, policy_crawl: Any,
    archive_of: Any,
):
    # The check before the request is answered 127.0.0.3 (allowed here); the connection's
    # own lookup, a moment later, 127.0.0.2: the resolver the connection uses refuses it.
    name = "rebind.news-cdn.example"
    tag = f"/r-{uuid.uuid4().hex[:8]}"
    url = f"http://{name}:{internal.server_address[1]}{tag}/story"
    result = policy_crawl(sqlite_url, sitemap=_sitemap(server, [url]), settings={
        "ARCHIVER_TEST_HOSTS": json.dumps({name: ["127.0.0.3", "127.0.0.2"]}),
        "ARCHIVER_ALLOWED_NETWORKS": "127.0.0.3/32",
        "ROBOTSTXT_OBEY": "False",
    })
    assert result.returncode == 0, result.log[-3000:]
    assert all(not p.startswith(tag) for p in internal.requests), "the internal host was reached"
    row = archive_of(sqlite_url).fetch(url)
    assert row.outcome == "skipped", (row.outcome, row.reason)
    assert "127.0.0.2 is a loopback address (127.0.0.0/8)" in row.reason


def test_the_readme_documents_the_policy_settings():
    from archiver import settings

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    config = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert "| `ARCHIVER_ALLOWED_NETWORKS` | empty |" in config
    for name in ("ARCHIVER_MAX_URL_LENGTH", "ARCHIVER_MAX_LISTING_ENTRIES",
                 "ARCHIVER_MAX_SITEMAP_DEPTH", "ARCHIVER_MAX_LINKS_PER_PAGE",
                 "REDIRECT_MAX_TIMES"):
        assert f"`{name}` ({getattr(settings, name):,}" in config.replace("\n", " ") or (
            f"`{name}` ({getattr(settings, name)}" in config.replace("\n", " ")), name
    assert settings.TWISTED_DNS_RESOLVER == "archiver.crawl.netpolicy.PolicyResolver"
    assert "archiver.crawl.netpolicy.NetworkPolicyMiddleware" in settings.DOWNLOADER_MIDDLEWARES
