"""URL normalisation and article identity."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameters that track a click and never name a different page.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|"
    r"_ga|_gl|ocid|cmpid|ito|__twitter_impression|s_cid|ncid|sr_share|smid|ref_src|"
    r"at_medium|at_campaign|at_custom\d|partner|taid|mbid)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: The longest URL the crawl asks for (ARCHIVER_MAX_URL_LENGTH's default): longer ones
#: are refused, so the archive's URL indexes only ever see URLs up to about this long.
MAX_URL_LENGTH = 2048


def normalise_url(url: str) -> str:
    """The form of a URL that names an article in the archive.

    Lower-case scheme and host, no default port, no fragment, no tracking parameters
    (``utm_*``, ``fbclid``, ``gclid``, ...), remaining parameters in their original order,
    an empty path as ``/``.
    """
    url = url.strip().replace("\x00", "")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
         if not TRACKING_PARAMS.match(k)],
        doseq=True,
    )
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def site_domain(url: str) -> str:
    """The domain a site is keyed by: the host without ``www.`` (and with a port if any)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    host = host.removeprefix("www.")
    if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{parts.port}"
    return host


def same_site(a: str, b: str) -> bool:
    """Whether two URLs belong to one publisher: same host, ignoring ``www.``, or one a
    subdomain of the other (``edition.example.com`` and ``example.com``)."""
    da, db = site_domain(a), site_domain(b)
    if not da or not db:
        return False
    return da == db or da.endswith("." + db) or db.endswith("." + da)


def article_url(page_url: str, canonical_url: str | None) -> str:
    """The normalised URL a canonical names on its face (the rule before identity checks).

    Archiving no longer takes this at its word: ``archiver/storage/identity.py`` also
    refuses the site root, sections, listings, later pages and URLs held by unrelated
    articles. The page's canonical URL (``<link rel=canonical>`` / ``og:url``) names the article
    when it is an absolute http(s) URL on the same site; otherwise the page's own (final)
    URL does. A canonical pointing at another site (syndication, a hostile page) never
    lets one publisher's page overwrite another's article, and one longer than
    ``MAX_URL_LENGTH`` (no request could have asked for it) never names one.
    """
    if canonical_url and len(canonical_url) <= MAX_URL_LENGTH:
        parts = urlsplit(canonical_url.strip())
        if parts.scheme in ("http", "https") and parts.hostname and same_site(
            canonical_url, page_url
        ):
            return normalise_url(canonical_url)
    return normalise_url(page_url)
