"""Text normalisation and hashing for duplicate detection: pure functions, no database.

The extraction workers hash and sign each article with these (`storage.prepare`), so this module
imports nothing heavier than the standard library.
"""

from __future__ import annotations

import hashlib
import unicodedata

_TATWEEL = "\u0640"  # Arabic elongation stroke: typographic only, sites add or drop it freely


class _NormalisationTable(dict[int, str]):
    """A `str.translate` table filled on first sight of each code point.

    `str.translate` consults `__missing__`, so the per-character Unicode lookup runs once per
    distinct character instead of once per character of every article.
    """

    def __missing__(self, code_point: int) -> str:
        char = chr(code_point)
        category = unicodedata.category(char)
        if char == _TATWEEL or category == "Cf":
            # Format characters (soft hyphen, zero-width joiners, bidi marks) sit inside words.
            replacement = ""
        elif category[0] in "PZ" or category == "Cc":
            # Punctuation and separators become spaces: "l’Agence" and "l'Agence", or
            # "Casablanca-Settat" and "Casablanca - Settat", normalise to the same words.
            replacement = " "
        else:
            replacement = char
        self[code_point] = replacement
        return replacement


_TABLE = _NormalisationTable()


def normalize_text(text: str) -> str:
    """Reduce `text` to its words, so that edits of spacing, quotes or dashes do not matter.

    NFKC folds compatibility forms (ligatures, full-width digits, Arabic presentation forms),
    casefold handles case, punctuation is dropped and whitespace collapsed to single spaces.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.translate(_TABLE).split())


def content_hash(text: str) -> str:
    """The SHA-256 hex digest of the normalised text: equal for trivially edited copies."""
    return hash_normalized(normalize_text(text))


def hash_normalized(normalized: str) -> str:
    """`content_hash` of a text already passed through `normalize_text`."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()
