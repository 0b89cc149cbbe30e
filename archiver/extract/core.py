"""``extract(html, url) -> Article | None``: a pure function of a page's bytes and URL.

The page is parsed once with lxml. On that one tree we read the metadata (JSON-LD, meta
tags, markup), detect a paywall and cut at its gate, join a body split into chunks and
remove chrome; then trafilatura, handed the cleaned tree (no second parse, no metadata
pass of its own), finds the body, and a last text pass drops chrome lines it kept.
trafilatura runs its fast path first (no comparison with readability and justext, a
quarter of the time) and its full cascade only when the fast path finds no body.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import is_dubious_html, repair_faulty_html

from archiver.extract import chrome, paywall
from archiver.extract.article import Article
from archiver.extract.encoding import decode_html
from archiver.extract.metadata import Metadata, read_metadata

logger = logging.getLogger(__name__)

EXTRACTOR_VERSION = f"archiver-extract/4 trafilatura/{trafilatura.__version__}"

#: Pages shorter than this (after extraction) are not articles.
MIN_TEXT_CHARS = 200
#: ...unless they end at a subscription gate: then a sentence or two is the teaser.
MIN_TEASER_CHARS = 60
#: Bodies larger than this are cut before parsing: no article needs more, and parsing
#: time must stay bounded in the crawl's worker processes.
MAX_HTML_CHARS = 3_000_000


@dataclass(frozen=True, slots=True)
class ExtractRules:
    """Optional per-source declarations; the default extraction needs none.

    Attributes:
        drop: CSS selectors of elements that are never article text on this source.
        keep: CSS selectors of elements that must survive chrome removal (e.g. a body
            container whose class name happens to look like chrome).
    """

    drop: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()


def _select(root: HtmlElement, selectors: tuple[str, ...]) -> list[HtmlElement]:
    found: list[HtmlElement] = []
    for selector in selectors:
        try:
            found.extend(root.cssselect(selector))
        except Exception:  # an invalid selector in a source declaration must not crash
            logger.warning("invalid CSS selector in extraction rules: %r", selector)
    return found


#: trafilatura's parser settings, with a class lookup done in C. lxml.html's own lookup
#: is a Python method run for every element Python touches (thousands per page, a few
#: per cent of extraction); this one gives every element the HtmlElement class, which
#: is all extraction uses (no form-field classes).
_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8",
    remove_comments=True, remove_pis=True,
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity,
    )
)


def _parse(html: bytes | str, encoding: str | None) -> HtmlElement | None:
    if isinstance(html, bytes):
        html, _ = decode_html(html[: MAX_HTML_CHARS * 2], encoding)
    if len(html) > MAX_HTML_CHARS:
        html = html[:MAX_HTML_CHARS]
    html = html.replace("\x00", "")
    if not html.strip():
        return None
    tree = _load_html(html)
    if tree is None or not isinstance(tree, HtmlElement):
        return None
    return tree


def _load_html(html: str) -> HtmlElement | None:
    """trafilatura's ``load_html`` for a decoded page, with :data:`_PARSER`."""
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    try:
        tree = lxml.html.fromstring(html, parser=_PARSER)
    except ValueError:  # a str with an XML encoding declaration: lxml wants bytes
        tree = None
    except etree.ParserError:
        return None
    if tree is None or len(tree) < 1:
        try:
            tree = lxml.html.fromstring(html.encode("utf-8", "surrogatepass"), parser=_PARSER)
        except (ValueError, etree.ParserError):
            return None
    if is_dubious_html(beginning) and len(tree) < 2:
        return None  # not HTML at all
    return tree


@dataclass(frozen=True, slots=True)
class Verdict:
    """What :func:`judge` makes of a page: its article, or why it holds none."""

    article: Article | None
    #: Why the page is not an article (empty when it is one), in words for the fetch log.
    reason: str = ""


def extract(
    html: bytes | str,
    url: str | None = None,
    *,
    encoding: str | None = None,
    rules: ExtractRules | None = None,
) -> Article | None:
    """Extract the article of one page (:func:`judge` without the reason).

    Args:
        html: the response body; bytes are decoded with ``encoding`` (the HTTP header's
            charset), else the page's own declaration, else detection.
        url: the page's URL, used to resolve relative links and as a fallback identity.
        encoding: the charset named by the HTTP ``Content-Type`` header, if any.
        rules: optional per-source drop/keep CSS selectors.

    Returns:
        An :class:`Article`, or ``None`` when the page holds no article.
    """
    return judge(html, url, encoding=encoding, rules=rules).article


def judge(
    html: bytes | str,
    url: str | None = None,
    *,
    encoding: str | None = None,
    rules: ExtractRules | None = None,
) -> Verdict:
    """Extract the article of one page, or say why the page holds none.

    A pure function: no network, no database, so it can run in a process pool and be
    re-run over stored raw captures. It never raises: a page it cannot read is ``None``.

    Args:
        html: the response body; bytes are decoded with ``encoding`` (the HTTP header's
            charset), else the page's own declaration, else detection.
        url: the page's URL, used to resolve relative links and as a fallback identity.
        encoding: the charset named by the HTTP ``Content-Type`` header, if any.
        rules: optional per-source drop/keep CSS selectors.

    Returns:
        A :class:`Verdict`: the article, or ``None`` and the reason.
    """
    try:
        return _extract(html, url, encoding, rules)
    except RecursionError:
        logger.debug("page too deeply nested: %s", url)
        return Verdict(None, "page too deeply nested to parse")
    except Exception as exc:  # hostile markup must be an outcome, never a crashed worker
        logger.debug("extraction failed on %s", url, exc_info=True)
        return Verdict(None, f"extraction failed: {type(exc).__name__}")


def _extract(
    html: bytes | str, url: str | None, encoding: str | None, rules: ExtractRules | None
) -> Verdict:
    tree = _parse(html, encoding)
    if tree is None:
        return Verdict(None, "no HTML document")
    md = read_metadata(tree, url)

    keep: set[HtmlElement] = set()
    if rules:
        for el in _select(tree, rules.drop):
            if el.getparent() is not None:
                el.getparent().remove(el)
        keep = set(_select(tree, rules.keep))

    evidence = paywall.apply(tree, md.jsonld_article)
    # A part the publisher declares gated but serves is article text, whatever its class
    # names ("paywall", "premium", "meteredContent"): chrome removal must not take it.
    keep.update(paywall.declared_parts(tree, md.jsonld_article))
    # The page as served (less what follows a visible gate), for a second opinion.
    served = copy.deepcopy(tree)
    ceiling = _text_ceiling(tree)
    chrome.unwrap_layout_tables(tree)
    chrome.remove_chrome(tree, keep)
    # After chrome removal, so that comment boxes sharing the body's class are gone.
    chrome.merge_split_body(tree)

    text = _body_text(tree, url, md, fast=True)
    if len(text) < MIN_TEXT_CHARS:
        # trafilatura's fast path skips its comparison with readability and justext; on
        # most pages that changes nothing and saves a quarter of the time. When it finds
        # no body, the full cascade gets its chance before the page is called no article.
        text = _body_text(tree, url, md, fast=False)
    link_texts: set[str] | None = None
    if _chars(text) < RECOVER_SHARE * ceiling:
        # trafilatura alone on the page as served: the second opinion our body is held
        # against. Skipped when our body is most of all the text the page could hold
        # (more than half the pages): then no reading can have found much more.
        # Its link lines are not counted (teaser lists it kept that we rightly removed):
        # chrome no rule knows must not make an unchanged article look short.
        link_texts = _link_texts(served)
        reference = _drop_link_lines(
            _body_text(served, url, md, fast=True, precise=False), _lines(text), link_texts
        )
        if _words(text) < RECOVER_SHARE * _words(reference):
            text = _recover(tree, url, md, text, reference, link_texts)
    if _words(text) < SHORT_BODY_WORDS:
        # The fast path reads one block; on a page whose article it missed, that block
        # can be a privacy notice or a login prompt long enough to pass for a brief.
        # Short bodies are rare and cheap to check: the full cascade (readability,
        # justext) gets a say, and a body at least twice as long wins (less its link
        # lines, as in _recover).
        if link_texts is None:
            link_texts = _link_texts(served)
        full = _drop_link_lines(
            _body_text(tree, url, md, fast=False, precise=False), _lines(text), link_texts
        )
        if _words(full) >= 2 * _words(text):
            text = full
    # A page that ends at a subscription gate is a paywalled article however short its
    # teaser: judged by the same length as a free page, a chrome-only change could flip
    # it between an article and none.
    least = MIN_TEASER_CHARS if any(e.startswith("gate:") for e in evidence) else MIN_TEXT_CHARS
    if len(text) < least:
        return Verdict(None, f"no article body (under {least} characters of text)")
    reason = _not_article(tree, md, text, url)
    if reason:
        return Verdict(None, reason)
    return Verdict(_article(text, md, evidence))


#: Our body must keep at least this share of the words trafilatura alone finds on the
#: page. Chrome is a small part of a page's text; a body that lost more than this lost
#: article text (a cleaning rule that took a body container, a precision heuristic that
#: kept one block of a split body), and is recovered.
RECOVER_SHARE = 0.7
#: Bodies shorter than this many words get a second look from the full cascade.
SHORT_BODY_WORDS = 120
_WORD = re.compile(r"\w+")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _chars(text: str) -> int:
    """Characters that are not white space (cheaper than words, and as comparable)."""
    return len(text) - text.count(" ") - text.count("\n") - text.count("\t")


#: Where no article text lives: trafilatura never keeps it either.
_OUTSIDE_TEXT = etree.XPath(
    "//body//*[self::nav or self::footer or self::aside or self::script or self::style"
    " or self::noscript or self::form or self::template]"
    "[not(ancestor::nav or ancestor::footer or ancestor::aside or ancestor::script"
    " or ancestor::style or ancestor::noscript or ancestor::form or ancestor::template)]"
)


def _text_ceiling(tree: HtmlElement) -> int:
    """All the text any reading of the page could return, in :func:`_chars`: the body's
    text less navigation, footers, asides, scripts and forms. A few milliseconds, against
    tens for a second trafilatura run."""
    body = tree.find("body")
    if body is None:
        body = tree
    total = _chars(etree.tostring(body, method="text", encoding=str))
    return total - sum(
        _chars(etree.tostring(el, method="text", encoding=str, with_tail=False))
        for el in _OUTSIDE_TEXT(tree)
    )


def _recover(
    tree: HtmlElement, url: str | None, md: Metadata, text: str, reference: str,
    link_texts: set[str],
) -> str:
    """The body when ours (``text``) is much shorter than trafilatura's own reading of
    the page (``reference``, less its link lines).

    First trafilatura's balanced mode on our cleaned page: when only its precision
    heuristics dropped the text, this keeps both the text and our chrome removal. If
    that is still short, our cleaning itself removed article text: the body is then the
    second opinion, read from the uncleaned page. Either way, lines that are a link's
    text on the page (teaser headlines, menus, lists of other stories) are left out
    unless our own reading kept them: what precision heuristics and chrome rules rightly
    take out of an article is mostly links, and what they wrongly take is prose.
    """
    balanced = _drop_link_lines(
        _body_text(tree, url, md, fast=True, precise=False), _lines(text), link_texts
    )
    if _words(balanced) >= RECOVER_SHARE * _words(reference):
        return balanced
    return reference


def _lines(text: str) -> set[str]:
    """``text``'s lines, whitespace collapsed: what a reading already holds."""
    return {_SPACES.sub(" ", line).strip() for line in text.split("\n")}


def _drop_link_lines(text: str, keep: set[str], link_texts: set[str]) -> str:
    out = []
    for line in text.split("\n"):
        key = _SPACES.sub(" ", line).strip()
        if key in keep or not _is_link_line(key, link_texts):
            out.append(line)
    return "\n".join(out)


def _link_texts(tree: HtmlElement) -> set[str]:
    """The texts of the page's links, whitespace collapsed (before any cleaning)."""
    texts = set()
    for a in tree.iter("a"):
        text = _SPACES.sub(" ", etree.tostring(a, method="text", encoding=str)).strip()
        if len(text) >= 12:
            texts.add(text)
    return texts


def _is_link_line(line: str, link_texts: set[str]) -> bool:
    """Whether a line of text is a link's text (a teaser headline, a menu entry), or a
    link with a few words around it ("Related: <headline>", "<headline> (video)")."""
    if line in link_texts:
        return True
    return any(len(t) >= 0.6 * len(line) and t in line for t in link_texts if len(t) <= len(line))


_SPACES = re.compile(r"\s+")


def _body_text(
    tree: HtmlElement, url: str | None, md: Metadata, *, fast: bool, precise: bool = True
) -> str:
    """trafilatura's body text of the tree (which it copies, never changes)."""
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        with_metadata=False,
        include_comments=False,
        favor_precision=precise,
        include_tables=True,
    )
    if doc is None:
        return ""
    return chrome.clean_text((doc.text or "").replace("\x00", ""), title=md.title)


_LISTING_TYPES = frozenset(
    {"collectionpage", "itemlist", "searchresultspage", "og:website", "profilepage"}
)
#: Types only an article page declares (a WebPage node is on every page of a Yoast site).
_ARTICLE_DECLARED = frozenset(
    {"og:article", "article", "newsarticle", "blogposting", "reportagenewsarticle",
     "analysisnewsarticle", "opinionnewsarticle", "reviewnewsarticle", "liveblogposting",
     "backgroundnewsarticle", "techarticle", "scholarlyarticle", "report", "review"}
)
#: Last path segments of a site's own pages: about, contact, legal, help, account, lists.
_SITE_PAGE = re.compile(
    r"""(?x)^(?:
        about(?:-?us)?|uber-?uns|ueber-?uns|qui-sommes-nous|a-propos|quienes-somos|chi-siamo
      | contact(?:-?us)?|kontakt|contacto|contatti|contato
      | impressum|imprint|legal|mentions-legales|aviso-legal|note-legali
      | privacy(?:-?policy)?|datenschutz(?:erklaerung)?|cookies?(?:-?policy)?|terms(?:-of-(?:use|service))?
      | careers|jobs|karriere|faq|help|hilfe|advertise|werbung|newsletters?|subscribe|abo
      | login|register|account|search|suche|recherche|buscar|sitemap
      | tags?|topics?|themen|category|categories|kategorie|rubrique|authors?|autoren
    )(?:\.\w{2,5})?$"""
)
_TEASER_HEADINGS = "//body//*[self::h2 or self::h3][.//a or ancestor::a]"


def _prose_share(text: str) -> float:
    """Share of the text in paragraph-long lines. An article is mostly prose; a list of
    teasers is headlines and one-line summaries."""
    lengths = [len(line) for line in text.split("\n")]
    total = sum(lengths)
    return sum(n for n in lengths if n >= 150) / total if total else 0.0


def _not_article(tree: HtmlElement, md: Metadata, text: str, url: str | None) -> str:
    """Why a page with text is still not an article ("" when it is one).

    Judged from what the page is, not from one signal: a page that declares itself an
    article (JSON-LD, ``og:type``) is one; otherwise a declared listing (a collection,
    ``og:type=website``: which article pages also wrongly declare) whose text is not
    prose, an undated page made of teaser headlines, or an undated site page named as
    such in its URL (about, contact, legal, tag and author pages).
    """
    if md.page_types & _ARTICLE_DECLARED:
        return ""
    prose = _prose_share(text)
    teasers = len(tree.xpath(_TEASER_HEADINGS))
    if md.page_types & _LISTING_TYPES and prose < 0.5 and teasers >= 5:
        return "a listing page (declared a collection or website, its text is teasers)"
    if md.published_at is None:
        if prose < 0.3 and teasers >= 5:
            return "a listing page (undated, its text is teaser headlines)"
        path = urlsplit(url or "").path.rstrip("/")
        last = path.rsplit("/", 1)[-1].lower()
        if not path or _SITE_PAGE.match(last):
            return f"a site page, not an article (undated, no article markup, URL {path or '/'!r})"
    return ""


def _article(text: str, md: Metadata, evidence: list[str]) -> Article:
    return Article(
        text="\n\n".join(text.split("\n")),  # paragraphs separated by a blank line
        title=md.title,
        authors=md.authors,
        published_at=md.published_at,
        modified_at=md.modified_at,
        language=md.language,
        site_name=md.site_name,
        description=md.description,
        image=md.image,
        canonical_url=md.canonical_url,
        paywalled=bool(evidence),
        paywall_evidence=evidence,
        extractor_version=EXTRACTOR_VERSION,
        metadata=dict(md.extra),
    )
