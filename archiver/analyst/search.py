"""Full-text search over every version, and what was removed from (or added to) articles.

The index is made by migration 0013 and kept by triggers on ``versions``:

- PostgreSQL: ``versions.search_vector``, each version parsed with the text search
  configuration of its language (``archiver_search_config``). A query is read with
  ``websearch_to_tsquery`` in the configuration of each version it is matched against,
  so "Wahlen" finds a German version saying "Wahl" and an English one saying "elections"
  finds "election". The GIN index is used through a pre-filter: the query read in every
  configuration, OR-ed (a superset of the exact matches).
- SQLite: the FTS5 table ``versions_fts`` (Porter stemming: English only). The same
  web-search syntax is translated to an FTS5 query in which every word and phrase is a
  quoted string, so FTS5's own operators in the input are words like any other.

Web-search syntax: words (all must match), ``"a phrase"``, ``-word`` / ``-"a phrase"``
(excluded), ``a or b`` (either).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from archiver.analyst import BadInput
from archiver.analyst.select import Selection
from archiver.storage.types import UTCDateTime

#: How a match is marked in a snippet.
MARK_START, MARK_END = "«", "»"
HEADLINE_OPTIONS = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, "
                    'MaxFragments=2, FragmentDelimiter=" … "')
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?…»\"”])\s+|\n+")


@dataclass(frozen=True)
class Query:
    """A web-search query, parsed: every group must match (one of its terms), no
    excluded term may. A term is a tuple of words (a phrase when more than one)."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]
    excluded: tuple[tuple[str, ...], ...]


def parse_query(query: str) -> Query:
    """Read web-search syntax.

    Raises:
        BadInput: unbalanced quotes, or nothing to search for (only operators or
            exclusions).
    """
    if query.count('"') % 2:
        raise BadInput(f"unbalanced quotes in the query: {query}")
    groups: list[list[tuple[str, ...]]] = []
    excluded: list[tuple[str, ...]] = []
    pending_or = last_positive = False
    for match in re.finditer(r'(-?)"([^"]*)"|(\S+?)(?=\s|"|$)', query):
        negated, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None:
            negated = "-" if bare.startswith("-") else ""
            if bare.lower() == "or":
                pending_or = last_positive
                continue
            phrase = bare
        words = tuple(_WORD.findall(phrase))
        if not words:
            continue
        if negated:
            excluded.append(words)
        elif pending_or:
            groups[-1].append(words)
        else:
            groups.append([words])
        pending_or, last_positive = False, not negated
    if not groups:
        raise BadInput(f"nothing to search for (only operators or exclusions): {query}")
    return Query(tuple(tuple(g) for g in groups), tuple(excluded))


def fts5_query(query: Query) -> str:
    """The FTS5 MATCH expression for a parsed query. Every word and phrase is an FTS5
    string, so nothing in it is read as an operator."""

    def term(words: tuple[str, ...]) -> str:
        return '"' + " ".join(words).replace('"', '""') + '"'

    out = " AND ".join("(" + " OR ".join(term(t) for t in g) + ")" for g in query.groups)
    if query.excluded:
        out += " NOT (" + " OR ".join(term(t) for t in query.excluded) + ")"
    return out


@dataclass(frozen=True)
class Hit:
    """One version that matched."""

    article_id: int
    url: str
    site: str
    version: int
    captured_at: datetime
    title: str | None
    snippet: str


def search(conn: Connection, query: str, selection: Selection | None = None,
           *, limit: int | None = 20) -> list[Hit]:
    """The versions matching ``query`` (web-search syntax), best first.

    Args:
        conn: a connection to the archive.
        query: words, "phrases", -exclusions, ``or``.
        selection: which versions (default: each article's latest; all, as of a moment,
            site...).
        limit: at most this many (None: all).

    Raises:
        BadInput: the query cannot be read (see :func:`parse_query`).
    """
    parsed = parse_query(query)
    conds, params, binds = (selection or Selection()).where()
    params["limit"] = limit if limit is not None else -1
    if conn.dialect.name == "postgresql":
        prefilter = _pg_prefilter(conn, query)
        if prefilter is None:
            return []
        params.update(q=query, prefilter=prefilter, headline_options=HEADLINE_OPTIONS)
        probes = _probes(parsed)
        for i, probe in enumerate(probes):
            params[f"probe{i}"] = probe
        sql = _PG_SEARCH.format(
            conds="".join(f" AND {c}" for c in conds),
            limit="LIMIT :limit" if limit is not None else "",
            first_match="LEAST(" + ", ".join(
                f"NULLIF(strpos(lower(v.text), :probe{i}), 0)" for i in range(len(probes))
            ) + ")" if probes else "NULL",
        )
    else:
        conds = ["versions_fts MATCH :match", *conds]
        params["match"] = fts5_query(parsed)
        sql = f"""
SELECT a.id AS article_id, a.url, s.domain AS site, v.version, v.captured_at, v.title,
       snippet(versions_fts, 1, '{MARK_START}', '{MARK_END}', '…', 24) AS snippet
FROM versions_fts
JOIN versions v ON v.id = versions_fts.rowid
JOIN articles a ON a.id = v.article_id JOIN sites s ON s.id = a.site_id
WHERE {" AND ".join(conds)}
ORDER BY bm25(versions_fts, 10.0, 1.0), v.captured_at DESC, v.id DESC
LIMIT :limit
"""
    stmt = text(sql).bindparams(*binds).columns(captured_at=UTCDateTime())
    return [Hit(**r._mapping) for r in conn.execute(stmt, params)]


# How PostgreSQL answers a search, in three steps, each reading as little as it can:
# 1. candidates: the GIN index answers the pre-filter (the query read in every
#    configuration, OR-ed: no row has to be read for it) and the selection (latest, site,
#    time: plain columns) narrows them, so that no search document is read yet;
# 2. the query is read once per language among the candidates (not once per row), and
#    each candidate's document is matched exactly and ranked with its language's reading;
# 3. a snippet for the best ``limit``: ts_headline parses the text it is given, so it is
#    given a window of the text around the first place a query word's beginning appears
#    (the whole text if none does: a stem that changed its beginning), not a long page.
_PG_SEARCH = """
WITH candidates AS MATERIALIZED (
    SELECT v.id, COALESCE(v.language, '') AS language
    FROM versions v JOIN articles a ON a.id = v.article_id JOIN sites s ON s.id = a.site_id
    WHERE v.search_vector @@ CAST(:prefilter AS tsquery){conds}
),
readings AS MATERIALIZED (
    SELECT l.language, archiver_search_config(NULLIF(l.language, '')) AS config,
           websearch_to_tsquery(archiver_search_config(NULLIF(l.language, '')), :q) AS query
    FROM (SELECT DISTINCT language FROM candidates) l
),
hits AS MATERIALIZED (
    SELECT v.id, r.config, r.query, ts_rank(v.search_vector, r.query) AS rank
    FROM candidates c
    JOIN readings r ON r.language = c.language
    JOIN versions v ON v.id = c.id
    WHERE v.search_vector @@ r.query
    ORDER BY rank DESC, v.captured_at DESC, v.id DESC
    {limit}
)
SELECT a.id AS article_id, a.url, s.domain AS site, v.version, v.captured_at, v.title,
       CASE WHEN w.first IS NULL
            THEN ts_headline(hits.config, v.text, hits.query, :headline_options)
            ELSE ts_headline(hits.config, substr(v.text, greatest(1, w.first - 300), 2000),
                             hits.query, :headline_options)
       END AS snippet
FROM hits JOIN versions v ON v.id = hits.id
JOIN articles a ON a.id = v.article_id JOIN sites s ON s.id = a.site_id
CROSS JOIN LATERAL (SELECT {first_match} AS first) w
ORDER BY hits.rank DESC, v.captured_at DESC, v.id DESC
"""


def _probes(query: Query) -> list[str]:
    """Where a snippet's window starts: the beginnings of the query's words (as a stem
    keeps them: "Wahlen" -> "wahl", "elections" -> "elect"), lower-cased."""
    words = {w.lower() for group in query.groups for term in group for w in term}
    return sorted({w[:max(3, min(len(w) - 2, 6))] if len(w) > 3 else w for w in words})[:8]


def _pg_prefilter(conn: Connection, query: str) -> str | None:
    """The query read in every built-in text search configuration, OR-ed: a tsquery that
    the GIN index answers and that every exact match satisfies. None: no lexemes."""
    readings = conn.execute(text(
        "SELECT DISTINCT websearch_to_tsquery(c.oid::regconfig, :q)::text FROM pg_ts_config c "
        "WHERE c.cfgnamespace = 'pg_catalog'::regnamespace"), {"q": query}).scalars()
    parts = sorted(r for r in readings if r)
    return " | ".join(f"( {p} )" for p in parts) or None


# --- what was removed, what was added -------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A version that no longer holds a phrase its previous version held (or the reverse)."""

    article_id: int
    url: str
    site: str
    before_version: int
    after_version: int
    captured_at: datetime
    #: The sentence holding the phrase (removed: in the earlier version) and what stands
    #: in its place in the other version ("" when nothing does).
    sentence_before: str
    sentence_after: str


def changes(conn: Connection, phrase: str, *, removed: bool = True,
            selection: Selection | None = None,
            limit: int | None = None) -> list[Change]:
    """Versions that took ``phrase`` out (``removed``) or put it in, oldest change first.

    The phrase is matched as words in order, case- and accent-blind on whitespace and
    punctuation (so line breaks and quotes do not hide it). Candidates are found through
    the full-text index (the version that holds it), then checked exactly against the
    version before or after.

    Raises:
        BadInput: the phrase has no word.
    """
    words = tuple(w.lower() for w in _WORD.findall(phrase))
    if not words:
        raise BadInput(f"the phrase has no word to look for: {phrase!r}")
    if phrase.count('"') % 2:
        raise BadInput(f"unbalanced quotes in the phrase: {phrase}")
    quoted = '"' + " ".join(words) + '"'
    # The versions that hold it (the earlier one for a removal, the later for an addition),
    # whatever the selection: it applies to the version that made the change.
    holders = search(conn, quoted, Selection(all_versions=True), limit=None)
    holder_keys = {(h.article_id, h.version) for h in holders}
    pairs = {(aid, v + 1) if removed else (aid, v) for aid, v in holder_keys}
    if not removed:
        pairs = {(aid, v) for aid, v in pairs if v > 1}
    if not pairs:
        return []
    conds, params, binds = (selection or Selection(all_versions=True)).where()
    rows = _version_pairs(conn, sorted(pairs), conds, params, binds)
    out = []
    for r in rows:
        before_has = _holds(r["before_text"], words)
        after_has = _holds(r["after_text"], words)
        if (before_has and not after_has) if removed else (after_has and not before_has):
            held, other = ((r["before_text"], r["after_text"]) if removed
                           else (r["after_text"], r["before_text"]))
            sentence, counterpart = _sentences_around(held, other, words)
            if not removed:
                sentence, counterpart = counterpart, sentence
            out.append(Change(r["article_id"], r["url"], r["site"], r["version"] - 1,
                              r["version"], r["captured_at"], sentence, counterpart))
    out.sort(key=lambda c: (c.captured_at, c.url))
    return out[:limit] if limit is not None else out


def _version_pairs(conn: Connection, pairs: list[tuple[int, int]], conds: list[str],
                   params: dict[str, Any], binds: list[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for start in range(0, len(pairs), 500):
        chunk = pairs[start:start + 500]
        keys = " OR ".join(f"(v.article_id = :a{i} AND v.version = :v{i})"
                           for i in range(len(chunk)))
        chunk_params = dict(params)
        for i, (aid, ver) in enumerate(chunk):
            chunk_params[f"a{i}"], chunk_params[f"v{i}"] = aid, ver
        sql = f"""
SELECT a.id AS article_id, a.url, s.domain AS site, v.version, v.captured_at,
       p.text AS before_text, v.text AS after_text
FROM versions v
JOIN versions p ON p.article_id = v.article_id AND p.version = v.version - 1
JOIN articles a ON a.id = v.article_id JOIN sites s ON s.id = a.site_id
WHERE ({keys}) {"AND " + " AND ".join(conds) if conds else ""}
"""
        stmt = text(sql).bindparams(*binds).columns(captured_at=UTCDateTime())
        rows.extend(dict(r._mapping) for r in conn.execute(stmt, chunk_params))
    return rows


def _normal_words(text_: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text_)]


def _holds(text_: str, words: tuple[str, ...]) -> bool:
    return _find(_normal_words(text_), words) >= 0


def _find(seq: list[str], words: tuple[str, ...]) -> int:
    n = len(words)
    for i in range(len(seq) - n + 1):
        if tuple(seq[i:i + n]) == words:
            return i
    return -1


def _split_sentences(text_: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text_) if s and s.strip()]


def _sentences_around(held: str, other: str, words: tuple[str, ...]) -> tuple[str, str]:
    """The sentence of ``held`` that holds the phrase, and the sentence(s) of ``other``
    that stand in its place (by a sentence-level diff; "" if it was simply dropped)."""
    mine, theirs = _split_sentences(held), _split_sentences(other)
    index = next((i for i, s in enumerate(mine) if _holds(s, words)), -1)
    if index < 0:  # the phrase spans two sentences
        return held.strip()[:500], ""
    matcher = difflib.SequenceMatcher(a=mine, b=theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if i1 <= index < i2:
            if tag == "equal":
                return mine[index], theirs[j1 + index - i1]
            return mine[index], " ".join(theirs[j1:j2])
    return mine[index], ""
