"""``archiver history``, ``archiver diff``, ``archiver show``: one article over time.

Thin over :mod:`archiver.ops.history`. A URL in any form the archive knows (tracking
parameters, ``www.``, a trailing slash, http or https) finds its article. What is not in
the archive (an unknown URL, a version out of range, a bad or too early ``--as-of``) is one
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterator
from datetime import datetime, timezone

from archiver.ops.history import (
    ArticleHistory,
    HistoryError,
    VersionInfo,
    article_history,
    pick_pair,
    pick_version,
)
from archiver.storage.changes import BREAK, diff_words, paragraphs

#: Exit status when what was asked for is not in the archive (or the arguments are bad).
EXIT_NOT_FOUND = 2

_RED, _GREEN, _BOLD, _CYAN, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[36m", "\x1b[0m"


def add_commands(commands: argparse._SubParsersAction) -> None:
    hist = commands.add_parser(
        "history", help="an article's versions: when, what kind of change, how many words")
    hist.add_argument("url", metavar="URL", help="the article's URL (any variant)")
    hist.add_argument("--json", action="store_true", help="print the history as JSON")
    hist.set_defaults(handler=_history)

    diff = commands.add_parser(
        "diff", help="what changed between two versions of an article (default: the last two)")
    diff.add_argument("url", metavar="URL", help="the article's URL (any variant)")
    diff.add_argument("a", metavar="A", nargs="?",
                      help="the older version (alone: compared with the newest)")
    diff.add_argument("b", metavar="B", nargs="?", help="the newer version")
    diff.add_argument("--lines", action="store_true",
                      help="a unified diff of paragraphs instead of words")
    diff.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="colour the changes (auto: only on a terminal)")
    diff.set_defaults(handler=_diff)

    show = commands.add_parser("show", help="an article as it was (default: as it is now)")
    show.add_argument("url", metavar="URL", help="the article's URL (any variant)")
    when = show.add_mutually_exclusive_group()
    when.add_argument("--version", metavar="N", help="version N")
    when.add_argument("--as-of", metavar="TIMESTAMP",
                      help="the version current then (ISO date or date-time; UTC if no zone)")
    show.add_argument("--json", action="store_true", help="print the version as JSON")
    show.set_defaults(handler=_show)


def _fails(handler):  # type: ignore[no-untyped-def]
    """A handler whose HistoryError is one line on stderr and exit status 2."""
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except HistoryError as exc:
            print(f"archiver: error: {exc}", file=sys.stderr)
            return EXIT_NOT_FOUND
    return run


@_fails
def _history(args: argparse.Namespace) -> int:
    history = article_history(args.database_url, args.url)
    if args.json:
        print(json.dumps(history.as_dict(), ensure_ascii=False, indent=2))
        return 0
    count = len(history.versions)
    gone = f", gone since {_when(history.gone_at)}" if history.gone_at else ""
    print(f"{history.url} ({history.site}): {count} version{'s' * (count != 1)}, "
          f"last fetched {_when(history.last_fetched_at)}{gone}")
    for v in history.versions:
        change = ", ".join(v.classes) if v.classes else ("first version" if v.version == 1
                                                         else "not classified")
        size = (f"+{v.words_added} -{v.words_removed}" if v.words_added is not None
                else "")
        print(f"{v.version:>4}  {_when(v.captured_at)}  {change:<32} {size:<12} "
              f"{_short(v.title)}".rstrip())
    return 0


@_fails
def _show(args: argparse.Namespace) -> int:
    number = _number(args.version, "--version") if args.version is not None else None
    as_of = _timestamp(args.as_of) if args.as_of is not None else None
    history = article_history(args.database_url, args.url, texts=True)
    v = pick_version(history, number, as_of)
    if args.json:
        print(json.dumps({"url": history.url, "site": history.site, **v.as_dict()},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"{history.url}: version {v.version} of {len(history.versions)}, "
          f"captured {_when(v.captured_at)}")
    for label, value in (("Title", v.title), ("By", v.authors),
                         ("Published", _when(v.published_at)),
                         ("Modified", _when(v.modified_at)),
                         ("Change", ", ".join(v.classes))):
        if value:
            print(f"{label}: {value}")
    print()
    print("\n\n".join(paragraphs(v.text)))
    return 0


@_fails
def _diff(args: argparse.Namespace) -> int:
    a = _number(args.a, "version A") if args.a is not None else None
    b = _number(args.b, "version B") if args.b is not None else None
    history = article_history(args.database_url, args.url, texts=True)
    old, new = pick_pair(history, a, b)
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    lines = _line_diff(history, old, new, colour) if args.lines else _word_diff(
        history, old, new, colour)
    for line in lines:
        print(line)
    return 0


def _word_diff(history: ArticleHistory, old: VersionInfo, new: VersionInfo,
               colour: bool) -> Iterator[str]:
    yield from _header(history, old, new, colour)
    for label, before, after in _fields(old, new):
        if before != after:
            yield f"{label}: {_marked([before] if before else [], [after] if after else [], colour)}"
    if paragraphs(old.text) == paragraphs(new.text):
        yield ""
        yield "(the text is the same)"
        return
    # Paragraphs with a change in full; runs of unchanged ones as a count.
    current: list[str] = []
    changed = False
    unchanged = 0
    out: list[str] = []

    def end_paragraph() -> None:
        nonlocal current, changed, unchanged
        if current:
            if changed:
                if unchanged:
                    out.append(f"[... {unchanged} unchanged paragraph{'s' * (unchanged != 1)}]")
                    unchanged = 0
                out.append(" ".join(current))
            else:
                unchanged += 1
        current, changed = [], False

    for tag, before, after in diff_words(old.text, new.text):
        if tag == "equal":
            for word in before:
                if word == BREAK:
                    end_paragraph()
                else:
                    current.append(word)
            continue
        changed = True
        removed = [w for w in before if w != BREAK]
        # Inserted words, paragraph by paragraph; the first beside what they replace.
        segments = [segment.split() for segment in " ".join(after).split(BREAK)]
        if removed or segments[0]:
            current.append(_marked(removed, segments[0], colour))
        if tag == "delete" and before[-1] == BREAK:
            end_paragraph()  # whole paragraphs removed: shown as one of their own
        for segment in segments[1:]:
            end_paragraph()
            if segment:
                current.append(_marked([], segment, colour))
                changed = True
    end_paragraph()
    if unchanged:
        out.append(f"[... {unchanged} unchanged paragraph{'s' * (unchanged != 1)}]")
    for paragraph in out:
        yield ""
        yield paragraph


def _line_diff(history: ArticleHistory, old: VersionInfo, new: VersionInfo,
               colour: bool) -> Iterator[str]:
    def lines(v: VersionInfo) -> list[str]:
        fields = [f"{label}: {value}" for label, value in _one(v) if value]
        return [*fields, "", *paragraphs(v.text)]

    head = list(_header(history, old, new, False))
    yield from head[2:]  # the change line, if any
    diff = difflib.unified_diff(lines(old), lines(new), head[0][4:], head[1][4:], n=1,
                                lineterm="")
    for line in diff:
        if colour and line.startswith(("---", "+++")):
            yield f"{_BOLD}{line}{_RESET}"
        elif colour and line.startswith("@@"):
            yield f"{_CYAN}{line}{_RESET}"
        elif colour and line.startswith("-"):
            yield f"{_RED}{line}{_RESET}"
        elif colour and line.startswith("+"):
            yield f"{_GREEN}{line}{_RESET}"
        else:
            yield line


def _header(history: ArticleHistory, old: VersionInfo, new: VersionInfo,
            colour: bool) -> Iterator[str]:
    bold, reset = (_BOLD, _RESET) if colour else ("", "")
    yield f"{bold}--- {history.url} version {old.version} ({_when(old.captured_at)}){reset}"
    yield f"{bold}+++ {history.url} version {new.version} ({_when(new.captured_at)}){reset}"
    if new.version == old.version + 1 and new.classes:
        yield f"change: {', '.join(new.classes)} (+{new.words_added} -{new.words_removed} words)"


def _one(v: VersionInfo) -> list[tuple[str, str]]:
    return [("title", v.title or ""), ("by", v.authors or ""),
            ("published", _when(v.published_at))]


def _fields(old: VersionInfo, new: VersionInfo) -> list[tuple[str, str, str]]:
    return [(label, a, b) for (label, a), (_, b) in zip(_one(old), _one(new))]


def _marked(removed: list[str], added: list[str], colour: bool) -> str:
    parts = []
    if removed:
        text = " ".join(removed)
        parts.append(f"{_RED}{text}{_RESET}" if colour else f"[-{text}-]")
    if added:
        text = " ".join(added)
        parts.append(f"{_GREEN}{text}{_RESET}" if colour else f"{{+{text}+}}")
    return " ".join(parts) if colour else "".join(parts)


def _number(value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise HistoryError(f"{what} must be a version number, not {value!r}") from None
    return number


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise HistoryError(
            f"--as-of must be an ISO date or date-time (2026-11-01T12:00Z), not {value!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _short(title: str | None, width: int = 60) -> str:
    title = " ".join((title or "").split())
    return title if len(title) <= width else title[: width - 1] + "…"
