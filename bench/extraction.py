"""Extraction benchmark: our ``extract()`` beside bare trafilatura on both dev sets.

Two dev sets, each scored for body and (where there is a reference) metadata:

- ``devset`` (``shared/devset``, 65 pages): ``ground-truth.json`` holds a hand-made
  ``articleBody`` per page (the Scrapinghub article-extraction benchmark).
- ``readability`` (``shared/devset-readability``, 94 pages): Mozilla Readability's
  extraction of each page, ``expected.html.gz`` (turned into text by :func:`html_to_text`)
  and ``expected-metadata.json`` (title, byline, lang, publishedTime, ...).

Body: token 4-gram shingles as multisets (the Scrapinghub benchmark's metric); precision
averaged over pages with output, recall over all pages, F1 of the two means, accuracy =
share of pages whose token lists match exactly. Beside it: pages with no article (empty
output), pages "short" against trafilatura (fewer than 80% of the words of the larger of
the two bare trafilatura outputs), and ms per page (fastest of ``--repeat`` runs).

Metadata (readability set): title (normalised exact and lenient), author set, published
day (right / wrong / missing) and language, for ours and for
``trafilatura.bare_extraction(with_metadata=True)``. Every rule is in the functions below
and in ``bench/README.md``.

Timing: ``extract()`` against ``trafilatura.bare_extraction(html, with_metadata=True)``
side by side, page by page, in alternating order, fastest of ``--repeat`` runs per page,
and the ratio (budget 1.15).

Usage::

    .venv/bin/python bench/extraction.py [--set devset|readability|both] [--repeat 3]
                                         [--worst 10] [--devset DIR] [--readability DIR]

Importable: ``load_devset``, ``load_readability``, ``load_readability_metadata``,
``html_to_text``, ``page_scores`` and the metadata scorers are plain functions.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import lxml.html
import trafilatura
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from archiver.extract import extract  # noqa: E402


def _shared(name: str) -> Path:
    """``shared/NAME`` beside the repository, else ``/work/shared/NAME``."""
    beside = Path(__file__).resolve().parents[2] / "shared" / name
    return beside if beside.exists() else Path("/work/shared") / name


DEFAULT_DEVSET = _shared("devset")
DEFAULT_READABILITY = _shared("devset-readability")

#: A page is "short" when an extractor keeps fewer words than this share of trafilatura's.
SHORT_SHARE = 0.8

# --- the body metric -------------------------------------------------------------------

_TOKEN = re.compile(r"\w+")


def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(toks: list[str], n: int = 4) -> Counter:
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def page_scores(truth: str, pred: str) -> tuple[float | None, float, bool]:
    """(precision or None when pred is empty, recall, exact token match) for one page."""
    t_tok, p_tok = tokens(truth), tokens(pred)
    t, p = shingles(t_tok), shingles(p_tok)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    precision = tp / (tp + fp) if p else None
    recall = tp / (tp + fn) if (tp + fn) else 1.0
    return precision, recall, t_tok == p_tok


def f1_of(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# --- the dev sets ----------------------------------------------------------------------


class Page(NamedTuple):
    """One dev-set page; unpacks as ``page_id, url, html, truth``."""

    id: str
    url: str
    html: bytes
    truth: str


def load_devset(root: Path = DEFAULT_DEVSET) -> list[Page]:
    """The Scrapinghub-style dev set: ``ground-truth.json`` and ``html/ID.html.gz``."""
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        body = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append(Page(page_id, item.get("url") or "", body, item["articleBody"]))
    return pages


#: The URL Readability's own tests give every page (its expected links resolve to it).
FAKEHOST_URL = "http://fakehost/test/page.html"


def page_url(html: bytes) -> str:
    """The URL a page states for itself (``<link rel=canonical>``, else ``og:url``),
    made absolute; else :data:`FAKEHOST_URL`.

    The Readability set ships no fetch URL, but a crawl always has one and ``extract()``
    reads it (resolving links, judging what kind of page it is), so each page is run under
    the URL it names, which is what a crawler would normally have fetched.
    """
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return FAKEHOST_URL
    for href in tree.xpath(
        "//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"
    ):
        href = href.strip()
        if href.startswith("//"):
            href = "https:" + href
        if href.startswith(("http://", "https://")):
            return href
    return FAKEHOST_URL


def load_readability(root: Path = DEFAULT_READABILITY) -> list[Page]:
    """Readability's test pages: ``pages/NAME/source.html.gz`` and the reference body
    (``expected.html.gz`` through :func:`html_to_text`); the URL is :func:`page_url`'s."""
    pages = []
    for page_dir in sorted(p for p in (root / "pages").iterdir() if p.is_dir()):
        source = gzip.decompress((page_dir / "source.html.gz").read_bytes())
        expected = gzip.decompress((page_dir / "expected.html.gz").read_bytes())
        pages.append(Page(page_dir.name, page_url(source), source, html_to_text(expected)))
    return pages


def load_readability_metadata(root: Path = DEFAULT_READABILITY) -> dict[str, dict[str, Any]]:
    """``{page name: expected-metadata.json}`` for the Readability pages."""
    return {
        page_dir.name: json.loads((page_dir / "expected-metadata.json").read_text("utf-8"))
        for page_dir in sorted((root / "pages").iterdir())
        if (page_dir / "expected-metadata.json").exists()
    }


#: Elements that start and end a paragraph in Readability's output (HTML's block and
#: table-cell elements); ``br`` is a line break, everything else is inline.
BLOCK_TAGS = frozenset(
    """address article aside blockquote body caption center dd details dialog dir div dl dt
    fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main
    menu nav ol p pre section summary table tbody td tfoot th thead tr ul""".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})


def html_to_text(html: bytes | str) -> str:
    """Readability's body HTML as text: one paragraph per block element.

    Text inside a block is joined as a browser would render it (runs of whitespace become
    one space, inline elements add no space); every block element starts and ends a
    paragraph (a blank line), ``<br>`` ends a line. Scripts and styles are dropped.
    """
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if not html.strip():
        return ""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    parts: list[str] = []

    def text(value: str | None) -> None:
        if value:
            parts.append(re.sub(r"\s+", " ", value))

    def walk(el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.lower() in _SKIP_TAGS or not isinstance(el.tag, str):
            return  # comments and processing instructions: their tails are the caller's
        block = tag.lower() in BLOCK_TAGS
        if block:
            parts.append("\n\n")
        elif tag.lower() == "br":
            parts.append("\n")
        text(el.text)
        for child in el:
            walk(child)
            text(child.tail)
        if block:
            parts.append("\n\n")

    walk(root)
    out = "".join(parts)
    out = re.sub(r"[ \t]*\n[ \t]*", "\n", out)
    out = re.sub(r"\n{3,}", "\n\n", out)
    out = re.sub(r"[ \t]{2,}", " ", out)
    return out.strip()


def load_sets(
    which: str, devset: Path = DEFAULT_DEVSET, readability: Path = DEFAULT_READABILITY
) -> dict[str, list[Page]]:
    """``{"devset": pages, "readability": pages}`` for ``which`` = devset|readability|both."""
    sets = {}
    if which in ("devset", "both"):
        sets["devset"] = load_devset(devset)
    if which in ("readability", "both"):
        sets["readability"] = load_readability(readability)
    return sets


# --- the extractors --------------------------------------------------------------------


def _decoded(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def ours(body: bytes, url: str) -> str:
    article = extract(body, url)
    return article.text if article else ""


#: The metadata header trafilatura puts before the text when ``with_metadata=True``.
_YAML_HEADER = re.compile(r"\A---\n.*?^---\n", re.DOTALL | re.MULTILINE)


def traf_default(body: bytes, url: str) -> str:
    """trafilatura's defaults with metadata on (the issue's configuration).

    ``extract(..., with_metadata=True)`` prepends a YAML header (title, author, ...) to the
    text; it is cut off here, so the body is scored while the time includes the metadata.
    """
    text = trafilatura.extract(_decoded(body), url=url, with_metadata=True) or ""
    return _YAML_HEADER.sub("", text, count=1)


def traf_precision(body: bytes, url: str) -> str:
    return (
        trafilatura.extract(
            _decoded(body), url=url, include_comments=False, favor_precision=True
        )
        or ""
    )


OURS = "archiver extract()"
TRAF_DEFAULT = "trafilatura defaults"
TRAF_PRECISION = "trafilatura no-comments+precision"
SYSTEMS: dict[str, Callable[[bytes, str], str]] = {
    OURS: ours,
    TRAF_DEFAULT: traf_default,
    TRAF_PRECISION: traf_precision,
}
TRAFILATURA = (TRAF_DEFAULT, TRAF_PRECISION)


# --- body scoring ----------------------------------------------------------------------


@dataclass
class BodyResult:
    f1: float
    precision: float
    recall: float
    accuracy: float
    ms: float
    empty: list[str]
    #: page id -> (precision or None, recall, word count)
    pages: dict[str, tuple[float | None, float, int]]
    short: list[str] = field(default_factory=list)


def run_system(pages: list[Page], func, repeat: int) -> tuple[dict[str, str], float]:
    """Each page's output and the mean of the per-page fastest of ``repeat`` runs (ms)."""
    outputs, best_ms = {}, []
    for page in pages:
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            pred = func(page.html, page.url)
            runs.append(time.perf_counter() - start)
        best_ms.append(min(runs) * 1000)
        outputs[page.id] = pred
    return outputs, statistics.fmean(best_ms)


def score_body(pages: list[Page], outputs: dict[str, str], ms: float) -> BodyResult:
    precisions, recalls, exact, empty, per_page = [], [], 0, [], {}
    for page in pages:
        pred = outputs[page.id]
        p, r, same = page_scores(page.truth, pred)
        if p is not None:
            precisions.append(p)
        else:
            empty.append(page.id)
        recalls.append(r)
        exact += same
        per_page[page.id] = (p, r, len(tokens(pred)))
    precision = statistics.fmean(precisions) if precisions else 0.0
    recall = statistics.fmean(recalls)
    return BodyResult(
        f1=f1_of(precision, recall),
        precision=precision,
        recall=recall,
        accuracy=exact / len(pages),
        ms=ms,
        empty=empty,
        pages=per_page,
    )


def mark_short(results: dict[str, BodyResult], share: float = SHORT_SHARE) -> None:
    """Fill each result's ``short``: pages under ``share`` of trafilatura's larger output.

    The reference count is the larger word count of the two bare trafilatura
    configurations on that page; a page where trafilatura finds nothing is never short.
    """
    for result in results.values():
        result.short = []
        for page_id, (_, _, words) in result.pages.items():
            traf_words = max(results[name].pages[page_id][2] for name in TRAFILATURA)
            if traf_words and words < share * traf_words:
                result.short.append(page_id)


# --- metadata scoring ------------------------------------------------------------------

_QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
     "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
     "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
     "\u00a0": " "}
)


def norm_text(value: str | None) -> str:
    """NFKC, casefolded, typographic quotes and dashes as ASCII, whitespace collapsed.

    HTML entities are *not* decoded: a title that keeps ``&quot;`` is a wrong title.
    """
    if not value:
        return ""
    value = unicodedata.normalize("NFKC", value).translate(_QUOTES).casefold()
    return " ".join(value.split())


#: What separates a headline from a site name in a <title>: " | ", " - ", " – ", " — ",
#: " · ", " • ", " :: ", " » ", " : " and "_" (Chinese portals), once normalised.
_TITLE_SEP = re.compile(r"\s+(?:[|·•»:]|-{1,2}|::)\s+|\s*_\s*")


def title_core(title: str) -> str:
    """A normalised title without its site-name suffixes.

    The segment after the last separator is dropped while it is shorter than what stays
    before it, so "headline | section | site" gives "headline" and "a - b" with a long
    "b" stays whole.
    """
    core = title
    while True:
        parts = list(_TITLE_SEP.finditer(core))
        if not parts:
            return core
        last = parts[-1]
        head, tail = core[: last.start()].strip(), core[last.end() :].strip()
        if not head or len(tail) >= len(head):
            return core
        core = head


def title_match(reference: str | None, ours_: str | None) -> tuple[bool, bool]:
    """(exact, lenient) title match, both on :func:`norm_text`.

    Exact: the normalised strings are equal. Lenient: exact, or

    - one title starts with the whole other followed by a separator ("Headline" against
      "Headline | Site", in either direction, whatever the length of the suffix), or
    - after :func:`title_core` strips site-name suffixes from both, one core contains the
      other and the contained one holds at least half the characters of the other core
      (so a stray "News" or a kicker alone does not match a headline).
    """
    ref, got = norm_text(reference), norm_text(ours_)
    if not ref or not got:
        return False, False
    if ref == got:
        return True, True

    def leads(head: str, full: str) -> bool:
        return full.startswith(head) and bool(_TITLE_SEP.match(full, len(head)))

    ref_core, got_core = title_core(ref), title_core(got)
    short, long_ = sorted((ref_core, got_core), key=len)
    contained = short in long_ and 2 * len(short) >= len(long_)
    lenient = leads(got, ref) or leads(ref, got) or contained
    return False, lenient


_BYLINE_PREFIX = re.compile(
    r"^(?:(?:written|words|story|text|reported|posted)\s+)?"
    r"(?:by|from|von|par|por|di|door|av|af|przez|od)\b[\s:]*",
    re.IGNORECASE,
)
#: A byline line that credits someone other than an author: "Edited by ...", "Photos by".
_NOT_AUTHOR = re.compile(
    r"^(?:edited|photos?|photographs?|photography|illustrations?|images?|video|graphics|"
    r"additional\s+reporting|translated)\s+by\b",
    re.IGNORECASE,
)
#: "(avec X et Y)", "(with X)": co-authors in parentheses, kept as names.
_WITH = re.compile(r"^\s*(?:with|avec|mit|con|com|met|med|z)\s+", re.IGNORECASE)
_NAME_SPLIT = re.compile(
    r"\s*(?:[,;|&/\n·•]|\b(?:and|und|et|y|e|en|og|och|i|oraz|a)\b)\s*", re.IGNORECASE
)
_URL = re.compile(r"(?:https?://|www\.)\S+")
#: Academic and professional credentials written after a name: "Jane Doe, MD".
_CREDENTIAL = re.compile(r"^(?:ma|ms|msc|md|phd|mba|mph|rn|jd|do|dr|bsc|ba)$")


def byline_names(byline: str | None, site_name: str | None = None) -> set[str]:
    """Readability's byline as a set of normalised names (empty: nothing to score).

    Steps: a parenthesised group is kept as more names when it starts with "with",
    "avec", "mit", ... and dropped otherwise (URLs, handles, middle names, roles); other
    URLs go; the text is split into lines, and a line crediting an editor or
    photographer ("Edited by", "Photos by", ...) goes; each line is split on "," ";" "|"
    "&" "/" and the word "and" in a dozen languages; from each part a leading "By",
    "Par", "Von", "Written by", ... goes; a part with a digit (a date, a time, a counter)
    and a credential ("MD", "PhD", ...) are dropped; the rest goes through
    :func:`norm_name`. A byline that is the page's ``siteName`` names no person and scores
    nothing.
    """
    if not byline or not byline.strip():
        return set()
    if site_name and norm_text(byline) == norm_text(site_name):
        return set()
    extra: list[str] = []

    def paren(match: re.Match) -> str:
        inner = match.group(1)
        if _WITH.match(inner):
            extra.append(_WITH.sub("", inner))
        return " "

    text = re.sub(r"\(([^()]*)\)", paren, byline)
    text = _URL.sub(" ", text)
    if site_name and norm_text(text) == norm_text(site_name):
        return set()
    names = set()
    for chunk in [text, *extra]:
        for line in chunk.splitlines():
            line = line.strip()
            if _NOT_AUTHOR.match(line):
                continue
            for part in _NAME_SPLIT.split(_BYLINE_PREFIX.sub("", line)):
                part = _BYLINE_PREFIX.sub("", part.strip())
                if not part or re.search(r"\d", part):
                    continue
                name = norm_name(part)
                if name and not _CREDENTIAL.match(name):
                    names.add(name)
    return names


def norm_name(name: str) -> str:
    """One author name, compared case-, space- and dot-insensitively ("John C. Welch" is
    "john c welch")."""
    return norm_text(name.replace(".", " ")).strip(" ,:;-'\"")


def author_set(names: Iterable[str]) -> set[str]:
    """An extractor's own author list as a comparable set (no splitting: "A und B" as one
    name is a wrong author, not two right ones)."""
    return {n for n in (norm_name(name) for name in names) if n}


_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")


def day_of(value: Any) -> str | None:
    """The calendar day as written: a datetime's own date (in its own offset), or the
    leading ``YYYY-MM-DD`` of a string; no time-zone conversion."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    match = _DAY.match(str(value))
    return match.group(1) if match else None


def utc_day_of(value: Any) -> str | None:
    """The UTC calendar day of a value that carries a UTC offset, else None."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).date().isoformat()
    return None


def same_day(reference: Any, ours_: Any) -> bool:
    """The same day as written, or the same UTC day when both carry an offset (one
    instant written in two time zones)."""
    day = day_of(ours_)
    if day is not None and day == day_of(reference):
        return True
    utc = utc_day_of(ours_)
    return utc is not None and utc == utc_day_of(reference)


def lang_of(value: str | None) -> str | None:
    """The primary language subtag, lowercased: "en-US" -> "en", "pt_BR" -> "pt"."""
    if not value or not value.strip():
        return None
    return re.split(r"[-_]", value.strip())[0].casefold() or None


class Meta(NamedTuple):
    title: str | None
    authors: set[str]
    #: The published date as the extractor gives it (a datetime or a string), or None.
    date: Any
    lang: str | None


def meta_of_article(article) -> Meta:
    if article is None:
        return Meta(None, set(), None, None)
    return Meta(
        article.title, author_set(article.authors), article.published_at,
        lang_of(article.language),
    )


def meta_of_trafilatura(doc) -> Meta:
    """trafilatura's Document: ``author`` is one string, names joined by "; "."""
    if doc is None:
        return Meta(None, set(), None, None)
    return Meta(
        doc.title, author_set((doc.author or "").split(";")), doc.date or None,
        lang_of(doc.language),
    )


@dataclass
class MetaScore:
    pages: int = 0
    title_exact: int = 0
    title_lenient: int = 0
    byline_pages: int = 0          # reference has a byline at all
    author_pages: int = 0          # ... that gives at least one name (the denominator)
    author_right: int = 0
    date_pages: int = 0
    date_right: int = 0
    date_wrong: int = 0
    date_missing: int = 0
    lang_pages: int = 0
    lang_right: int = 0
    misses: dict[str, list[str]] = field(default_factory=dict)

    def miss(self, page_id: str, what: str) -> None:
        self.misses.setdefault(page_id, []).append(what)


def score_metadata(references: dict[str, dict], got: dict[str, Meta]) -> MetaScore:
    """Score one extractor's metadata against Readability's ``expected-metadata.json``."""
    s = MetaScore()
    for page_id, ref in references.items():
        if page_id not in got:
            continue
        mine = got[page_id]
        s.pages += 1
        exact, lenient = title_match(ref.get("title"), mine.title)
        s.title_exact += exact
        s.title_lenient += lenient
        if not lenient:
            s.miss(page_id, f"title {mine.title!r} vs {ref.get('title')!r}")

        if (ref.get("byline") or "").strip():
            s.byline_pages += 1
            names = byline_names(ref["byline"], ref.get("siteName"))
            if names:
                s.author_pages += 1
                if names == mine.authors:
                    s.author_right += 1
                else:
                    s.miss(page_id, f"authors {sorted(mine.authors)} vs {sorted(names)}")

        ref_date = ref.get("publishedTime")
        if day_of(ref_date):
            s.date_pages += 1
            if same_day(ref_date, mine.date):
                s.date_right += 1
            elif day_of(mine.date) is None:
                s.date_missing += 1
                s.miss(page_id, f"date missing vs {ref_date}")
            else:
                s.date_wrong += 1
                s.miss(page_id, f"date WRONG {mine.date} vs {ref_date}")

        ref_lang = lang_of(ref.get("lang"))
        if ref_lang:
            s.lang_pages += 1
            s.lang_right += mine.lang == ref_lang
    return s


# --- timing ----------------------------------------------------------------------------


def time_side_by_side(pages: list[Page], repeat: int):
    """extract() and bare_extraction(with_metadata=True), side by side, on each page.

    Each page is run by both in alternating order; per page the fastest of ``repeat``
    runs counts, which filters out the noise of a shared machine. Returns the summed
    seconds of each and the last outputs of both (for the metadata table).
    """
    ours_total = theirs_total = 0.0
    articles, documents = {}, {}
    for index, page in enumerate(pages):
        mine, theirs = [], []
        for rep in range(repeat):
            order = (0, 1) if (index + rep) % 2 == 0 else (1, 0)
            for which in order:
                start = time.perf_counter()
                if which == 0:
                    articles[page.id] = extract(page.html, page.url)
                    mine.append(time.perf_counter() - start)
                else:
                    documents[page.id] = trafilatura.bare_extraction(
                        page.html, url=page.url, with_metadata=True
                    )
                    theirs.append(time.perf_counter() - start)
        ours_total += min(mine)
        theirs_total += min(theirs)
    return ours_total, theirs_total, articles, documents


# --- report ----------------------------------------------------------------------------


def _row(cells: list[str], widths: list[int]) -> str:
    out = []
    for i, (cell, width) in enumerate(zip(cells, widths)):
        out.append(f"{cell:<{width}}" if i == 0 else f"{cell:>{width}}")
    return "| " + " | ".join(out) + " |"


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(_row(header, widths))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(_row(row, widths))


def _share(right: int, total: int) -> str:
    return f"{right / total:.3f} ({right}/{total})" if total else "n/a"


def _fmt_p(p: float | None) -> str:
    return "-" if p is None else f"{p:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("devset", "readability", "both"), default="both",
                        dest="which", help="which dev set(s) to score (default: both)")
    parser.add_argument("--devset", type=Path, default=DEFAULT_DEVSET, metavar="DIR")
    parser.add_argument("--readability", type=Path, default=DEFAULT_READABILITY,
                        metavar="DIR", help="the devset-readability directory")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per page, fastest counts (default 3)")
    parser.add_argument("--worst", type=int, default=0, metavar="N",
                        help="list our short pages, our N worst pages and metadata misses")
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)

    sets = load_sets(args.which, args.devset, args.readability)
    # Warm up imports and caches (htmldate, lxml parsers, regexes) before timing.
    for pages in sets.values():
        for page in pages[:3]:
            extract(page.html, page.url)
            trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
            for func in SYSTEMS.values():
                func(page.html, page.url)
    gc.collect()

    roots = {"devset": args.devset, "readability": args.readability}
    print(f"Extraction benchmark, repeat={repeat} (ms: mean over pages of the fastest run)")
    for name, pages in sets.items():
        print(f"  {name}: {len(pages)} pages of {roots[name]}")
    print()

    body: dict[str, dict[str, BodyResult]] = {}
    for set_name, pages in sets.items():
        results = {}
        for name, func in SYSTEMS.items():
            outputs, ms = run_system(pages, func, repeat)
            results[name] = score_body(pages, outputs, ms)
        mark_short(results)
        body[set_name] = results

    print(f"Body text (4-gram shingles; short = under {SHORT_SHARE:.0%} of the words of the "
          "larger trafilatura output)")
    rows = []
    for set_name, results in body.items():
        n = len(sets[set_name])
        for name, r in results.items():
            rows.append([
                set_name, name, f"{r.f1:.3f}", f"{r.precision:.3f}", f"{r.recall:.3f}",
                f"{r.accuracy:.3f}", f"{len(r.empty)}/{n}", f"{len(r.short)}/{n}",
                f"{r.ms:.1f}",
            ])
    header = ["set", "extractor", "F1", "prec.", "recall", "acc.", "no article", "short",
              "ms/page"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(_row(header, widths))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(_row(row, widths))

    timing = {}
    for set_name, pages in sets.items():
        timing[set_name] = time_side_by_side(pages, repeat)

    if "readability" in sets:
        references = load_readability_metadata(args.readability)
        _, _, articles, documents = timing["readability"]
        scores = {
            OURS: score_metadata(references, {k: meta_of_article(v) for k, v in articles.items()}),
            "trafilatura bare_extraction": score_metadata(
                references, {k: meta_of_trafilatura(v) for k, v in documents.items()}
            ),
        }
        s0 = next(iter(scores.values()))
        print()
        print(f"Metadata on readability ({s0.pages} pages; authors: {s0.author_pages} pages "
              f"whose byline names someone, of {s0.byline_pages} with a byline; dates: "
              f"{s0.date_pages} with publishedTime; language: {s0.lang_pages} with lang)")
        mrows = []
        for name, s in scores.items():
            mrows.append([
                name, _share(s.title_exact, s.pages), _share(s.title_lenient, s.pages),
                _share(s.author_right, s.author_pages), _share(s.date_right, s.date_pages),
                str(s.date_wrong), str(s.date_missing), _share(s.lang_right, s.lang_pages),
            ])
        _table(["extractor", "title exact", "title lenient", "author set", "pub. day",
                "wrong day", "no day", "language"], mrows)
        if not any(doc is not None and doc.language for doc in documents.values()):
            print("  (trafilatura sets `language` only when given target_language= and "
                  "py3langid is installed: never here)")

    print()
    print(f"Time, fastest of {repeat} runs per page, interleaved:")
    trows = []
    all_ours = all_theirs = 0.0
    all_n = 0
    for set_name, (mine, theirs, _, _) in timing.items():
        n = len(sets[set_name])
        all_ours += mine
        all_theirs += theirs
        all_n += n
        trows.append([set_name, f"{n}", f"{mine * 1000 / n:.2f}", f"{theirs * 1000 / n:.2f}",
                      f"{mine / theirs:.3f}"])
    if len(timing) > 1:
        trows.append(["all", f"{all_n}", f"{all_ours * 1000 / all_n:.2f}",
                      f"{all_theirs * 1000 / all_n:.2f}", f"{all_ours / all_theirs:.3f}"])
    _table(["set", "pages", "extract() ms", "bare_extraction(with_metadata=True) ms",
            "ratio (budget 1.15)"], trows)

    if args.worst:
        for set_name, results in body.items():
            mine = results[OURS]
            print()
            print(f"{set_name}: our short pages ({len(mine.short)}; words: ours / "
                  f"trafilatura defaults / precision)")
            for page_id in mine.short:
                counts = [results[n].pages[page_id][2] for n in (OURS, *TRAFILATURA)]
                print(f"  {page_id[:24]:<24}  {counts[0]:>6} / {counts[1]:>6} / {counts[2]:>6}")
            print(f"{set_name}: our {args.worst} worst pages by min(P, R)")
            ranked = sorted(
                mine.pages.items(),
                key=lambda kv: min(kv[1][0] if kv[1][0] is not None else 0.0, kv[1][1]),
            )
            for page_id, (p, r, words) in ranked[: args.worst]:
                print(f"  {page_id[:24]:<24}  P={_fmt_p(p)}  R={r:.3f}  words={words}")
        if "readability" in sets:
            print()
            print("readability: our metadata misses (title = lenient miss)")
            for page_id, misses in scores[OURS].misses.items():
                for what in misses:
                    print(f"  {page_id[:24]:<24}  {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
