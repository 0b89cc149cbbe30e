"""Turning response bytes into text: BOM, HTTP charset, <meta> charset, then detection."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# What browsers do (WHATWG encoding standard): these labels mean a superset.
_WHATWG_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-sjis": "shift_jis",
}


def normalise_charset(label: str | None) -> str | None:
    """A Python codec name for a declared charset label, or None if it is unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _WHATWG_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header value, if any."""
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def decode_html(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode an HTML body and say which encoding was used.

    Order of trust, as browsers do it: a byte-order mark, then the charset of the HTTP
    header (``declared``), then a ``<meta>`` charset in the first 4 KiB, then UTF-8 if the
    bytes are valid UTF-8, then statistical detection. Undecodable bytes are replaced,
    never fatal.

    Returns:
        ``(text, encoding)``.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, errors="replace"), name
    candidates = [normalise_charset(declared)]
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        candidates.append(normalise_charset(meta.group(1).decode("ascii", "ignore")))
    for name in candidates:
        # A page that declares UTF-16 in <meta> cannot have been parsed to find it.
        if name and not name.startswith("utf-16") and not name.startswith("utf-32"):
            try:
                return body.decode(name), name
            except UnicodeDecodeError:
                if name == candidates[0]:  # the HTTP header is authoritative
                    return body.decode(name, errors="replace"), name
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # only for pages that declare nothing

    best = from_bytes(body[:200_000]).best()
    name = normalise_charset(best.encoding if best else None) or "cp1252"
    # Detection cannot tell Latin code pages apart on short texts (it says cp1257 for a
    # French café). Browsers default undeclared Western pages to windows-1252, so among
    # Latin guesses we do the same when the bytes are valid cp1252; Cyrillic, Greek,
    # Hebrew, Arabic and CJK guesses are kept.
    if name in _LATIN_GUESSES and name != "cp1252":
        try:
            return body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return body.decode(name, errors="replace"), name


_LATIN_GUESSES = frozenset(
    {"cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859-2", "iso8859-3", "iso8859-4",
     "iso8859-9", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16",
     "iso8859-1", "mac-roman", "mac-latin2", "cp850", "cp437", "cp858", "cp775", "cp852",
     "cp857", "cp860", "cp861", "cp863", "cp865"}
)
