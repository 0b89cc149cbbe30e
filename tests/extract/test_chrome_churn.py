"""Chrome churn: a change around an article must never change the archived article.

Publishers change the chrome of an unchanged article on every visit: another "Related"
list, today's date in the header, another ad, a newsletter box, a relative time and a
reader counter inside the body. Each would make a new version if it reached the
extracted article. For every fixture page and every page of the two shared dev sets,
this test injects two different sets of such changes (one in English with telling class
names, one in German/French/Japanese with hashed, meaningless class names) and asserts
the content fingerprint does not move, and a page that is no article stays none.

The reference is the page re-serialised by lxml without injections, so that only the
injected chrome differs between the pages compared.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest
from lxml.html import HtmlElement

from archiver.extract import chrome, extract
from archiver.extract.encoding import decode_html
from archiver.storage.archive import content_fingerprint

PAGES = Path(__file__).parent / "pages"
# CI runs with a copy of shared/ beside the clone; a developer's machine has it in /work.
SHARED = Path(__file__).resolve().parents[3] / "shared"
if not SHARED.exists():
    SHARED = Path("/work/shared")


def _pages() -> Iterator[tuple[str, Callable[[], bytes], str, str | None]]:
    """(id, body loader, url, HTTP charset) of every fixture and dev page."""
    import json

    for html in sorted(PAGES.glob("*.html")):
        meta_path = html.with_suffix(".json")
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        yield (f"fixture/{html.stem}", html.read_bytes, meta.get("url") or "https://site.example/a",
               meta.get("http_charset"))
    devset = SHARED / "devset"
    if (devset / "ground-truth.json").exists():
        truth = json.loads((devset / "ground-truth.json").read_text(encoding="utf-8"))
        for page_id, item in sorted(truth.items()):
            path = devset / "html" / f"{page_id}.html.gz"
            yield (f"devset/{page_id[:12]}", lambda p=path: gzip.decompress(p.read_bytes()),
                   item.get("url") or "https://site.example/a", None)
    readability = SHARED / "devset-readability" / "pages"
    if readability.is_dir():
        for page in sorted(readability.iterdir()):
            path = page / "source.html.gz"
            if path.exists():
                yield (f"readability/{page.name}", lambda p=path: gzip.decompress(p.read_bytes()),
                       f"https://{page.name}.example/2024/05/06/{page.name}-story", None)


CASES = list(_pages())


# Two sets of chrome. Each differs from the other in every text: headlines, dates,
# counters, languages; the second hides behind class names that say nothing.
CHROME = (
    {
        "cls": lambda role: role,
        "date": "Tuesday, 4 March 2025",
        "widget": "Updated 3 hours ago · 1200 readers · 40 comments",
        "read_time": "5 min read",
        "ad": "Advertisement",
        "newsletter": ("Sign up for our newsletter",
                       "Get the best stories of the day delivered to your inbox every morning."),
        "related_heading": "Related articles",
        "read_also": "Read more: ",
        "related": ["Council approves new budget after late-night session",
                    "Storm warning issued for the coast this weekend",
                    "Local team wins the regional final in extra time"],
        "sidebar_heading": "Most read",
        "sidebar": ["Five things to know before the vote", "Prices rise for the third month",
                    "The bakery that never closes"],
    },
    {
        "cls": lambda role: f"css-{zlib.crc32(role.encode()) % 10**6:06d}",
        "date": "Mittwoch, 19. November 2025",
        "widget": "Aktualisiert vor 5 Stunden · 1,3K Leser · 57 Kommentare",
        "read_time": "Lecture 4 min · il y a 2 heures",
        "ad": "Anzeige",
        "newsletter": ("Newsletter abonnieren",
                       "Jeden Morgen die wichtigsten Nachrichten direkt in Ihr Postfach."),
        "related_heading": "Mehr zum Thema",
        "read_also": "Lire aussi ",
        "related": ["Stadtrat beschließt neuen Haushalt nach langer Sitzung",
                    "Unwetterwarnung für die Küste am Wochenende",
                    "Heimische Mannschaft gewinnt das Finale in der Verlängerung"],
        "sidebar_heading": "関連記事",
        "sidebar": ["首相が新しい経済対策を発表した", "東京で桜の開花が宣言された",
                    "大雨で交通機関に大きな乱れ"],
    },
)


def _el(tag: str, cls: str, text: str | None = None, **attrs: str) -> HtmlElement:
    el = lxml.html.Element(tag, {"class": cls, **attrs})
    el.text = text
    return el


def _links(base: str, titles: list[str], cls: Callable[[str], str], slug: int) -> HtmlElement:
    ul = _el("ul", cls("related-list"))
    for i, title in enumerate(titles):
        li = _el("li", cls("related-item"))
        a = _el("a", cls("teaser-link"), title, href=f"{base}/2025/03/0{i + 1}/story-{slug}-{i}/")
        li.append(a)
        ul.append(li)
    return ul


def _first_paragraph(root: HtmlElement, text: str) -> HtmlElement | None:
    """The first long paragraph of the page whose text the article kept."""
    kept = " ".join(text.split())
    for p in root.iter("p"):
        words = " ".join(p.text_content().split())
        if len(words) > 60 and words[:60] in kept:
            return p
    return None


def _inject(root: HtmlElement, first: HtmlElement | None, base: str, n: int) -> None:
    c = CHROME[n]
    cls = c["cls"]
    body = root.find("body")
    assert body is not None
    # A header date widget and a sidebar, outside the article.
    head = _el("div", cls("today-date"))
    head.append(_el("time", cls("date"), c["date"], datetime="2025-03-04"))
    body.insert(0, head)
    side = _el("aside", cls("sidebar"))
    side.append(_el("h3", cls("sidebar-title"), c["sidebar_heading"]))
    side.append(_links(base, c["sidebar"], cls, 100 + n))
    body.append(side)
    if first is None:
        return
    # Inside the body container, around the first paragraph: a live widget line, a
    # reading time, an ad slot, a related box and a newsletter box.
    parent = first.getparent()
    at = parent.index(first)
    related = _el("div", cls("related-box"))
    related.append(_el("h4", cls("related-heading"), c["related_heading"]))
    related.append(_links(base, c["related"], cls, n))
    news = _el("div", cls("newsletter-box"))
    news.append(_el("h3", cls("newsletter-title"), c["newsletter"][0]))
    news.append(_el("p", cls("newsletter-text"), c["newsletter"][1]))
    ad = _el("div", cls("ad-slot"))
    ad.append(_el("span", cls("ad-label"), c["ad"]))
    meta = _el("div", cls("meta"))
    meta.append(_el("div", cls("meta-line"), c["widget"]))
    meta.append(_el("span", cls("read-time"), c["read_time"]))
    parent.insert(at, meta)
    insert = _el("p", cls("read-also"), c["read_also"])
    insert.append(_el("a", cls("read-also-link"), c["related"][0], href=f"{base}/2025/02/story-{n}/"))
    for el in (ad, related, insert, news):
        first.addnext(el)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_chrome_change_keeps_the_fingerprint(case) -> None:
    name, load, url, charset = case
    html, _ = decode_html(load(), charset)
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"

    plain = lxml.html.tostring(lxml.html.document_fromstring(html), encoding="unicode")
    reference = extract(plain, url)
    for n in range(len(CHROME)):
        root = lxml.html.document_fromstring(html)
        first = _first_paragraph(root, reference.text) if reference else None
        _inject(root, first, base, n)
        article = extract(lxml.html.tostring(root, encoding="unicode"), url)
        assert (article is None) == (reference is None), f"{name}: variant {n}"
        if reference is not None:
            assert article is not None
            assert content_fingerprint(article) == content_fingerprint(reference), (
                _difference(reference.text, article.text)
            )


def _difference(before: str, after: str) -> str:
    """The lines that differ, for a failure message that shows the leak."""
    import difflib

    diff = difflib.unified_diff(before.split("\n"), after.split("\n"), lineterm="", n=0)
    return "\n".join(list(diff)[2:12]) or "same text: title, authors or date changed"


@pytest.mark.parametrize("text", [
    "Updated 3 hours ago · 1200 readers · 40 comments", "5 min read", "12 comments",
    "1.2K shares", "Aktualisiert vor 3 Stunden", "il y a 2 heures", "hace 3 horas",
    "3 ore fa", "há 3 horas", "3 uur geleden", "2 godziny temu", "3 часа назад",
    "منذ 3 ساعات", "3時間前", "3小时前 · 阅读 1200", "3시간 전", "Kommentare (12)",
    "Lesezeit: 4 Min.", "Heute, 12:30 Uhr", "an hour ago",
])
def test_live_widgets_are_chrome(text: str) -> None:
    assert chrome.is_live_widget(text)
    assert chrome.clean_text(f"An article paragraph.\n{text}\nAnother one.") == (
        "An article paragraph.\nAnother one."
    )


@pytest.mark.parametrize("text", [
    "The company has 1200 readers and 40 comments per article.", "He left 3 hours ago.",
    "12 comments were deleted", "Vor 3 Stunden begann die Sitzung des Stadtrats.",
    "Il y a 2 heures, le train est reparti.", "2024", "Updated",
])
def test_sentences_with_numbers_stay(text: str) -> None:
    assert not chrome.is_live_widget(text)
    assert chrome.clean_text(text) == text


def test_meta_line_keeps_its_byline_part() -> None:
    assert chrome.clean_text("Intro.\nJane Doe · 3 hours ago · 40 comments") == "Intro.\nJane Doe"


def test_digit_runs_are_no_trap_for_the_widget_grammar() -> None:
    """A long run of numbers and words that is no widget: the grammar gives up at once
    (atomic groups), rather than trying every way to split the digits."""
    assert not chrome.is_live_widget("3 views " * 19 + "x")
    assert not chrome.is_live_widget("1 " * 79 + "x")
