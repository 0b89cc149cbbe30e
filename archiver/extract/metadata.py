"""Article metadata read from the parsed page: JSON-LD first, then meta tags, then markup.

We read metadata ourselves rather than with trafilatura's metadata pass: it is a few
dictionary look-ups on a tree we already parsed (trafilatura's pass runs htmldate, which
costs about a third of a whole extraction), and it lets us enforce what matters for
versioning: a date never comes from a header widget showing today's date, a site name is
never the headline, a byline is never a sidebar's.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

_ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
     "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "techarticle",
     "scholarlyarticle", "report", "liveblogposting", "posting", "socialmediaposting",
     "webpage", "medicalwebpage", "creativework", "review"}
)
# Preference among several typed nodes: a NewsArticle beats a WebPage about it.
_TYPE_RANK = {"webpage": 1, "medicalwebpage": 1, "creativework": 1}


@dataclass(slots=True)
class Metadata:
    """Loose metadata as found; core.py turns it into an :class:`Article`."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    image: str | None = None
    canonical_url: str | None = None
    jsonld_article: dict[str, Any] | None = None
    #: JSON-LD @types and og:type, lowercased: what the page says it is.
    page_types: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)


# --- JSON-LD ---------------------------------------------------------------------------


def _jsonld_nodes(root: HtmlElement) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for script in root.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            # Publishers' JSON-LD is often broken by a trailing comma or a raw newline.
            try:
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
            except ValueError:
                continue
        stack = [data]
        while stack and len(nodes) < 200:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                nodes.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(reversed(graph))
                main = item.get("mainEntity")
                if isinstance(main, dict):
                    stack.append(main)
    return nodes


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.lower() for v in values if isinstance(v, str)}


def _pick_article(nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    best, best_rank = None, 0
    for node in nodes:
        types = _types(node) & _ARTICLE_TYPES
        if not types:
            continue
        rank = min(_TYPE_RANK.get(t, 2) for t in types)
        if node.get("headline") or node.get("articleBody"):
            rank += 1
        if rank > best_rank:
            best, best_rank = node, rank
    return best


def _names(value: object) -> list[str]:
    """Person names from a JSON-LD author value (string, object, or list of either)."""
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            out.extend(split_byline(item))
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, str):
                out.extend(split_byline(name))
            elif isinstance(name, list):
                out.extend(n for n in name if isinstance(n, str))
    return out


def _first_str(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        for item in value:
            found = _first_str(item)
            if found:
                return found
    if isinstance(value, dict):
        for key in ("url", "contentUrl", "name", "@id"):
            found = _first_str(value.get(key))
            if found:
                return found
    return None


# --- bylines ---------------------------------------------------------------------------

_BY = re.compile(r"^\s*(?:by|from|written\s+by|words\s+by|story\s+by|von|par|por|di)[\s:]+",
                 re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\|)\s*", re.IGNORECASE)
_NOT_A_NAME = re.compile(
    r"(?i)\b(?:staff|reporter|correspondent|editor|writer|news\s+service|associated\s+press|"
    r"updated|published|media|contributor|columnist|photos?|views?|min(?:ute)?s?\s+read)\b|"
    r"@|https?:|\d"
)


def split_byline(text: str) -> list[str]:
    """Names in a byline: "By Jane Doe and John Roe" gives ``["Jane Doe", "John Roe"]``.

    Titles and roles after a comma or pipe ("Amy K | NJ Advance Media") are dropped.
    """
    text = " ".join(text.split())
    if not text or len(text) > 200:
        return []
    text = _BY.sub("", text)
    names = []
    for part in _SPLIT.split(text):
        part = part.strip(" .:-–—")
        if not part or _NOT_A_NAME.search(part) or len(part.split()) > 5:
            continue
        if not part[0].isupper():
            continue
        names.append(part)
    return names


def _dedupe(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


# --- dates -----------------------------------------------------------------------------

_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|$|-)")


def parse_date(value: object) -> datetime | None:
    """An ISO 8601-ish date string as an aware datetime (UTC when no offset), else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 40:
        return None
    value = value.replace("Z", "+00:00").replace("z", "+00:00")
    # "2019-11-18T10:00:00+0000" and "2019-11-18 10:00:00 -0500": make offsets ISO.
    value = re.sub(r"\s*([+-]\d{2}):?(\d{2})$", r"\1:\2", value)
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value[:10])
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    if not 1990 <= parsed.year <= 2100:
        return None
    return parsed


# --- title -----------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s+(?:[|–—·•:»]|-{1,2}|::)\s+")


def clean_title(title: str | None, site_name: str | None, h1: str | None) -> str | None:
    """The headline without the site's suffix or prefix ("Headline | Site" -> "Headline")."""
    if not title:
        return None
    title = " ".join(title.split())
    if h1 and h1 in title and len(h1) >= 0.4 * len(title):
        return h1
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    site = (site_name or "").casefold()
    if site:
        kept = [p for p in parts if p.casefold() != site and p.casefold() not in site]
        if kept and len(kept) < len(parts):
            return " - ".join(kept) if len(kept) > 1 else kept[0]
    # No site name to compare: a short last segment is a site suffix.
    if len(parts[-1].split()) <= 4 and len(" ".join(parts[:-1])) > len(parts[-1]):
        return title[: title.rfind(parts[-1])].rstrip(" |–—·•:»-")
    return title


# --- main entry ------------------------------------------------------------------------


def _meta_map(root: HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    head = root.find("head")
    scope = head if head is not None else root
    for meta in scope.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip()
        content = meta.get("content")
        if key and content and content.strip():
            out.setdefault(key.lower(), content.strip())
    return out


def _text(el: HtmlElement | None) -> str | None:
    if el is None:
        return None
    text = " ".join(el.text_content().split())
    return text or None


_SIDEBAR = re.compile(r"(?i)side|rail|related|recommend|popular|promo|teaser|card|widget|aside")


def _in_sidebar(el: HtmlElement) -> bool:
    for anc in el.iterancestors():
        if anc.tag in ("aside", "nav", "footer"):
            return True
        if _SIDEBAR.search(anc.get("class") or "") or _SIDEBAR.search(anc.get("id") or ""):
            return True
    return False


def _visible_authors(root: HtmlElement) -> list[str]:
    """Authors from ``rel=author`` links, ``itemprop=author`` or a byline element."""
    for el in root.xpath(
        '//*[@rel="author" or @itemprop="author"]'
        ' | //*[contains(@class, "byline") or contains(@class, "author")]'
        '[not(self::html or self::body or self::article or self::main)]'
    )[:40]:
        if _in_sidebar(el):
            continue
        text = _text(el)
        if not text or len(text) > 120:
            continue
        # "By Jane Doe | Published ..." - the names come before any date or role.
        names = split_byline(re.split(r"(?i)\s(?:updated|published|posted)\b", text)[0])
        if names:
            return names
    # Class names that mean nothing (CSS-in-JS hashes): a short "By ..." line near the
    # headline, in document order, outside sidebars.
    h1 = next(root.iter("h1"), None)
    if h1 is None:
        return []
    for count, el in enumerate(h1.itersiblings()):
        if count > 6:
            break
        for node in el.iter():
            if not isinstance(node.tag, str) or not _BYLINE_START.match(node.text or ""):
                continue
            text = _text(node)
            if text and len(text) <= 120 and not _in_sidebar(node):
                names = split_byline(text)
                if names:
                    return names
    return []


_BYLINE_START = re.compile(r"\s*(?:by|written by)\s+\S", re.IGNORECASE)


def _visible_date(root: HtmlElement, key: str) -> datetime | None:
    """A ``<time datetime>`` (or itemprop) in the article, never one in a header/nav."""
    if key == "datePublished":
        query = '//*[@itemprop="datePublished"] | //article//time[@datetime] | //main//time[@datetime]'
    else:  # a bare <time> is the publication date; an update must say it is one
        query = ('//*[@itemprop="dateModified"] | //time[@datetime][contains(@class, "updated")'
                 ' or contains(@class, "modified")]')
    for el in root.xpath(query)[:20]:
        if any(anc.tag in ("header", "nav", "footer", "aside") and anc.getparent() is not None
               and anc.getparent().tag == "body" for anc in el.iterancestors()):
            continue
        if _in_sidebar(el):
            continue
        value = el.get("datetime") or el.get("content") or el.text_content()
        parsed = parse_date(value)
        if parsed:
            return parsed
    return None


def read_metadata(root: HtmlElement, url: str | None) -> Metadata:
    """All metadata of a parsed page. Never raises on odd values; missing is ``None``."""
    meta = _meta_map(root)
    nodes = _jsonld_nodes(root)
    art = _pick_article(nodes) or {}
    md = Metadata(jsonld_article=art or None)
    md.page_types = set().union(*(_types(n) for n in nodes)) if nodes else set()
    if meta.get("og:type"):
        md.page_types.add("og:" + meta["og:type"].lower())

    # Site name: og:site_name, then the JSON-LD publisher; never the headline.
    publisher = art.get("publisher")
    site = meta.get("og:site_name") or (
        _first_str(publisher.get("name")) if isinstance(publisher, dict) else None
    ) or meta.get("application-name")
    if not site:
        for node in nodes:
            if _types(node) & {"website", "organization", "newsmediaorganization"}:
                site = _first_str(node.get("name"))
                if site:
                    break
    h1 = _text(next(iter(root.iter("h1")), None))

    title_el = root.find(".//title")
    raw_title = (
        _first_str(art.get("headline")) or meta.get("og:title") or meta.get("twitter:title")
        or _text(title_el) or h1
    )
    md.title = clean_title(raw_title, site, h1)
    if site and md.title and site.casefold() == md.title.casefold():
        site = None
    md.site_name = " ".join(site.split()) if site else None

    authors = _names(art.get("author")) or _names(art.get("creator"))
    if not authors:
        for key in ("author", "article:author", "byl", "dc.creator", "parsely-author",
                    "sailthru.author", "twitter:creator"):
            value = meta.get(key)
            if value and not value.startswith(("http", "@")):
                authors = split_byline(value)
                if authors:
                    break
    if not authors:
        authors = _visible_authors(root)
    md.authors = _dedupe(authors)[:10]

    md.published_at = (
        parse_date(_first_str(art.get("datePublished")))
        or next(
            (
                parse_date(meta[k])
                for k in ("article:published_time", "og:article:published_time",
                          "datepublished", "pubdate", "publishdate", "publish-date",
                          "parsely-pub-date", "sailthru.date", "dc.date.issued", "dc.date",
                          "date", "citation_publication_date", "article.published")
                if k in meta and parse_date(meta[k])
            ),
            None,
        )
        or _visible_date(root, "datePublished")
    )
    if md.published_at is None and url:
        match = _URL_DATE.search(url)
        if match:
            try:
                md.published_at = datetime(
                    int(match.group(1)), int(match.group(2)), int(match.group(3)),
                    tzinfo=timezone.utc,
                )
            except ValueError:
                pass
    md.modified_at = parse_date(_first_str(art.get("dateModified"))) or next(
        (
            parse_date(meta[k])
            for k in ("article:modified_time", "og:updated_time", "datemodified",
                      "dc.date.modified", "lastmod", "last-modified")
            if k in meta and parse_date(meta[k])
        ),
        None,
    ) or _visible_date(root, "dateModified")

    lang = root.get("lang") or root.get("xml:lang") or _first_str(art.get("inLanguage")) \
        or meta.get("content-language") or meta.get("og:locale") or meta.get("language")
    if lang:
        lang = lang.strip().replace("_", "-").split("-")[0].lower()
        md.language = lang if re.fullmatch(r"[a-z]{2,3}", lang) else None

    md.description = (
        meta.get("og:description") or meta.get("description") or
        _first_str(art.get("description")) or meta.get("twitter:description")
    )
    image = meta.get("og:image") or meta.get("og:image:url") or _first_str(art.get("image")) \
        or meta.get("twitter:image") or meta.get("twitter:image:src")
    md.image = urljoin(url, image) if (image and url) else image

    canonical = None
    for link in root.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
            canonical = link.get("href").strip()
            break
    canonical = canonical or meta.get("og:url") or url
    md.canonical_url = urljoin(url, canonical) if (canonical and url) else canonical

    section = _first_str(art.get("articleSection")) or meta.get("article:section")
    keywords = art.get("keywords") or meta.get("keywords") or meta.get("news_keywords")
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",") if k.strip()]
    tags = [k for k in keywords if isinstance(k, str)][:50] if isinstance(keywords, list) else []
    if section:
        md.extra["section"] = section
    if tags:
        md.extra["tags"] = tags
    return md
