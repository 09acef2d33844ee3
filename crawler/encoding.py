"""Turn a fetched body into text: pick its character encoding, then clean the text for storage.

The order is BOM, HTTP header, the page's own declaration, then detection with charset-normalizer.
A declaration is only trusted if the body decodes under it without errors. Fetching, and whether
the body is HTML at all, are left to the spider and to `crawler.extract`.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from charset_normalizer import from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

logger = logging.getLogger(__name__)

EncodingSource = Literal["bom", "header", "meta", "detected", "default"]

# Detection reads at most this much of the body: the head of a news page plus its first
# paragraphs hold more than enough non-ASCII text to tell windows-1256 from windows-1252.
_DETECT_PREFIX = 256 * 1024
# Markup is ASCII and drowns the few bytes that tell encodings apart, so detection sees the text.
_NON_TEXT_PATTERN = r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>"
_NON_TEXT = re.compile(_NON_TEXT_PATTERN.encode(), re.DOTALL | re.IGNORECASE)
_NON_TEXT_STR = re.compile(_NON_TEXT_PATTERN, re.DOTALL | re.IGNORECASE)
_SPACES = re.compile(rb"\s+")
# The legacy encodings of French and Arabic pages, tried before all others: on a short French
# sample an unrestricted guess often says windows-1250, which turns "après" into "aprčs".
_LEGACY_ENCODINGS = ["cp1252", "cp1256", "iso8859_6", "iso8859_15"]
# Encodings under which every byte decodes: a page in windows-1256 declared as ISO-8859-1 (old
# Arabic sites do this) decodes "successfully" into Latin mojibake, so such results are checked.
_LATIN_SINGLE_BYTE = frozenset({"cp1252", "iso8859-1", "latin-1", "iso8859-15", "cp1250", "cp1254"})
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_LATIN_HIGH_LETTER = re.compile(r"[\u00c0-\u00ff]")


@dataclass(frozen=True, slots=True)
class DecodedPage:
    """A body decoded to text, with the encoding used and where that choice came from."""

    text: str
    encoding: str
    source: EncodingSource


def decode_html(body: bytes, content_type: str | None) -> DecodedPage:
    """Decode an HTML body: BOM, then the header charset, then `<meta>`, then detection.

    A declared encoding that raises decoding errors is a lie (a page declared UTF-8 but saved in
    windows-1252), so detection takes over instead of filling the text with U+FFFD.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None and bom is not None:
        return DecodedPage(body[len(bom) :].decode(bom_encoding, "replace"), bom_encoding, "bom")

    utf8 = _decode_utf8(body)
    declared: list[tuple[str, EncodingSource]] = []
    if (header := http_content_type_encoding(content_type)) is not None:
        declared.append((header, "header"))
    if (meta := html_body_declared_encoding(body)) is not None:
        # HTML: a <meta> can only declare an ASCII-compatible encoding; "utf-16" there means UTF-8.
        declared.append(("utf-8" if meta.startswith("utf-16") else meta, "meta"))

    for encoding, source in declared:
        page = _try_declared(body, encoding, source, utf8)
        if page is not None:
            return page

    if utf8 is not None:
        # Valid UTF-8 with non-ASCII bytes is almost never another encoding by accident.
        return DecodedPage(utf8, "utf-8", "default" if body.isascii() else "detected")
    return _detect(body)


def _decode_utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _try_declared(
    body: bytes, encoding: str, source: EncodingSource, utf8: str | None
) -> DecodedPage | None:
    """Decode under a declared encoding, or return None when the bytes contradict it."""
    name = codecs.lookup(encoding).name
    if name == "utf-8":
        return None if utf8 is None else DecodedPage(utf8, name, source)
    if name in {"utf-16", "utf-32"}:
        name += "-be"
    if utf8 is not None and not body.isascii():
        # Servers still send "charset=ISO-8859-1" by default in front of UTF-8 pages.
        logger.debug("Declared %s (%s) but the body is UTF-8; using UTF-8", name, source)
        return DecodedPage(utf8, "utf-8", "detected")
    try:
        text = body.decode(name)
    except UnicodeDecodeError:
        logger.debug("Declared %s (%s) does not decode the body; detecting", name, source)
        return None
    if name in _LATIN_SINGLE_BYTE and _looks_like_mojibake(text):
        logger.debug("Declared %s (%s) yields mojibake; detecting", name, source)
        return None
    return DecodedPage(text, name, source)


def _looks_like_mojibake(text: str) -> bool:
    """True when Latin-1-range letters outnumber ASCII letters: no Latin-script language does that.

    French text has a few percent accented letters; Arabic decoded as windows-1252 is almost all
    of them ("ÇáÏÇÑ ÇáÈíÖÇÁ").
    """
    sample = _NON_TEXT_STR.sub(" ", text[:_DETECT_PREFIX])
    high = len(_LATIN_HIGH_LETTER.findall(sample))
    return high > 50 and high > len(_LATIN_LETTER.findall(sample)) // 4


def _detect(body: bytes) -> DecodedPage:
    prefix = body[:_DETECT_PREFIX]
    if len(body) > _DETECT_PREFIX:
        # Cut at a newline so a multi-byte character is not split at the edge of the sample.
        cut = prefix.rfind(b"\n")
        prefix = prefix[:cut] if cut > 0 else prefix
    sample = _SPACES.sub(b" ", _NON_TEXT.sub(b" ", prefix))
    # If every non-ASCII byte sits in markup, the stripped sample says nothing: use the prefix.
    sample = prefix if sample.isascii() else sample
    match = from_bytes(sample, cp_isolation=_LEGACY_ENCODINGS).best() or from_bytes(sample).best()
    if match is None:
        logger.debug("No encoding detected; decoding as UTF-8 with replacement characters")
        return DecodedPage(body.decode("utf-8", "replace"), "utf-8", "default")
    # WHATWG: ISO-8859-1 and ASCII labels mean windows-1252 (curly quotes, œ and € live there).
    encoding = resolve_encoding(match.encoding) or codecs.lookup(match.encoding).name
    return DecodedPage(body.decode(encoding, "replace"), encoding, "detected")


# C0 and C1 controls except \t and \n (\r is turned into \n first), DEL, lone surrogates (they
# cannot be encoded as UTF-8) and U+FEFF used as a stray BOM inside text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+$", re.MULTILINE)
_BLANK_RUN = re.compile(r"\n(?:[ \t\u00a0]*\n)+")


def clean_text(s: str) -> str:
    """Make text safe to store: no NUL or control characters (PostgreSQL rejects NUL), NFC, no
    trailing spaces, at most one blank line in a row, no leading or trailing blank lines."""
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _CONTROL.sub("", s)
    s = unicodedata.normalize("NFC", s)
    s = _TRAILING_SPACE.sub("", s)
    s = _BLANK_RUN.sub("\n\n", s)
    return s.strip()
