"""Paywall detection: is the page telling us the article is gated, and where is the gate?

Two kinds of signal, each recorded as evidence on the article:

* *declared*: JSON-LD ``isAccessibleForFree: false`` on the article, or a ``hasPart``
  with ``isAccessibleForFree: false`` and a ``cssSelector`` naming the gated part (the
  structured data Google asks paywalled publishers to add);
* *visible*: a short block whose words are a subscription or login gate ("To continue
  reading this article...", "Already a subscriber?", "Log in to keep reading").

A gate found after some article text cuts the page there: everything from the gate on is
removed, so ``text`` holds only what a non-subscriber sees before it. A declared gated
part that the page serves in full is kept and only flagged: the text is there. An article that only
*mentions* subscribing (a long paragraph about a newspaper's subscribers) matches no gate
phrase: the phrases are specific and the block must be short.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

_GATE_PHRASE = re.compile(
    r"""(?ix)
      \bto\s+(?:continue|keep)\s+reading\b
    | \b(?:subscribe|register|sign\s+up|sign\s+in|log\s*in)\s+(?:now\s+)?to\s+(?:continue|keep\s+reading|read\s+(?:the\s+)?(?:full|this|the\s+rest))\b
    | \balready\s+(?:a|an)\s+(?:\w+\s+)?(?:subscriber|member)\b
    | \balready\s+(?:have\s+an\s+account|subscribed)\b
    | \b(?:this|the)\s+(?:article|story|content)\s+is\s+(?:only\s+)?(?:available\s+|reserved\s+)?(?:exclusively\s+)?(?:for|to)\s+(?:our\s+)?(?:paying\s+)?(?:subscribers|members)\b
    | \bfor\s+subscribers\s+only\b|\bsubscriber[-\s]only\s+(?:content|article|story)\b
    | \byou(?:'ve|\s+have)\s+(?:reached|used|read)\s+(?:your|all\s+(?:of\s+)?your|the)\b.{0,40}\b(?:free|limit)\b
    | \bcreate\s+a\s+free\s+account\s+to\b
    | \bunlock\s+(?:this|the\s+full)\s+(?:article|story)\b
    | \bbecome\s+a\s+(?:subscriber|member)\s+to\s+(?:continue|read)\b
    | \bsubscribe\s+(?:now\s+)?(?:to|for)\s+(?:unlimited|full)\s+(?:digital\s+)?access\b
    """
)
# Cheap pre-filter before running the phrase regex on an element's whole text.
_GATE_HINT = ("subscri", "reading", "member", "account", "unlock", "limit")
_GATE_TAGS = ("p", "div", "section", "aside", "span", "h2", "h3", "h4", "h5", "li", "strong")
_GATE_MAX_CHARS = 400
# Containers whose gate-like text is site chrome ("Already a subscriber? Log in" in the
# header), not an article gate.
_OUTSIDE_ARTICLE = frozenset({"header", "nav", "footer"})


def declared_signals(jsonld_article: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    """Paywall evidence from the article's JSON-LD, and the CSS selectors of gated parts."""
    if not jsonld_article:
        return [], []
    evidence, selectors = [], []
    if _is_false(jsonld_article.get("isAccessibleForFree")):
        evidence.append("jsonld:isAccessibleForFree=false")
    parts = jsonld_article.get("hasPart")
    for part in parts if isinstance(parts, list) else [parts]:
        if not isinstance(part, dict):
            continue
        selector = part.get("cssSelector")
        if isinstance(selector, str) and selector.strip() and _is_false(
            part.get("isAccessibleForFree")
        ):
            evidence.append(f"jsonld:hasPart.cssSelector={selector.strip()}")
            selectors.append(selector.strip())
    return evidence, selectors


def declared_parts(root: HtmlElement, jsonld_article: dict[str, Any] | None) -> list[HtmlElement]:
    """The elements the article's JSON-LD ``hasPart`` names as gated (served or not)."""
    found: list[HtmlElement] = []
    for selector in declared_signals(jsonld_article)[1]:
        try:
            found.extend(root.cssselect(selector))
        except Exception:  # a publisher's selector may be invalid CSS for cssselect
            logger.debug("unusable paywall selector %r", selector, exc_info=True)
    return found


def _is_false(value: object) -> bool:
    if isinstance(value, bool):
        return value is False
    return isinstance(value, str) and value.strip().lower() in ("false", "no", "0")


def _direct_text(el: HtmlElement) -> str:
    """``el``'s own text: its text and its children's tails, not its children's text."""
    if not len(el):  # a leaf: no child proxies to make
        return el.text or ""
    return (el.text or "") + "".join([child.tail or "" for child in el])


def _has_gate_hint(el: HtmlElement) -> bool:
    """Whether ``el``'s own text has a word of a gate: a cheap test before the phrases."""
    direct = _direct_text(el).lower()
    for hint in _GATE_HINT:  # a plain loop: this runs for every block of the page
        if hint in direct:
            return True
    return False


def find_gate(root: HtmlElement) -> tuple[HtmlElement, str] | None:
    """The first visible subscription or login gate on the page, and its phrase."""
    for el in root.iter(_GATE_TAGS):
        if not _has_gate_hint(el):
            continue
        text = " ".join(el.text_content().split())
        if len(text) > _GATE_MAX_CHARS:
            continue
        match = _GATE_PHRASE.search(text)
        # Gate copy opens with its phrase ("To continue reading...", "Already a
        # subscriber?"); prose that mentions subscribing has it mid-sentence.
        if not match or match.start() > 15 or text[:1] in _QUOTES:
            continue  # a quotation is prose, not a gate
        if any(anc.tag in _OUTSIDE_ARTICLE for anc in el.iterancestors()):
            continue
        if el.tag == "p" and _prose_continues(el):
            continue
        return el, match.group(0)
    return None


_QUOTES = frozenset("\"'“”‘’«»„")
_PAYWALL_NAME = re.compile(r"(?i)paywall|regwall|gate|meter|piano|subscri|premium")


def _prose_continues(p: HtmlElement) -> bool:
    """True when article paragraphs follow ``p`` in its own container: a sentence of the
    story that happens to use a gate's words, unless the container is named as a gate."""
    parent = p.getparent()
    if parent is not None and _PAYWALL_NAME.search(
        (parent.get("class") or "") + " " + (parent.get("id") or "")
    ):
        return False
    following = [s for s in p.itersiblings() if s.tag == "p" and len(s.text_content()) > 120]
    return len(following) >= 1


def _text_before(root: HtmlElement, stop: HtmlElement) -> int:
    """Characters of substantial paragraphs that come before ``stop`` in document order."""
    total = 0
    for el in root.iter("p", stop.tag):
        if el is stop:
            break
        if el.tag == "p":
            n = len(el.text_content())
            if n > 80:
                total += n
    return total


def _gate_box(gate: HtmlElement) -> HtmlElement:
    """Climb from the gate's phrase to the whole gate box (still short, no article text)."""
    box = gate
    node = gate.getparent()
    while node is not None and node.tag not in ("body", "html", "article", "main"):
        if len(node.text_content()) > 1500 or any(
            len(p.text_content()) > 250 for p in node.iter("p")
        ):
            break
        box = node
        node = node.getparent()
    return box


def cut_at(root: HtmlElement, box: HtmlElement) -> None:
    """Remove ``box`` and everything after it in document order."""
    node = box
    while node is not None and node is not root:
        parent = node.getparent()
        if parent is None:
            break
        following = node.getnext()
        while following is not None:
            nxt = following.getnext()
            parent.remove(following)
            following = nxt
        node.tail = None
        node = parent
    parent = box.getparent()
    if parent is not None:
        parent.remove(box)


def apply(root: HtmlElement, jsonld_article: dict[str, Any] | None) -> list[str]:
    """Detect a paywall, and cut the page where it ends at a visible gate, in place.

    Declared paywalls (JSON-LD ``isAccessibleForFree``, ``hasPart.cssSelector``) are
    evidence, never scissors: a publisher that marks a section as gated but serves it in
    the HTML has given us the text, and the archive keeps it (flagged). Only a visible gate
    after some article text cuts the page there: that is where what the page holds ends.

    Returns:
        The evidence (empty when the page is not paywalled).
    """
    evidence, _ = declared_signals(jsonld_article)
    found = find_gate(root)
    if found is not None:
        gate, phrase = found
        evidence.append(f"gate:{' '.join(phrase.lower().split())}")
        box = _gate_box(gate)
        if _text_before(root, box) > 0:
            cut_at(root, box)
        elif box.getparent() is not None:
            box.getparent().remove(box)
    return evidence
