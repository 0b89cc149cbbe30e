"""Article metadata read from the parsed page: JSON-LD first, then meta tags, then markup.

We read metadata ourselves rather than with trafilatura's metadata pass: it is a few
dictionary look-ups on a tree we already parsed (trafilatura's pass runs htmldate, which
costs about a third of a whole extraction), and it lets us enforce what matters for
versioning: a date never comes from a header widget showing today's date, a site name is
never the headline, a byline is never a sidebar's or a comment's, and an author is a
person, never the publisher.

Where the page has no author or date in its markup, we read the visible byline next to
the headline ("By <a href="/author/...">Jane Doe</a> and John Roe - 10 February 2021"),
in the languages publishers write in. No wrong date matters more than one more date: a
byline date is read only in unambiguous formats, never outside the headline's block.
"""

from __future__ import annotations

import email.utils
import html
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from archiver.urls import normalise_url

logger = logging.getLogger(__name__)

_ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
     "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "techarticle",
     "scholarlyarticle", "report", "liveblogposting", "posting", "socialmediaposting",
     "webpage", "medicalwebpage", "creativework", "review"}
)
# Preference among several typed nodes: a NewsArticle beats a WebPage about it.
_TYPE_RANK = {"webpage": 1, "medicalwebpage": 1, "creativework": 1}
_ORG_TYPES = frozenset(
    {"organization", "newsmediaorganization", "corporation", "website", "brand",
     "educationalorganization", "governmentorganization", "ngo", "localbusiness"}
)


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


# --- text ------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape(text: str) -> str:
    """``text`` with HTML entities decoded and whitespace collapsed.

    Publishers escape og:title and JSON-LD headlines once too often ("&amp;quot;"), so a
    second round runs when the first leaves entities. Only well-formed entities (with
    their semicolon) are decoded: "AT&T" and "R&D" stay as written.
    """
    for _ in range(2):
        if "&" not in text or not _ENTITY.search(text):
            break
        text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    return " ".join(text.split())


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    return unescape(value) or None


# --- JSON-LD ---------------------------------------------------------------------------

# Wrappers some CMSs (and XHTML serialisers) put around a script's JSON.
_JSON_WRAPPER = re.compile(r"^\s*(?://\s*|/\*\s*)?(?:<!\[CDATA\[|<!--)(?:\s*\*/)?|"
                           r"(?://\s*|/\*\s*)?(?:\]\]>|-->)(?:\s*\*/)?\s*$")


def _parse_json(raw: str) -> list[Any]:
    """Every JSON value in a script (some hold several, back to back), or []."""
    raw = _JSON_WRAPPER.sub("", raw).strip()
    start = min((i for i in (raw.find("{"), raw.find("[")) if i >= 0), default=-1)
    if start < 0:
        return []
    decoder = json.JSONDecoder(strict=False)
    out: list[Any] = []
    pos = start
    while pos < len(raw) and len(out) < 20:
        try:
            value, pos = decoder.raw_decode(raw, pos)
        except ValueError:
            break
        out.append(value)
        while pos < len(raw) and raw[pos] in " \t\r\n,;":
            pos += 1
    if not out:
        # Publishers' JSON-LD is often broken by a trailing comma.
        try:
            out.append(json.loads(re.sub(r",\s*([}\]])", r"\1", raw[start:]), strict=False))
        except ValueError:
            return []
    return out


def _jsonld_nodes(root: HtmlElement) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for script in root.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        raw = script.text or ""
        if not raw.strip():
            continue
        stack = list(reversed(_parse_json(raw)))
        while stack and len(nodes) < 200:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                nodes.append(item)
                for key in ("@graph", "mainEntity"):
                    inner = item.get(key)
                    if isinstance(inner, list):
                        stack.extend(reversed(inner))
                    elif isinstance(inner, dict):
                        stack.append(inner)
    return nodes


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.lower().rsplit("/", 1)[-1] for v in values if isinstance(v, str)}


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


def _resolve(value: object, ids: dict[str, dict[str, Any]]) -> object:
    """A ``{"@id": ...}`` reference replaced by the node it names (Yoast's @graph)."""
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    if isinstance(value, dict) and "name" not in value and isinstance(value.get("@id"), str):
        return ids.get(value["@id"], value)
    return value


def _first_str(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        for item in value:
            found = _first_str(item)
            if found:
                return found
    if isinstance(value, dict):
        for key in ("@value", "url", "contentUrl", "name", "@id"):
            found = _first_str(value.get(key))
            if found:
                return found
    return None


# --- names -----------------------------------------------------------------------------

_BY = re.compile(
    r"^\s*(?:(?:all\s+|more\s+)?(?:posts|articles|stories)\s+(?:by|from)|(?:written|words|story|"
    r"text|reporting|reported|interview|analysis)\s+by|by|from|von|vom|par|por|di|door|av|"
    r"przez|от|автор|(?:author|authors|autor|autorin|autoren|auteur|auteurs|autore|autori|"
    r"text|texte|testo|tekst|texto|текст|автор|redacción|reportage|bylined?)\s*:)(?:[\s:]+|$)",
    re.IGNORECASE,
)
# Where a byline stops naming people: dates, roles, credits, reading times.
_BYLINE_END = re.compile(
    r"(?i)(?:\s|^)(?:last\s+)?(?:updated|published|posted|on\s+(?=\w+\s+\d)|aktualisiert|"
    r"veröffentlicht|publiziert|publié|mis\s+à\s+jour|modifié|publicado|actualizado|atualizado|"
    r"pubblicato|aggiornato|gepubliceerd|bijgewerkt|opublikowano|publicerad|uppdaterad|"
    r"edited\s+by|photos?\s+by|illustrations?\s+by|fotos?\s+von|"
    r"(?:foto|fotos|photo|photos|bild|bilder|quelle|source|credit|image|grafik|video)\s*:)"
    r"|\s[·•@]\s|\s[-–—|]\s+(?=\d)|\d+\s*(?:min|minutes?|minuten|minutos?)\b"
    # a weekday starting a date: "Joe Wee Monday, February 29"
    r"|\s(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\s(?:montag|dienstag|mittwoch|"
    r"donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    r"lunes|martes|miércoles|jueves|viernes|lunedì|martedì|mercoledì|giovedì|venerdì|maandag|"
    r"dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)\b(?=,?\s*\d|,)"
)
# A credit or a source, not a byline: "Foto: dpa", "Quelle: sid/dpa", "Photo: Jane Roe".
_CREDIT = re.compile(
    r"(?i)^\s*(?:fotos?|photos?|bild(?:er)?|quelle|source|sources|credits?|images?|grafik|"
    r"video|illustration|copyright|©|\(c\))\s*[:©]"
)
_AGENCY = re.compile(
    r"(?i)^(?:afp|ap|dpa|sid|apa|ansa|efe|kna|epd|ddp|dapd|upi|aap|pa|ots|sda|ats|anp|belga|"
    r"ntb|tt|ritzau|pap|čtk|ctk|mti|tass|ria|ria\s+novosti|interfax|xinhua|kyodo|yonhap|"
    r"reuters|bloomberg|associated\s+press|agence\s+france[-\s]presse|press\s+association|"
    r"europa\s+press|agencia\s+efe|ians|pti|ani|cnn|bbc|kna/dpa)"
    r"(?:\s*[/,&+]\s*(?:afp|ap|dpa|sid|apa|reuters|kna|epd|efe|ansa|aap|pa))*$"
)
_NOT_A_NAME = re.compile(
    r"(?i)\b(?:staff|reporters?|correspondents?|editors?|editorial|writers?|news\s+service|"
    r"associated\s+press|updated|published|media|contributors?|columnists?|photos?|fotos?|"
    r"views?|min(?:ute)?s?\s+read|redaktion|rédaction|redacción|redazione|redactie|"
    r"redakcja|newsroom|desk|team|agency|agentur|agence|agencia|comments?|share|follow|"
    r"subscribe|newsletter|sign\s+in|log\s*in|admin|administrator|webmaster|guest|"
    r"anonymous|unknown|contributors?\s+to|organi[sz]ation|foundation|association|institute|"
    r"university|ministry|company|corporation|council|committee|society|project)\b|@|https?:|www\.|\d|[*:?!=<>{}\[\]#/\\\"“”]"
)
_PARTICLES = frozenset(
    {"de", "da", "di", "do", "dos", "das", "del", "della", "du", "des", "la", "le", "van",
     "von", "der", "den", "ten", "ter", "zu", "bin", "ibn", "al", "el", "'t", "y", "e"}
)
_SPLIT = re.compile(r"\s*(?:[,;|&+/]|\b(?:and|und|et|och|og|ja|és|и|oraz|sowie)\b)\s*",
                    re.IGNORECASE)
# Conjunctions that are also parts of names ("Ortega y Gasset"): they split only when
# every side is a full name of its own.
_SPLIT_WEAK = re.compile(r"\s+(?:y|e|i|en|a)\s+")
_WITH = re.compile(r"\((?:avec|with|mit|con|com|met|med|z|con\s+la\s+colaboración\s+de)\s+"
                   r"([^)]*)\)", re.IGNORECASE)
_PAREN = re.compile(r"\(([^)]*)\)")
_URLISH = re.compile(r"(?i)\bhttps?://\S+|\bwww\.\S+|\S+@\S+\.\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _title_case(name: str) -> str:
    """"JOE HILDEBRAND" as "Joe Hildebrand"; initials and "O'Donnell" survive."""
    return re.sub(r"[^\W\d_]+", lambda m: m.group().capitalize(), name.lower())


def _name(part: str) -> str | None:
    part = part.strip(" .,:;-–—'\"«»()[]")
    if not part or len(part) > 60 or _NOT_A_NAME.search(part) or _AGENCY.match(part):
        return None
    words = part.split()
    if _CJK.search(part):
        return part if len(part) <= 16 and len(words) <= 3 else None
    if len(words) > 5:
        return None
    if len(words) == 1 and part.isupper():
        return None  # "MA"-like credentials, an agency's or a station's call letters
    if words[0].lower() == "the" or not all(
        w[0].isupper() or w.lower() in _PARTICLES or not w[0].isalpha() for w in words
    ) or not words[-1][0].isupper():
        return None  # "the Russian and Syrian defense ministries" is not a person
    if not any(c.isalpha() for c in part):
        return None
    if part.isupper() and len(part) > 4:
        part = _title_case(part)
    return part


def split_byline(text: str) -> list[str]:
    """Names in a byline: "By Jane Doe and John Roe" gives ``["Jane Doe", "John Roe"]``.

    Prefixes in many languages ("By", "Von", "Par", "Por", "Di", "Door", "Av", "Autor:")
    are stripped; what follows a date, a role or a credit is dropped; photo credits,
    agencies alone, URLs and e-mail addresses are not names.
    """
    text = unescape(text)
    if not text or len(text) > 300 or _CREDIT.match(text):
        return []
    text = _WITH.sub(lambda m: ", " + m.group(1), text)
    text = _PAREN.sub(lambda m: "" if _URLISH.search(m.group(1)) or _AGENCY.match(
        m.group(1).strip()) else m.group(0), text)
    text = _URLISH.sub("", text)
    for _ in range(2):
        text = _BY.sub("", text)
    end = _BYLINE_END.search(text)
    if end:
        text = text[: end.start()]
    date = _first_text_date(text)
    if date:
        text = text[: date[1]]
    names = []
    for part in _SPLIT.split(text):
        pieces = _SPLIT_WEAK.split(part)
        if len(pieces) > 1 and any(len(p.split()) < 2 for p in pieces):
            pieces = [part]
        for piece in pieces:
            piece = _BY.sub("", piece)
            name = _name(piece)
            if name:
                names.append(name)
    return names


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


_ORG_WORDS = re.compile(
    r"(?i)\b(?:news|times|post|daily|weekly|magazine|journal|media|press|group|tv|radio|online|"
    r"blog|network|zeitung|journal|revista|gazette|herald|tribune|review|the|inc|ltd|gmbh)\b"
    r"|\.\w{2,3}$|[&|]"
)


def _looks_personal(name: str) -> bool:
    """Two to four capitalised words and no word an organisation's name is made of."""
    words = name.split()
    return 2 <= len(words) <= 4 and not _ORG_WORDS.search(name) and all(
        w[0].isupper() or w.lower() in _PARTICLES for w in words
    )


@dataclass(slots=True)
class _Publisher:
    """Names of the site and its publisher: an author that is one of them is not a person."""

    orgs: set[str] = field(default_factory=set)  # typed organisations and the domain
    sites: set[str] = field(default_factory=set)  # og:site_name and the like

    def add(self, name: object, *, org: bool) -> None:
        if not isinstance(name, str):
            return
        for variant in (name, re.sub(r"\.\w{2,3}$", "", name.strip())):
            key = _compact(variant)
            if len(key) >= 3:
                (self.orgs if org else self.sites).add(key)

    def is_publisher(self, name: str, *, person: bool = False) -> bool:
        key = _compact(name)
        if not key:
            return True
        if key in self.orgs or any(len(key) >= 5 and k.startswith(key) for k in self.orgs):
            return not person
        if key in self.sites or any(len(key) >= 5 and k.startswith(key) for k in self.sites):
            # A personal blog is often named for its author: keep a personal name unless
            # the page types it as an organisation.
            return not (person or _looks_personal(name))
        return False


def _person_names(value: object, publisher: _Publisher, ids: dict[str, dict[str, Any]]) -> list[str]:
    """Person names from a JSON-LD author value (string, object, or list of either)."""
    out: list[str] = []
    value = _resolve(value, ids)
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            if not publisher.is_publisher(item):
                out.extend(n for n in split_byline(item) if not publisher.is_publisher(n))
        elif isinstance(item, dict):
            types = _types(item)
            if types & _ORG_TYPES:
                continue
            person = "person" in types
            names = item.get("name")
            for name in names if isinstance(names, list) else [names]:
                if isinstance(name, str) and not publisher.is_publisher(name, person=person):
                    out.extend(n for n in split_byline(name)
                               if not publisher.is_publisher(n, person=person))
    return out


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

_MONTH_NAMES = {
    1: "january jan janv janvier januar jänner jän enero ene gennaio gen janeiro januari "
       "stycznia styczeń ledna leden января январь",
    2: "february feb févr fevr février fevrier februar feber febrero febbraio fevereiro fev "
       "februari lutego luty února únor февраля февраль",
    3: "march mar mars märz maerz mär marzo março marco maart marca marzec března březen "
       "марта март",
    4: "april apr avr avril abril abr aprile kwietnia kwiecień dubna duben апреля апрель",
    5: "may mai mayo maggio mag maio mei maj maja května květen мая май",
    6: "june jun juin juni junio giugno giu junho czerwca czerwiec června červen июня июнь",
    7: "july jul juil juillet juli julio luglio lug julho lipca lipiec července červenec "
       "июля июль",
    8: "august aug août aout agosto ago augustus augusti sierpnia sierpień srpna srpen "
       "августа август",
    9: "september sep sept septembre septiembre setiembre settembre set setembro "
       "września wrzesień září сентября сентябрь",
    10: "october oct octobre oktober okt octubre ottobre ott outubro out października "
        "październik října říjen октября октябрь",
    11: "november nov novembre noviembre novembro listopada listopad listopadu ноября ноябрь",
    12: "december dec déc décembre decembre dezember dez diciembre dic dicembre dezembro "
        "grudnia grudzień prosince prosinec декабря декабрь",
}
_MONTHS = {name: num for num, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH_RE = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th|er|º|°|\.)?"
_TEXT_DATES = [
    # 2021-02-10, 2021/02/10, 2021.02.10
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})([-/.])(?P<m>[01]?\d)\2(?P<d>[0-3]?\d)(?!\d)"),
    # 10.02.2021: day first wherever dots are used
    re.compile(r"(?<![\d.])(?P<d>[0-3]?\d)\.\s?(?P<m>[01]?\d)\.\s?(?P<y>(?:19|20)\d{2})(?!\d)"),
    # 10 February 2021, 10. Februar 2021, 10 de febrero de 2021, le 1er mars 2021
    re.compile(rf"(?i)(?<!\w){_DAY}\s*(?:de\s+)?(?P<mn>{_MONTH_RE})\.?,?\s+(?:de\s+|del\s+)?"
               r"(?P<y>(?:19|20)\d{2})(?!\d)"),
    # February 10, 2021; Feb. 10 2021
    re.compile(rf"(?i)(?<!\w)(?P<mn>{_MONTH_RE})\.?\s+{_DAY},?\s+(?P<y>(?:19|20)\d{{2}})(?!\d)"),
    # 2021年2月10日, 2021년 2월 10일
    re.compile(r"(?P<y>(?:19|20)\d{2})\s*[年년]\s*(?P<m>[01]?\d)\s*[月월]\s*(?P<d>[0-3]?\d)\s*[日일]"),
]
# Slashed dates are day or month first depending on the country: only when one part
# cannot be a month is the order certain.
_SLASH_DATE = re.compile(r"(?<![\d/])(?P<a>[0-3]?\d)/(?P<b>[0-3]?\d)/(?P<y>(?:19|20)\d{2})(?!\d)")


def _first_text_date(text: str) -> tuple[datetime, int] | None:
    """The first unambiguous calendar date written in ``text``, and where it starts."""
    found: list[tuple[int, datetime]] = []
    for pattern in _TEXT_DATES:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            month = _MONTHS.get(groups["mn"].lower().rstrip(".")) if groups.get("mn") else int(
                groups["m"])
            if not month:
                continue
            try:
                found.append((match.start(), datetime(int(groups["y"]), month, int(groups["d"]),
                                                      tzinfo=timezone.utc)))
            except ValueError:
                continue
            break
    for match in _SLASH_DATE.finditer(text):
        a, b = int(match.group("a")), int(match.group("b"))
        if (a > 12) == (b > 12):
            continue
        day, month = (a, b) if a > 12 else (b, a)
        try:
            found.append((match.start(), datetime(int(match.group("y")), month, day,
                                                  tzinfo=timezone.utc)))
        except ValueError:
            continue
        break
    if not found:
        return None
    start, date = min(found, key=lambda f: f[0])
    return (date, start) if 1990 <= date.year <= 2100 else None


_JS_DATE = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?([A-Za-z]{3})\s+(\d{1,2})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})"
    r"\s+(?:GMT|UTC)([+-]\d{4})"
)


def parse_date(value: object) -> datetime | None:
    """A machine-written date as an aware datetime (UTC when no offset), else None.

    ISO 8601 and its loose variants, RFC 2822 ("Thu, 13 Oct 2016 17:00:03 GMT"),
    JavaScript's ``Date.toString()``, and "February 10, 2021"-style dates.
    """
    if isinstance(value, dict):
        value = value.get("@value")
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 80:
        return None
    parsed = _parse_iso(value)
    if parsed is None and re.search(r"[A-Za-z]{3}", value) and re.search(r"\d{4}", value):
        js = _JS_DATE.match(value)
        if js:
            month = _MONTHS.get(js.group(1).lower())
            try:
                parsed = datetime.strptime(
                    f"{js.group(3)}-{month:02d}-{int(js.group(2)):02d}T{js.group(4)}:"
                    f"{js.group(5)}:{js.group(6)}{js.group(7)}", "%Y-%m-%dT%H:%M:%S%z"
                ) if month else None
            except ValueError:
                parsed = None
        if parsed is None:
            try:
                parsed = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                parsed = None
        if parsed is None:
            found = _first_text_date(value)
            parsed = found[0] if found else None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    if not 1990 <= parsed.year <= 2100:
        return None
    return parsed


def _parse_iso(value: str) -> datetime | None:
    if not re.match(r"\d{4}-?\d{2}", value):
        return None
    value = value.replace("Z", "+00:00").replace("z", "+00:00")
    # "2019-11-18T10:00:00+0000" and "2019-11-18 10:00:00 -0500": make offsets ISO.
    value = re.sub(r"\s*([+-]\d{2}):?(\d{2})$", r"\1:\2", value)
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        try:
            return datetime.fromisoformat(value[:10])
        except ValueError:
            return None


# --- title -----------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s+(?:[|–—·•:»]|-{1,2}|::)\s+")


def clean_title(title: str | None, site_name: str | None, h1: str | None) -> str | None:
    """The headline without the site's suffix or prefix ("Headline | Site" -> "Headline")."""
    if not title:
        return None
    title = unescape(title)
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


# --- markup ----------------------------------------------------------------------------


def _meta_map(root: HtmlElement) -> dict[str, list[str]]:
    """Meta tags by lowercased name, every value in document order.

    The head's come first. A broken head (a stray element in it) makes the parser move the
    rest of its tags into the body: those count too, but never one of a page's embedded
    items (``itemscope``) or a sidebar's.
    """
    out: dict[str, list[str]] = {}
    head = root.find("head")
    metas = list(head.iter("meta")) if head is not None else []
    body = root.find("body")
    if body is not None:
        metas += [m for m in body.iter("meta")
                  if (m.get("name") or m.get("property")) and not _embedded(m)]
    for meta in metas:
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip()
        content = meta.get("content")
        if key and content and content.strip():
            out.setdefault(key.lower(), []).append(content.strip())
    return out


def _embedded(el: HtmlElement) -> bool:
    return any(anc.get("itemscope") is not None for anc in el.iterancestors()) or _in_chrome(el)


def _text(el: HtmlElement | None) -> str | None:
    if el is None:
        return None
    text = unescape(el.text_content())
    return text or None


_SIDEBAR = re.compile(
    r"(?i)(?:^|[\s_-])(?:related|recommend|popular|promo|teaser|widget|aside|sidebar|"
    r"(?:side|rail|cards?|menu|nav|navbar|navigation|breadcrumbs?)(?:$|[\s_-]))"
)
_COMMENTS = re.compile(
    r"(?i)(?:^|[\s_-])(?:comment|disqus|discussion|respond(?:$|[\s_-])|repl(?:y|ies)(?:$|[\s_-]))"
)


def _in_sidebar(el: HtmlElement, stop: frozenset[HtmlElement] = frozenset()) -> bool:
    for anc in el.iterancestors():
        if anc in stop:
            return False
        if anc.tag in ("aside", "nav", "footer") or anc.get("role") in (
            "navigation", "menu", "menubar", "complementary"
        ):
            return True
        if _SIDEBAR.search(anc.get("class") or "") or _SIDEBAR.search(anc.get("id") or ""):
            return True
    return False


def _in_chrome(el: HtmlElement, stop: frozenset[HtmlElement] = frozenset()) -> bool:
    """In a sidebar, a navigation, a footer or the comments.

    Ancestors in ``stop`` (those of the headline) and above are not looked at: a byline
    beside the headline shares whatever the headline stands in, and atomic CSS class
    names ("YDC-Side-Stack") or a WordPress body's "has-sidebar" say nothing about it.
    """
    if _in_sidebar(el, stop):
        return True
    for anc in el.iterancestors():
        if anc in stop:
            return False
        if _COMMENTS.search(anc.get("class") or "") or _COMMENTS.search(anc.get("id") or ""):
            return True
    return False


def _in_comments(el: HtmlElement) -> bool:
    return any(_COMMENTS.search(anc.get("class") or "") or _COMMENTS.search(anc.get("id") or "")
               or "comment" in (anc.get("itemtype") or "").lower() for anc in el.iterancestors())


_ARTICLE_ITEMTYPE = re.compile(r"(?i)schema\.org/\w*(?:article|posting|blogposting|report)\b")


def _article_scope(el: HtmlElement) -> HtmlElement | None:
    """The nearest microdata Article item around ``el``, if any."""
    for anc in el.iterancestors():
        if anc.get("itemscope") is not None and _ARTICLE_ITEMTYPE.search(anc.get("itemtype") or ""):
            return anc
    return None


def _headline(root: HtmlElement, title: str | None) -> tuple[HtmlElement | None, bool]:
    """The article's own ``<h1>`` and whether it says the title (else the first outside
    chrome, which may be the site's name)."""
    h1s = [(h1, text) for h1 in islice(root.iter("h1"), 10) for text in [_text(h1)] if text]
    if title:
        wanted = title.casefold()
        for h1, text in h1s:
            text = text.casefold()
            if (text in wanted and len(text) >= 0.3 * len(wanted)) or wanted in text:
                return h1, True
    return next((h1 for h1, _ in h1s if not _in_chrome(h1)), None), False


#: How far after the headline, in elements, a byline may stand.
_NEAR = 150


def _preceding(h1: HtmlElement) -> list[HtmlElement]:
    """The few elements just before the headline in its own block (a kicker byline)."""
    if h1.getparent() is None or h1.getparent().tag in ("body", "html"):
        return []
    out: list[HtmlElement] = []
    for sib in islice(h1.itersiblings(preceding=True), 3):
        out.extend(el for el in sib.iter() if isinstance(el.tag, str))
    return out[:20]


def _following(h1: HtmlElement) -> list[HtmlElement]:
    """Elements after the headline in document order (its own children excluded)."""
    out: list[HtmlElement] = []
    node: HtmlElement | None = h1
    while node is not None and len(out) < _NEAR:
        for sib in node.itersiblings():
            for el in sib.iter():
                if isinstance(el.tag, str):
                    out.append(el)
                    if len(out) >= _NEAR:
                        return out
        node = node.getparent()
    return out


_AUTHOR_HREF = re.compile(
    r"(?i)/(?:author|authors|autor|autoren|autorin|auteur|auteurs|autore|autori|journalist|"
    r"journalists|journaliste|journalisten|giornalista|profile|profiles|people|writer|writers|"
    r"contributor|contributors|columnist|columnists|staff|redacteur|redacteuren|redaktion/"
    r"autor|por|medarbetare|skribent)(?:/|[?#=-]|$)"
)
_BYLINE_CLASS = re.compile(r"(?i)byline|author|autor|auteur|writer|\bcredit(?!s?-?photo)")
_BYLINE_START = re.compile(
    r"(?i)^\s*(?:by|written\s+by|von|par|por|di|door|av|przez|от|автор|"
    r"(?:author|autor|autorin|auteur|autore|text|texte|tekst|texto)\s*:)\s+\S"
)


def _link_names(links: list[HtmlElement], publisher: _Publisher) -> list[str]:
    names: list[str] = []
    for link in links:
        text = _text(link) or ""
        if re.match(r"(?i)^(?:more|all|view|see|read|follow|visit)\b", text):
            continue
        names.extend(n for n in split_byline(text) if not publisher.is_publisher(n))
    return names


def _byline_block(el: HtmlElement) -> HtmlElement:
    """The line a byline element stands in: its ancestors while their text stays short."""
    block = el
    for anc in islice(el.iterancestors(), 3):
        if anc.tag in ("body", "article", "main", "header", "html") or len(anc.text_content()) > 250:
            break
        block = anc
    return block


def _visible_authors(
    root: HtmlElement, h1: HtmlElement | None, publisher: _Publisher
) -> tuple[list[str], HtmlElement | None]:
    """Authors written on the page, and the byline element they were read from.

    Looked for, in order: microdata authors of the article's own item; links to author
    archive pages (``/author/...``, ``rel=author``) in the headline's block; elements
    whose class says byline or author; a short line starting "By" in any language.
    Never in a sidebar, a navigation, a footer or the comments.
    """
    near = _following(h1) + _preceding(h1) if h1 is not None else []
    near_set = set(near)
    stop = frozenset(h1.iterancestors()) if h1 is not None else frozenset()
    scope = _article_scope(h1) if h1 is not None else None
    if scope is None:
        # A page with one microdata article: its author is the article's, wherever it stands.
        scopes = [el for el in root.xpath("//*[@itemscope][@itemtype]")[:50]
                  if _ARTICLE_ITEMTYPE.search(el.get("itemtype") or "")]
        scope = scopes[0] if len(scopes) == 1 else None

    # 1. Microdata: itemprop=author inside the article's item, or next to the headline.
    names: list[str] = []
    first = None
    for el in root.xpath('//*[contains(concat(" ", normalize-space(@itemprop), " "), " author ")]')[:40]:
        inside = scope is not None and _article_scope(el) is scope and not _in_comments(el)
        if not inside and ((h1 is not None and el not in near_set) or _in_chrome(el, stop)):
            continue
        person = "person" in (el.get("itemtype") or "").lower()
        name_el = el.xpath('.//*[@itemprop="name"]')
        text = (name_el[0].get("content") or _text(name_el[0]) if name_el
                else el.get("content") or _text(el)) or ""
        if text and len(text) <= 200 and not publisher.is_publisher(text, person=person):
            found = [n for n in split_byline(text) if not publisher.is_publisher(n, person=person)]
            if found and first is None:
                first = el
            names.extend(found)
    if names:
        return _dedupe(names), first

    # Without a headline, the whole page in document order; each step checks for chrome.
    candidates = near if h1 is not None else [
        el for el in islice(root.iter(), 3000) if isinstance(el.tag, str)
    ]

    # 2. Links to author archives, all of those in the same byline line.
    for el in candidates:
        if el.tag != "a" or not (el.get("rel") == "author" or _AUTHOR_HREF.search(el.get("href") or "")):
            continue
        if _in_chrome(el, stop):
            continue
        block = _byline_block(el)
        links = [a for a in block.iter("a")
                 if a.get("rel") == "author" or _AUTHOR_HREF.search(a.get("href") or "")]
        names = _link_names(links, publisher)
        if names:
            return _dedupe(names), block

    # 3. An element classed as a byline, then 4. a line starting with "By".
    for check in (lambda e: _BYLINE_CLASS.search(e.get("class") or "")
                  or _BYLINE_CLASS.search(e.get("id") or ""),
                  lambda e: _BYLINE_START.match(e.text or "")):
        for el in candidates:
            if el.tag in ("html", "body", "article", "main", "section") or not check(el):
                continue
            text = _text(el)
            if not text or len(text) > 200 or _in_chrome(el, stop):
                continue
            names = [n for n in split_byline(text) if not publisher.is_publisher(n)]
            if names:
                return _dedupe(names), el
    return [], None


_UPDATE = re.compile(
    r"(?i)\b(?:updated|last\s+updated|modified|aktualisiert|geändert|mis\s+à\s+jour|modifié|"
    r"actualizado|atualizado|aggiornato|bijgewerkt|zaktualizowano|uppdaterad|oppdatert)\b"
)
_PUBLISHED = re.compile(
    r"(?i)\b(?:published|posted|veröffentlicht|publiziert|publié|publicado|pubblicato|gepubliceerd|"
    r"opublikowano|publicerad|publisert)\b"
)


def _date_in_line(text: str) -> datetime | None:
    """The publication date written in a byline line; never the date of an update."""
    if len(text) > 300:
        return None
    # Cut the line into the part before "Updated ..." and what follows "Published ...".
    update = _UPDATE.search(text)
    published = _PUBLISHED.search(text)
    if update and published and published.start() > update.start():
        text = text[published.start():]
    elif update:
        text = text[: update.start()]
    found = _first_text_date(text)
    return found[0] if found else None


_DATE_CLASS = re.compile(
    r"(?i)(?:^|[\s_-])(?:date|dateline|time|timestamp|byline|meta|posted-on|publish(?:ed)?-?(?:date|on|at))"
    r"(?:$|[\s_-])"
)
_DATE_LINE_START = re.compile(
    r"(?i)^\s*(?:(?:first\s+)?published|posted|veröffentlicht|publié|publicado|pubblicato|"
    r"gepubliceerd|opublikowano|publicerad|publisert|erschienen|le|am|el|il|on)\b"
)


def _top_chrome(el: HtmlElement) -> bool:
    """In the page's own header, navigation, footer or aside (a child of the body)."""
    return any(anc.tag in ("header", "nav", "footer", "aside") and anc.getparent() is not None
               and anc.getparent().tag == "body" for anc in el.iterancestors())


def _byline_date(h1: HtmlElement | None, byline: HtmlElement | None) -> datetime | None:
    """A date written in the byline line, or in a short dated line just under the headline.

    Only after the article's own headline (one saying the title): the header's "today"
    widget stands before it. Never an update's date, never a date in a data table.
    """
    if h1 is None:
        return None
    near = _following(h1)[:60] + _preceding(h1)
    lines: list[HtmlElement] = []
    if byline is not None and byline in set(near):
        lines.append(_byline_block(byline))
    for el in near:
        if el.tag not in ("p", "div", "span", "time", "small", "li", "address", "em", "dd"):
            continue
        text = el.text_content()
        if len(text) <= 200 and (
            _BYLINE_START.match(text) or _DATE_LINE_START.match(text)
            or _BYLINE_CLASS.search(el.get("class") or "") or _DATE_CLASS.search(el.get("class") or "")
        ):
            lines.append(el)
    stop = frozenset(h1.iterancestors())
    for el in lines:
        if _in_chrome(el, stop) or _top_chrome(el) or el.xpath("ancestor::tr[th]"):
            continue
        for time_el in el.iter("time"):
            said = unescape(time_el.text_content())
            if "modified" in (time_el.get("itemprop") or "").lower() or _UPDATE.search(
                    " ".join([time_el.get("class") or "", said])):
                continue
            parsed = parse_date(time_el.get("datetime"))
            if parsed:
                return parsed
        parsed = _date_in_line(unescape(el.text_content()))
        if parsed:
            return parsed
    return None


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
        if key == "datePublished" and (
            "modified" in (el.get("itemprop") or "").lower()
            or _UPDATE.search(" ".join([el.get("class") or "", el.text_content()[:100]]))
        ):
            continue  # a time that says it is the last update
        value = el.get("datetime") or el.get("content") or el.text_content()
        parsed = parse_date(value)
        if parsed:
            return parsed
    return None


def _domain_label(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    labels = [lbl for lbl in host.split(".") if lbl not in ("www", "m", "amp", "mobile")]
    return labels[-2] if len(labels) >= 2 else None


# --- main entry ------------------------------------------------------------------------

_META_AUTHOR_KEYS = ("author", "article:author", "byl", "dc.creator", "dcterms.creator",
                     "parsely-author", "sailthru.author", "citation_author", "og:article:author")
_META_PUBLISHED_KEYS = ("article:published_time", "og:article:published_time", "datepublished",
                        "pubdate", "publishdate", "publish-date", "publish_date",
                        "parsely-pub-date", "sailthru.date", "dc.date.issued",
                        "dcterms.issued", "dc.date", "date", "citation_publication_date",
                        "article.published")
_META_MODIFIED_KEYS = ("article:modified_time", "og:updated_time", "datemodified",
                       "dc.date.modified", "dcterms.modified", "lastmod", "last-modified")


# Library and citation metadata write "Last, First": one person, not two.
_CITATION_KEYS = frozenset({"dc.creator", "dcterms.creator", "citation_author"})


def _citation_name(value: str) -> str:
    match = re.fullmatch(r"([^,;]+),\s*([^,;]+)", value.strip())
    return f"{match.group(2)} {match.group(1)}" if match else value


def read_metadata(root: HtmlElement, url: str | None) -> Metadata:
    """All metadata of a parsed page. Never raises on odd values; missing is ``None``."""
    metas = _meta_map(root)
    meta = {k: v[0] for k, v in metas.items()}
    nodes = _jsonld_nodes(root)
    ids = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str) and len(n) > 1}
    art = _pick_article(nodes) or {}
    md = Metadata(jsonld_article=art or None)
    md.page_types = set().union(*(_types(n) for n in nodes)) if nodes else set()
    if meta.get("og:type"):
        md.page_types.add("og:" + meta["og:type"].lower())

    # Site name: og:site_name, then the JSON-LD publisher; never the headline.
    publisher_node = _resolve(art.get("publisher"), ids)
    if isinstance(publisher_node, list):
        publisher_node = next((p for p in publisher_node if isinstance(p, dict)), None)
    publisher_name = (_first_str(publisher_node.get("name"))
                      if isinstance(publisher_node, dict) else None)
    site = meta.get("og:site_name") or publisher_name or meta.get("application-name")
    org_names = [_first_str(n.get("name")) for n in nodes if _types(n) & _ORG_TYPES]
    if not site:
        site = next((n for n in org_names if n), None)
    site = _clean(site)

    publisher = _Publisher()
    for name in (meta.get("og:site_name"), meta.get("application-name"),
                 (meta.get("twitter:site") or "").lstrip("@")):
        publisher.add(_clean(name), org=False)
    for name in [publisher_name, *org_names, _domain_label(url)]:
        publisher.add(_clean(name), org=True)

    others = [meta.get("og:title"), meta.get("twitter:title"), _text(root.find(".//title"))]
    headline = _first_str(art.get("headline"))
    h1_texts = [t for h in islice(root.iter("h1"), 5) for t in [_text(h)] if t]
    if headline and not _agrees(headline, [t for t in others + h1_texts if t]):
        headline = None
    raw_title = headline or next((t for t in others if t), None)
    h1_el, h1_is_title = _headline(root, _clean(raw_title))
    h1 = _text(h1_el)
    md.title = clean_title(raw_title or h1, site, h1)
    if site and md.title and site.casefold() == md.title.casefold():
        site = None
    md.site_name = site

    authors = _person_names(art.get("author"), publisher, ids) or _person_names(
        art.get("creator"), publisher, ids)
    if not authors:
        for key in _META_AUTHOR_KEYS:
            for value in metas.get(key, []):
                value = unescape(value)
                if key in _CITATION_KEYS:
                    value = _citation_name(value)
                if value.startswith(("http", "@")) or publisher.is_publisher(value):
                    continue
                authors.extend(n for n in split_byline(value) if not publisher.is_publisher(n))
            if authors:
                break
    byline_el = None
    if not authors and not _agency_named(art, metas):
        authors, byline_el = _visible_authors(root, h1_el, publisher)
    md.authors = _dedupe(authors)[:10]

    published = _jsonld_date(art, nodes, "datePublished")
    if published is None:
        published = next((d for k in _META_PUBLISHED_KEYS if k in meta
                          for d in [parse_date(meta[k])] if d), None)
    md.published_at = published or _visible_date(root, "datePublished")
    if md.published_at is None and h1_is_title:
        if byline_el is None and md.authors:  # the byline line, to read its date
            byline_el = _visible_authors(root, h1_el, publisher)[1]
        md.published_at = _byline_date(h1_el, byline_el)
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
    md.modified_at = _jsonld_date(art, [], "dateModified") or next(
        (d for k in _META_MODIFIED_KEYS if k in meta for d in [parse_date(meta[k])] if d), None,
    ) or _visible_date(root, "dateModified")

    lang = root.get("lang") or root.get("xml:lang") or _first_str(art.get("inLanguage")) \
        or meta.get("content-language") or meta.get("og:locale") or meta.get("language")
    if lang:
        lang = lang.strip().replace("_", "-").split("-")[0].lower()
        md.language = lang if re.fullmatch(r"[a-z]{2,3}", lang) else None

    md.description = _clean(
        meta.get("og:description") or meta.get("description") or
        _first_str(art.get("description")) or meta.get("twitter:description")
    )
    image = meta.get("og:image") or meta.get("og:image:url") or _first_str(art.get("image")) \
        or meta.get("twitter:image") or meta.get("twitter:image:src")
    md.image = urljoin(url, image) if (image and url) else image

    md.canonical_url, problem = _canonical(root, meta, art, url)
    if problem:
        md.extra["canonical_problem"] = problem
    prev = next((link.get("href") for link in root.iter("link")
                 if "prev" in (link.get("rel") or "").lower().split() and link.get("href")),
                None)
    prev = _absolute(prev, url) if prev else None
    if prev:
        # A later page of a multi-page article names page 1 as canonical and as previous.
        md.extra["rel_prev"] = prev

    section = _first_str(art.get("articleSection")) or meta.get("article:section")
    keywords = art.get("keywords") or meta.get("keywords") or meta.get("news_keywords")
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",") if k.strip()]
    tags = [k for k in keywords if isinstance(k, str)][:50] if isinstance(keywords, list) else []
    if section:
        md.extra["section"] = _clean(section)
    if tags:
        md.extra["tags"] = tags
    return md


def _absolute(value: str, url: str | None) -> str | None:
    """``value`` resolved against the page; None when it cannot be (a malformed URL)."""
    value = value.strip()
    try:
        return urljoin(url, value) if url else value
    except ValueError:  # "http://[::1" and friends
        return None


def _same_url(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    try:
        return normalise_url(a).rstrip("/") == normalise_url(b).rstrip("/")
    except ValueError:  # a port out of range
        return a == b


def _canonical(
    root: HtmlElement, meta: dict[str, str], art: dict[str, Any], url: str | None
) -> tuple[str | None, str | None]:
    """The URL the page claims to be, and what was wrong with its claims.

    One rule when the sources disagree: ``<link rel=canonical>`` (the tag made for this),
    then ``og:url``, then the JSON-LD article's ``mainEntityOfPage`` and ``url``; the
    first source present wins and a disagreeing later one is only noted. Several
    ``<link rel=canonical>`` naming different URLs cancel each other: none is used. A
    relative claim resolves against the page. Whether the claim is *believed* is decided
    at archiving time (``archiver/storage/identity.py``); without one, the page's own URL.
    """
    links = []
    for link in root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            links.append(link.get("href") or "")
    main = art.get("mainEntityOfPage")
    main = main.get("@id") if isinstance(main, dict) else main
    sources = [
        ("og:url", meta.get("og:url")),
        ("JSON-LD mainEntityOfPage", main if isinstance(main, str) else None),
        ("JSON-LD url", _first_str(art.get("url"))),
    ]
    resolved_links = list(dict.fromkeys(_absolute(h, url) for h in links))
    if len(resolved_links) > 1:
        return url, f"{len(links)} <link rel=canonical> name different URLs; none is used"
    chosen: tuple[str, str | None] | None = (
        ("<link rel=canonical>", resolved_links[0]) if resolved_links else None)
    notes = []
    for name, value in sources:
        if not value or not value.strip():
            continue
        absolute = _absolute(value, url)
        if chosen is None:
            chosen = (name, absolute)
        elif not _same_url(absolute, chosen[1]):
            notes.append(f"{name} names another URL ({chosen[0]} wins)")
    if chosen is None:
        return url, None
    if chosen[1] is None:
        return url, f"{chosen[0]} is malformed; none is used"
    return chosen[1], "; ".join(notes) or None


def _agency_named(art: dict[str, Any], metas: dict[str, list[str]]) -> bool:
    """Whether the page's structured author is a news agency ("Reuters", "dpa"): then
    the names near the byline are datelines and places, not the author."""
    values: list[object] = [art.get("author"), *(v for k in _META_AUTHOR_KEYS
                                                 for v in metas.get(k, []))]
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            name = item.get("name") if isinstance(item, dict) else item
            if isinstance(name, str) and _AGENCY.match(_BY.sub("", unescape(name)).strip(" .,")):
                return True
    return False


def _agrees(headline: str, others: list[str]) -> bool:
    """Whether the JSON-LD headline is the title the page shows, or nothing contradicts it.

    Some CMSs fill ``headline`` with a description ("constitutional monarchy in Oceania"
    for a page titled "New Zealand"): then the page's own titles win.
    """
    if not others:
        return True
    words = set(re.findall(r"\w+", unescape(headline).casefold()))
    if not words:
        return False
    return any(len(words & set(re.findall(r"\w+", unescape(o).casefold()))) >= 0.5 * len(words)
               for o in others)


def _jsonld_date(art: dict[str, Any], nodes: list[dict[str, Any]], key: str) -> datetime | None:
    """The article's own date; else the one its page nodes agree on (Yoast puts it on the
    WebPage of its @graph), never one of several that disagree."""
    parsed = parse_date(_first_str(art.get(key)) if not isinstance(art.get(key), dict)
                        else art.get(key))
    if parsed or not nodes:
        return parsed
    dates = {d for n in nodes if _types(n) & _ARTICLE_TYPES
             for d in [parse_date(_first_str(n.get(key)))] if d}
    return dates.pop() if len({d.date() for d in dates}) == 1 else None
