"""What kind of change a version is: change classes and diff sizes, as pure functions.

A new version says what changed from the version before it (in time order), so that
an analyst can ask for headline changes or corrections without diffing texts:

- ``headline``: the title changed;
- ``byline``: the authors changed;
- ``date``: the published date changed;
- ``correction``: a correction or update note appeared ("Correction:", "Update, 5 p.m.:",
  "An earlier version of this article ...", "Korrektur:", "Mise à jour :", "Una versión
  anterior de este artículo ...", Reuters' "(Corrects ...)"), in the languages
  publishers write in; generic patterns, nothing page-specific;
- ``trivial``: the body changed only in whitespace, punctuation, case, accents or a few
  letters inside words (a typo fixed). Numbers are facts, so a changed digit is never
  trivial, nor is a word added or removed ("did not approve" -> "did approve");
- ``substantive``: the body changed more than that;
- ``revert``: the content is that of an earlier, non-adjacent version (A -> B -> A).

Several apply at once (``headline,substantive``). ``trivial`` and ``substantive`` judge
the body without the correction notes that appeared, so ``correction`` alone means a
note was added and nothing else. A version with no visible difference (two readings
that differ only where the fingerprint does not look) is ``trivial``. The diff size is
the body's words added and removed (whitespace-separated words, punctuation included).

Nothing here touches the database: :mod:`archiver.storage.history` reads versions and
stores what :func:`classify` says.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from difflib import SequenceMatcher
from itertools import pairwise

__all__ = [
    "BREAK",
    "CLASSES",
    "Change",
    "Snapshot",
    "classify",
    "classify_history",
    "correction_notes",
    "diff_words",
    "paragraphs",
]

#: Every class, in the order they are listed.
CLASSES = ("headline", "byline", "date", "correction", "trivial", "substantive", "revert")

#: The word :func:`diff_words` puts between paragraphs.
BREAK = "\n"

#: The most letters a trivial body change may touch in all.
TRIVIAL_MAX_CHARS = 10


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What classification reads of a version (its newest reading)."""

    title: str | None
    authors: str | None
    published_at: datetime | None
    text: str
    #: Equal for equal content (the stored ``content_hash``); computed when None.
    key: str | None = None

    def content_key(self) -> str:
        if self.key is not None:
            return self.key
        payload = "\x1f".join([_norm(self.title), _norm(self.authors), _norm(self.text),
                               _date(self.published_at)])
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Change:
    """What kind of change one version is from the one before it."""

    classes: tuple[str, ...]
    words_added: int
    words_removed: int

    @property
    def label(self) -> str:
        """The classes as stored: comma-separated, in :data:`CLASSES` order."""
        return ",".join(self.classes)


def classify(previous: Snapshot, current: Snapshot, earlier: Collection[str] = ()) -> Change:
    """The change from ``previous`` to ``current``.

    Args:
        previous: the version before ``current`` in time order.
        current: the version to classify.
        earlier: content keys (:meth:`Snapshot.content_key`) of the versions before
            ``previous``; ``current`` equal to one of them is a ``revert``.
    """
    found: set[str] = set()
    if _norm(previous.title) != _norm(current.title):
        found.add("headline")
    if _norm(previous.authors) != _norm(current.authors):
        found.add("byline")
    if _date(previous.published_at) != _date(current.published_at):
        found.add("date")
    old_paras, new_paras = paragraphs(previous.text), paragraphs(current.text)
    # A note that appeared is a paragraph of the new text only (the others were there).
    notes = set(correction_notes(list(set(new_paras) - set(old_paras))))
    if notes or (_is_title_note(current.title) and not _is_title_note(previous.title)):
        found.add("correction")
    body = _body_change(old_paras, [p for p in new_paras if p not in notes])
    if body:
        found.add(body)
    key = current.content_key()
    if key in earlier and key != previous.content_key():
        found.add("revert")
    if not found:
        found.add("trivial")  # nothing the eye sees: readings that differ in what we ignore
    added = removed = 0
    for tag, old, new in _diff_paragraphs(old_paras, new_paras):
        if tag != "equal":
            removed += sum(w != BREAK for w in old)
            added += sum(w != BREAK for w in new)
    return Change(tuple(c for c in CLASSES if c in found), added, removed)


def classify_history(versions: Sequence[Snapshot], earlier: Iterable[str] = ()) -> list[Change]:
    """Each version after the first classified against the one before it.

    Args:
        versions: consecutive versions of one article, in time order.
        earlier: content keys of the article's versions before ``versions[0]``.

    Returns:
        One :class:`Change` per version after the first.
    """
    keys = set(earlier)
    changes = []
    for previous, current in pairwise(versions):
        changes.append(classify(previous, current, keys))
        keys.add(previous.content_key())  # not adjacent to the versions after ``current``
    return changes


def paragraphs(text: str | None) -> list[str]:
    """The text's paragraphs (its non-blank lines), whitespace normalised."""
    return [p for p in (_norm(line) for line in (text or "").split("\n")) if p]


def diff_words(old_text: str | None, new_text: str | None) -> list[tuple[str, list[str], list[str]]]:
    """A word-level diff of two texts, as ``(tag, old_words, new_words)`` hunks.

    Tags are ``equal``, ``replace``, ``delete`` and ``insert`` (difflib's). Paragraphs are
    aligned first and words compared only inside changed paragraphs, so an edit in a long
    article costs what the edited paragraphs cost. A paragraph break is a ``"\\n"``
    word of its own (:data:`BREAK`), so that the hunks print back as paragraphs; it is
    never counted as a word.
    """
    return _diff_paragraphs(paragraphs(old_text), paragraphs(new_text))


def _diff_paragraphs(
    old_paras: list[str], new_paras: list[str]
) -> list[tuple[str, list[str], list[str]]]:
    hunks: list[tuple[str, list[str], list[str]]] = []
    matcher = SequenceMatcher(None, old_paras, new_paras, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = _words(old_paras[i1:i2]), _words(new_paras[j1:j2])
        if tag == "replace":
            hunks.extend(_diff_tokens(old, new))
        else:
            hunks.append((tag, old, new))
    return _merge(hunks)


def _words(paras: Sequence[str]) -> list[str]:
    words: list[str] = []
    for p in paras:
        words.extend(p.split())
        words.append(BREAK)  # after every paragraph, so hunks split between paragraphs
    return words


def _diff_tokens(old: list[str], new: list[str]) -> Iterator[tuple[str, list[str], list[str]]]:
    # Long rewrites: difflib's popular-word heuristic keeps the cost near linear.
    matcher = SequenceMatcher(None, old, new, autojunk=len(old) + len(new) > 2000)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        yield tag, old[i1:i2], new[j1:j2]


def _merge(hunks: list[tuple[str, list[str], list[str]]]) -> list[tuple[str, list[str], list[str]]]:
    """Adjacent hunks merged: equal with equal, and the others as one ``replace`` (or
    ``insert``/``delete``)."""
    out: list[tuple[str, list[str], list[str]]] = []
    for tag, old, new in hunks:
        if not old and not new:
            continue
        if out and (tag == "equal") == (out[-1][0] == "equal"):
            _, o, n = out.pop()
            old, new = o + old, n + new
            if tag != "equal":
                tag = "replace" if old and new else ("delete" if old else "insert")
        out.append((tag, list(old), list(new)))
    if out:  # no paragraph follows the last one
        tag, old, new = out.pop()
        old, new = old[:-1] if old[-1:] == [BREAK] else old, new[:-1] if new[-1:] == [BREAK] else new
        if old or new:
            out.append((tag, old, new))
    return out


# -- trivial or substantive ------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _body_change(old_paras: list[str], new_paras: list[str]) -> str | None:
    if old_paras == new_paras:
        return None
    # Only the paragraphs that differ are compared word by word.
    touched = 0
    matcher = SequenceMatcher(None, old_paras, new_paras, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits = _words_change(" ".join(old_paras[i1:i2]), " ".join(new_paras[j1:j2]))
        if edits is None:
            return "substantive"
        touched += edits
        if touched > TRIVIAL_MAX_CHARS:
            return "substantive"
    return "trivial"


def _words_change(old_text: str, new_text: str) -> int | None:
    """Letters touched if ``old_text`` -> ``new_text`` is trivial, else None."""
    old_words = _WORD.findall(old_text.casefold())
    new_words = _WORD.findall(new_text.casefold())
    if "".join(old_words) == "".join(new_words):
        return 0  # whitespace, punctuation, case, a hyphen
    touched = 0
    matcher = SequenceMatcher(None, old_words, new_words,
                              autojunk=len(old_words) + len(new_words) > 2000)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag != "replace" or i2 - i1 != j2 - j1:
            return None  # a word added or removed
        for a, b in zip(old_words[i1:i2], new_words[j1:j2]):
            edits = _typo_edits(a, b)
            if edits is None:
                return None
            touched += edits
    return touched


def _typo_edits(a: str, b: str) -> int | None:
    """Letters changed if ``a`` -> ``b`` is a typo fix, else None."""
    if any(c.isdigit() for c in a + b):
        return None  # numbers are facts
    if _strip_accents(a) == _strip_accents(b):
        return 1
    if min(len(a), len(b)) < 4 or a.endswith(b) or b.endswith(a):
        return None  # short words ("now"/"not") and prefixes ("lawful") change meaning
    limit = 1 if min(len(a), len(b)) < 8 else 2
    edits = _distance(a, b, limit)
    return edits if edits <= limit else None


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or ``limit + 1`` as soon as it is above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
        if min(row) > limit:
            return limit + 1
    return row[-1]


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word)
                   if not unicodedata.combining(c))


# -- correction and update notes ---------------------------------------------------------

# A note's label opens its paragraph and is followed by a colon or a dash, right away or
# after a date or time: "Correction:", "Update, 5 p.m. ET:", "KORREKTUR —" (but not
# "Update the app to see the routes: ...").
_LABELS = "|".join([
    # English
    r"corrections?", r"clarifications?", r"updated?(?:\s+\d+)?", r"editor'?s'?\s+note",
    r"errat(?:um|a)", r"amendment", r"correction\s+appended",
    # German
    r"korrektur(?:hinweis)?", r"berichtigung", r"richtigstellung", r"aktualisierung",
    r"aktualisiert", r"anmerkung\s+der\s+redaktion", r"hinweis\s+der\s+redaktion",
    r"transparenzhinweis",
    # French
    r"rectificatifs?", r"mise\s+à\s+jour", r"mis\s+à\s+jour", r"note\s+de\s+la\s+rédaction",
    r"précision",
    # Spanish
    r"corrección", r"fe\s+de\s+erratas", r"actualizaci[oó]n", r"actualizad[oa]",
    r"nota\s+del\s+editor", r"nota\s+de\s+la\s+redacción", r"aclaración", r"rectificación",
    # Italian
    r"correzione", r"rettifica", r"aggiornamento", r"aggiornato", r"nota\s+della\s+redazione",
    r"errata\s+corrige",
    # Portuguese
    r"correc?ção", r"atualização", r"actualização", r"atualizad[oa]",
    r"nota\s+da\s+redação", r"esclarecimento",
    # Dutch, Scandinavian, Polish, Czech, Turkish, Russian
    r"correctie", r"rectificatie", r"naschrift", r"noot\s+van\s+de\s+redactie",
    r"rättelse", r"uppdater(?:ing|ad)", r"rettelse", r"opdatering", r"oppdatering",
    r"sprostowanie", r"aktualizacja", r"korekta", r"oprava", r"aktualizace",
    r"düzeltme", r"güncelleme", r"исправление", r"обновлено", r"обновление", r"уточнение",
])
_LABELLED = re.compile(
    rf"^[\W_]{{0,3}}(?:{_LABELS})\b(?:[^:\n\w]*|[^:\n]{{0,30}}?\d[^:\n]{{0,20}}?)"
    r"\s*(?::|\s[-–—]\s|[–—])",
    re.IGNORECASE,
)
# Reuters-style notes at the top of a story: "(Corrects spelling of name in paragraph 3)".
_BRACKETED = re.compile(
    r"^[(\[]\s*(?:corrects|adds|updates|recasts|changes|fixes|refiles)\b", re.IGNORECASE
)
# Sentences that say the article changed, wherever they stand.
_SENTENCES = re.compile("|".join([
    (r"\ban?\s+(?:earlier|previous|prior|older)\s+version\s+of\s+this\s+"
     r"(?:article|story|report|post|piece|column|item|page|video|graphic)"),
    (r"\bthis\s+(?:article|story|report|post|piece|column)\s+(?:has\s+been|was|had\s+been|"
     r"is)\s+(?:updated|corrected|amended|revised|changed|edited)"),
    (r"\bwe\s+(?:have\s+)?(?:corrected|amended|updated)\s+(?:this|the)\s+"
     r"(?:article|story|report|error)"),
    (r"\bin\s+einer\s+(?:früheren|vorherigen|älteren|ersten)\s+(?:version|fassung)\s+"
     r"(?:dieses|des|dieser)\s+(?:artikels|textes|beitrags|meldung)"),
    (r"\b(?:dieser|der)\s+(?:artikel|text|beitrag)\s+wurde\s+(?:nachträglich\s+)?"
     r"(?:aktualisiert|korrigiert|geändert|ergänzt|überarbeitet)"),
    (r"\b(?:une|la|dans\s+une)\s+(?:précédente|première|ancienne)\s+version\s+de\s+"
     r"(?:cet|cette)\s+(?:article|dépêche|texte)"),
    r"\bcet\s+article\s+a\s+été\s+(?:mis\s+à\s+jour|modifié|corrigé|actualisé|rectifié)",
    (r"\buna\s+(?:versión|version)\s+anterior\s+de\s+(?:este|esta)\s+"
     r"(?:artículo|nota|noticia|información|texto)"),
    (r"\b(?:este|esta)\s+(?:artículo|nota|noticia|texto)\s+(?:ha\s+sido|fue)\s+"
     r"(?:actualizad|corregid|modificad)[oa]"),
    (r"\buna\s+(?:precedente|prima|versione\s+precedente)\s+(?:versione\s+)?di\s+questo\s+"
     r"articolo"),
    r"\bquesto\s+articolo\s+è\s+stato\s+(?:aggiornato|corretto|modificato)",
    r"\buma\s+versão\s+anterior\s+d[eo]st[ea]\s+(?:texto|artigo|reportagem|notícia)",
    (r"\b(?:este|esta)\s+(?:texto|artigo|reportagem|notícia)\s+foi\s+"
     r"(?:atualizad|actualizad|corrigid|alterad)[oa]"),
    r"\bin\s+een\s+eerdere\s+versie\s+van\s+dit\s+(?:artikel|bericht|stuk)",
    r"\bdit\s+(?:artikel|bericht|stuk)\s+is\s+(?:aangepast|gecorrigeerd|bijgewerkt)",
]), re.IGNORECASE)
# Titles marked as corrected or updated ("CORRECTED-...", "UPDATE 2-...", "Update:").
_TITLE_NOTE = re.compile(
    r"^[\W_]{0,3}(?:corrected|correction|update(?:d)?(?:\s+\d+)?|korrigiert|aktualisiert|"
    r"mise\s+à\s+jour|actualizado|corregido)\s*[-:–—]", re.IGNORECASE
)


def correction_notes(paras: Sequence[str]) -> list[str]:
    """The paragraphs that are correction or update notes."""
    return [p for p in paras if _is_note(p)]


def _is_note(paragraph: str) -> bool:
    p = paragraph.replace("’", "'")
    return bool(_LABELLED.match(p) or _BRACKETED.match(p) or _SENTENCES.search(p))


def _is_title_note(title: str | None) -> bool:
    return bool(title and _TITLE_NOTE.match(_norm(title)))


# -- normalisation ---------------------------------------------------------------------

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def _norm(value: str | None) -> str:
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value)
    if _INVISIBLE.search(value):
        value = _INVISIBLE.sub("", value)
    return " ".join(value.split())


def _date(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()
