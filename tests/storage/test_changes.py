"""Change classes and diff sizes on crafted version pairs (pure functions, no database)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from archiver.storage.changes import BREAK, Snapshot, classify, correction_notes, diff_words

from .helpers import BODY_A, BODY_B

TITLE = "Council extends night buses to northern suburbs"
PUBLISHED = datetime(2026, 10, 30, 8, 15, tzinfo=timezone.utc)


def snap(text: str = BODY_A, **kw: object) -> Snapshot:
    kw.setdefault("title", TITLE)
    kw.setdefault("authors", "Ana Ruiz; Tom Berg")
    kw.setdefault("published_at", PUBLISHED)
    return Snapshot(text=text, **kw)  # type: ignore[arg-type]


def classes(old: Snapshot, new: Snapshot, earlier: tuple[Snapshot, ...] = ()) -> tuple[str, ...]:
    return classify(old, new, {e.content_key() for e in earlier}).classes


def test_headline_only() -> None:
    change = classify(snap(), snap(title="Night buses reach the northern suburbs"))
    assert change.classes == ("headline",)
    assert (change.words_added, change.words_removed) == (0, 0)


def test_byline_and_date() -> None:
    assert classes(snap(), snap(authors="Ana Ruiz")) == ("byline",)
    later = datetime(2026, 10, 31, 8, 15, tzinfo=timezone.utc)
    assert classes(snap(), snap(published_at=later)) == ("date",)
    assert classes(snap(), snap(published_at=None)) == ("date",)
    # The same instant in another zone is the same date.
    naive_utc = datetime(2026, 10, 30, 8, 15)
    assert classes(snap(), snap(BODY_B, published_at=naive_utc)) == ("substantive",)


def test_changed_number_is_substantive_with_its_size() -> None:
    change = classify(snap(), snap(BODY_B))
    assert change.classes == ("substantive",)
    assert (change.words_added, change.words_removed) == (1, 1)
    assert change.label == "substantive"


@pytest.mark.parametrize("new", [
    BODY_A.replace("officials said.", "officials said"),           # punctuation
    BODY_A.replace("The city council", "The City Council"),        # case
    BODY_A.replace("two-year", "two year"),                        # a hyphen
    BODY_A.replace("officials", "offcials"),                       # a typo
    BODY_A.replace("Ruiz", "Ruíz"),                                # an accent
    BODY_A.replace("transport authority", "transport authorty"),   # a typo in a long word
    BODY_A.replace("\n\n", "\n"),                                  # paragraph whitespace
])
def test_trivial(new: str) -> None:
    assert classes(snap(), snap(new)) == ("trivial",)


@pytest.mark.parametrize("new", [
    BODY_A.replace("voted on Tuesday", "voted on Wednesday"),      # a word replaced
    BODY_A.replace("start running", "not start running"),          # a word added
    BODY_A.replace("the least we owe", "least we owe"),            # a word removed
    BODY_A.replace("in March", "in May"),                          # short word, new meaning
    BODY_A.replace("two-year", "three-year"),
    BODY_A + "\n\nThe mayor did not comment.",                      # a paragraph added
    BODY_A.replace("the transport authority", "the transport authorty agency"),
])
def test_substantive(new: str) -> None:
    assert classes(snap(), snap(new)) == ("substantive",)


def test_many_typos_add_up_to_substantive() -> None:
    typos = BODY_A
    for word in ("council", "network", "northern", "suburbs", "dispute", "transport",
                 "authority", "member", "residents", "officials", "running", "change"):
        typos = typos.replace(word, word[:-1] + word[-1] * 2, 1)
    assert classes(snap(), snap(typos)) == ("substantive",)


def test_several_classes_at_once() -> None:
    new = snap(BODY_B, title="Night buses: fewer riders than first said", authors="Ana Ruiz")
    assert classes(snap(), new) == ("headline", "byline", "substantive")


@pytest.mark.parametrize("note", [
    "Correction: An earlier version of this article misstated the number of residents.",
    "CORRECTION (Nov. 3, 2026): The number of residents was misstated.",
    "Update, 5 p.m. ET: The council has published the routes.",
    "Updated: the routes are now published.",
    "Editor's note: This story has been updated with a statement from the mayor.",
    "An earlier version of this story gave the wrong date for the vote.",
    "This article was amended on 3 November 2026 to correct the number of residents.",
    "(Corrects number of residents in paragraph 2)",
    "Korrektur: In einer früheren Version dieses Artikels hieß es, 40.000 Menschen.",
    "Transparenzhinweis – Dieser Artikel wurde nachträglich korrigiert.",
    "Mise à jour : la mairie a publié les lignes.",
    "Rectificatif : une précédente version de cet article indiquait 40 000 habitants.",
    "Corrección: una versión anterior de este artículo decía 40.000 residentes.",
    "Actualización 12:30 — El ayuntamiento publicó las rutas.",
    "Rettifica: una precedente versione di questo articolo riportava un dato errato.",
    "Correção: uma versão anterior deste texto informava 40 mil moradores.",
    "Correctie: in een eerdere versie van dit artikel stond een verkeerd aantal.",
    "Rättelse: I en tidigare version av artikeln angavs fel antal.",
    "Sprostowanie: w poprzedniej wersji artykułu podano błędną liczbę.",
])
def test_correction_note_appeared(note: str) -> None:
    change = classify(snap(), snap(BODY_A + "\n\n" + note))
    assert change.classes == ("correction",), note
    assert change.words_added == len(note.split()) and change.words_removed == 0


def test_correction_with_the_fix_it_announces() -> None:
    fixed = BODY_B + "\n\nCorrection: this article misstated the number of residents."
    assert classes(snap(), snap(fixed)) == ("correction", "substantive")
    typo = BODY_A.replace("officials", "offcials") + "\n\nUpdate: a typo was fixed."
    assert classes(snap(), snap(typo)) == ("correction", "trivial")


def test_note_already_there_is_not_a_new_correction() -> None:
    noted = BODY_A + "\n\nCorrection: an earlier version misstated the date."
    assert classes(snap(noted), snap(noted.replace("40,000", "14,000"))) == ("substantive",)
    # A second, different note is another correction.
    more = noted + "\n\nUpdate: the routes are published."
    assert classes(snap(noted), snap(more)) == ("correction",)


@pytest.mark.parametrize("paragraph", [
    "Update the app to see the new routes: it is free.",
    "The correction of the budget was approved.",
    "Officials said an update would follow next week.",
    "Residents asked for a previous version of the plan to be restored.",
])
def test_ordinary_sentences_are_not_notes(paragraph: str) -> None:
    assert correction_notes([paragraph]) == []
    assert classes(snap(), snap(BODY_A + "\n\n" + paragraph)) == ("substantive",)


def test_corrected_title_marks_a_correction() -> None:
    new = snap(BODY_B, title="CORRECTED-" + TITLE)
    assert classes(snap(), new) == ("headline", "correction", "substantive")


def test_revert_a_b_a() -> None:
    a, b = snap(), snap(BODY_B, title="Fewer riders")
    assert classes(a, b) == ("headline", "substantive")
    assert classes(b, a, earlier=(a,)) == ("headline", "substantive", "revert")
    # Back to A after A, B, C: still a revert of a non-adjacent version.
    c = snap(BODY_B + "\n\nThe mayor did not comment.", title="Fewer riders")
    assert "revert" in classes(c, a, earlier=(a, b))


def test_revert_needs_a_non_adjacent_match() -> None:
    a, b = snap(), snap(BODY_B)
    assert "revert" not in classes(a, b, earlier=())
    assert "revert" not in classes(b, snap(BODY_B.replace("said.", "said")), earlier=(a,))


def test_revert_uses_stored_keys() -> None:
    """With stored content hashes, equal hashes are equal content."""
    a = Snapshot(TITLE, None, None, BODY_A, key="h1")
    b = Snapshot(TITLE, None, None, BODY_B, key="h2")
    assert classify(b, a, {"h1"}).classes == ("substantive", "revert")
    assert classify(b, a, {"h3"}).classes == ("substantive",)


def test_identical_readings_are_trivial() -> None:
    change = classify(snap(), snap(BODY_A.replace(" ", "  ")))
    assert change.classes == ("trivial",)
    assert (change.words_added, change.words_removed) == (0, 0)


def test_empty_texts() -> None:
    change = classify(snap(""), snap("One new paragraph of text."))
    assert change.classes == ("substantive",)
    assert (change.words_added, change.words_removed) == (5, 0)
    assert classify(snap("Gone soon."), snap("")).words_removed == 2


def test_diff_words_keeps_paragraphs() -> None:
    hunks = diff_words("One two three.\nFour five.", "One two three.\nFour six.\nSeven.")
    assert hunks == [
        ("equal", ["One", "two", "three.", BREAK, "Four"], ["One", "two", "three.", BREAK, "Four"]),
        ("replace", ["five."], ["six."]),
        ("equal", [BREAK], [BREAK]),
        ("insert", [], ["Seven."]),
    ]
    assert diff_words("Same.", "Same.") == [("equal", ["Same."], ["Same."])]
    assert diff_words("", "") == []


def test_word_counts_on_a_long_rewrite() -> None:
    old = "\n".join(f"Paragraph {i} says alpha beta gamma delta." for i in range(400))
    new = "\n".join(f"Paragraph {i} says alpha beta gamma epsilon." for i in range(400))
    change = classify(snap(old), snap(new))
    assert change.classes == ("substantive",)
    assert (change.words_added, change.words_removed) == (400, 400)
