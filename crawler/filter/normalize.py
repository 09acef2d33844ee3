"""Case, accent and Arabic-form folding, applied alike to article text and to rule terms.

Folding maps each character on its own, so offsets stay close to the original text: lower case;
accents, harakat and hamza marks dropped (أ إ آ ٱ → ا, ؤ → و, ئ → ي); ة → ه, ى → ي; hyphens,
apostrophes, quotes and brackets become spaces, so a word starts after a space, a line break or a
punctuation mark (the engine's scan relies on it). The second half of the module turns terms into
atoms, where French elision and the Arabic article and prefixes are handled.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

# Characters that separate words the way a space does: a phrase written "Casablanca-Settat"
# matches "Casablanca Settat", and "l’État" becomes "l etat" so the term "État" is found.
_SPACE_LIKE = (
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphens and dashes
    "'\u2018\u2019\u201a\u201b\u02bc\u02bb`\u00b4\u2032"  # apostrophes
    '"\u00ab\u00bb\u201c\u201d\u201e\u201f\u2039\u203a'  # quotes and guillemets
    "\t\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u3000"  # spaces
    "()[]{}/\\|\u2022\u00b7"  # brackets, slashes, bullets: "(CRI)" holds the word "cri"
)
_LINE_BREAKS = "\r\u2028\u2029\x0b\x0c\x85"
# Invisible characters that may split a word: soft hyphen, zero-width marks, Arabic tatweel.
_DROPPED = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u0640"
_SPECIAL: dict[str, str] = {
    "\u0629": "\u0647",  # ta marbuta → ha
    "\u0649": "\u064a",  # alef maqsura → ya
    "\u0671": "\u0627",  # alef wasla → alef (أ إ آ lose their hamza/madda through NFKD)
    "\u06cc": "\u064a",  # Persian ya → ya
    "\u06a9": "\u0643",  # keheh → kaf
    "\u0153": "oe",
    "\u00e6": "ae",
    "\u00df": "ss",
    "\u00f8": "o",
    "\u0142": "l",
    "\u0111": "d",
    "\u0131": "i",
    "\u00f0": "d",
    "\u00fe": "th",
}
_SPECIAL.update(dict.fromkeys(_SPACE_LIKE, " "))
_SPECIAL.update(dict.fromkeys(_LINE_BREAKS, "\n"))
_SPECIAL.update(dict.fromkeys(_DROPPED, ""))


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """The folded form of one character: the definition every fast path must agree with."""
    out = []
    # NFKD before and after lowering: "™" only becomes "tm" if decomposed first.
    lowered = unicodedata.normalize("NFKD", char).lower()
    for part in unicodedata.normalize("NFKD", lowered):
        mapped = _SPECIAL.get(part)
        if mapped is not None:
            out.append(mapped)
        elif unicodedata.category(part) == "Mn":  # accents, harakat, hamza/madda marks
            continue
        elif part.isdigit() and not part.isascii():
            out.append(str(unicodedata.digit(part, 0)))
        else:
            out.append(part)
    return "".join(out)


class _FoldTable(dict[int, str]):
    """A `str.translate` table that folds any character on first sight."""

    def __missing__(self, code: int) -> str:
        folded = fold_char(chr(code))
        self[code] = folded
        return folded


_GENERAL_TABLE = _FoldTable()


class _CodepageFolder:
    """Folds texts that fit in one 8-bit code page with `bytes.translate`: measured 15x faster
    than `str.translate` on non-ASCII text. Characters whose folded form does not fit in one
    byte keep their byte and are fixed afterwards with `str.replace` (œ → oe is common)."""

    def __init__(self, codepage: str) -> None:
        self.codepage = codepage
        table = bytearray(range(256))
        delete = bytearray()
        fixups: list[tuple[str, str]] = []
        for byte in range(256):
            try:
                char = bytes([byte]).decode(codepage)
            except UnicodeDecodeError:
                continue  # never produced by encoding
            folded = fold_char(char)
            if folded == "":
                delete.append(byte)
                continue
            try:
                encoded = folded.encode(codepage)
            except UnicodeEncodeError:
                encoded = b""
            if len(encoded) == 1:
                table[byte] = encoded[0]
            else:
                fixups.append((char, folded))
        self.table = bytes(table)
        self.delete = bytes(delete)
        self.fixups = tuple(fixups)

    def fold(self, text: str) -> str | None:
        """The folded text, or None when the text does not fit in this code page."""
        try:
            data = text.encode(self.codepage)
        except UnicodeEncodeError:
            return None
        folded = data.translate(self.table, self.delete).decode(self.codepage)
        for char, replacement in self.fixups:
            if char in folded:
                folded = folded.replace(char, replacement)
        return folded


# Western European first (French, English, Spanish), then Arabic (which also holds é è à ç).
_FOLDERS = (_CodepageFolder("cp1252"), _CodepageFolder("cp1256"))


def normalize_text(text: str) -> str:
    """Fold a text for matching: lower case, no accents or harakat, unified Arabic letters.

    The result has the same words in the same order; only characters change (one may become
    zero or two characters), so positions in it stay close to positions in `text`.
    """
    if text.isascii():
        return _fold_ascii(text)
    for folder in _FOLDERS:
        folded = folder.fold(text)
        if folded is not None:
            return folded
    return text.translate(_GENERAL_TABLE)


def normalize_slow(text: str) -> str:
    """The reference implementation of `normalize_text`, one character at a time (for tests)."""
    return "".join(fold_char(char) for char in text)


_ASCII_TABLE = bytes(
    ord(folded) if byte < 128 and len(folded := fold_char(chr(byte))) == 1 else byte
    for byte in range(256)
)
_ASCII_DELETE = bytes(byte for byte in range(128) if fold_char(chr(byte)) == "")


def _fold_ascii(text: str) -> str:
    return text.encode("ascii").translate(_ASCII_TABLE, _ASCII_DELETE).decode("ascii")


def is_arabic(char: str) -> bool:
    """True for letters of the Arabic script (where the article and prefixes attach to words)."""
    return "\u0600" <= char <= "\u06ff" or "\u0750" <= char <= "\u077f"


# ---------------------------------------------------------------------------------------------
# Terms. A term is folded like text, then split into atoms: single literal characters plus the
# few special atoms below, which the engine merges into one trie-shaped regular expression.

SEP = "\x00sep"  # between two words: one or more spaces (hyphens and quotes are spaces by now)
WILD = "\x00wild"  # "coopér*": the rest of the word
DE = "\x00de"  # French "de": also d', du, des, de la, de l'
ARTICLE = "\x00art"  # French article inside a term: optional, any of le, la, les, l'
AR_PREFIX = "\x00ar"  # before an Arabic word: optional و ف, then ب ك ل and/or the article ال
AR_OPT_ARTICLE = "\x00aropt"  # before a later Arabic word: the article is optional
REF = "\x00ref"  # where a "<gazetteer>" reference stands; see `split_template`

ATOM_REGEX: dict[str, str] = {
    SEP: " +",
    WILD: r"\w*",
    DE: "d(?:e(?: +la| +l)?|u|es)?",
    ARTICLE: "(?:(?:les|le|la|l) +)?",
    # The lookahead makes a Latin word fail at once instead of exploring the Arabic branch.
    # One optional prefix for every Arabic term (the article is never required) keeps the
    # backtracking to two passes over the Arabic trie per word: measured twice as fast as
    # separate branches for terms written with and without ال.
    AR_PREFIX: "(?=[\u0600-\u06ff])(?:[وف]?(?:لل|[بك]?ال|[بكل])?)",
    AR_OPT_ARTICLE: "(?:ال)?",
}
AR_PREFIX_LONGEST = 4  # what AR_PREFIX matches is at most 4 letters: و or ف, then بال or كال
_FRENCH_DE = frozenset({"de", "d", "du", "des"})
_FRENCH_ARTICLES = frozenset({"le", "la", "les", "l"})
_AR_AL = "\u0627\u0644"  # ال
_REF_WORD = re.compile(r"^<[^<>\s]+>$")
MIN_WILDCARD_STEM = 3

Expansion = tuple[str, ...]


def term_atoms(term: str) -> Expansion:
    """The atoms of one term; a "<gazetteer>" word becomes REF. ValueError says what is wrong.

    French: "de"/"d'"/"du"/"des" match one another, and an article inside a term is optional
    ("conseil de la région" matches "conseil de région"); leading and trailing articles are
    dropped. Arabic: the article ال is optional on every word, whether the term writes it or
    not, and the first word may also carry و ف ب ك ل (so "جهة" matches "والجهة" and "للجهة").
    """
    words = normalize_text(term).split()
    while words and words[0] in _FRENCH_ARTICLES:
        words.pop(0)
    while words and words[-1] in _FRENCH_ARTICLES:
        words.pop()
    if not words:
        raise ValueError("the term is empty once folded")
    atoms: list[str] = []
    for index, word in enumerate(words):
        if index > 0 and atoms[-1] != ARTICLE:
            atoms.append(SEP)
        inner = 0 < index < len(words) - 1
        if _REF_WORD.match(word):
            atoms.append(REF)
        elif inner and word in _FRENCH_DE:
            atoms.append(DE)
        elif inner and word in _FRENCH_ARTICLES:
            if atoms[-2:] != [DE, SEP]:
                atoms.append(ARTICLE)
            else:
                atoms.pop()  # "de la": DE already covers the article and its space
        else:
            atoms.extend(_word_atoms(word, first=index == 0))
    return tuple(atoms)


def _word_atoms(word: str, *, first: bool) -> list[str]:
    stem, wild = word, False
    if "*" in word:
        if word.count("*") > 1 or not word.endswith("*"):
            raise ValueError(f"{word!r}: '*' may only end a word, as in 'coopér*'")
        stem, wild = word[:-1], True
        if len(stem) < MIN_WILDCARD_STEM:
            raise ValueError(
                f"{word!r}: a wildcard needs at least {MIN_WILDCARD_STEM} letters before '*'"
            )
    atoms: list[str] = []
    if is_arabic(stem[0]):
        if stem.startswith(_AR_AL) and len(stem) > len(_AR_AL) + 1:
            stem = stem[len(_AR_AL) :]
        atoms.append(AR_PREFIX if first else AR_OPT_ARTICLE)
    atoms.extend(stem)
    if wild:
        atoms.append(WILD)
    return atoms


def split_template(atoms: Expansion) -> tuple[Expansion, Expansion]:
    """The atoms before and after the reference of a term like "État de <us_states>".

    The engine finds the two parts and the place name separately and checks that they are
    adjacent, so each place is compiled once rather than once per term that mentions it.
    """
    index = atoms.index(REF)
    prefix, suffix = list(atoms[:index]), list(atoms[index + 1 :])
    while prefix and prefix[-1] in (SEP, ARTICLE):
        prefix.pop()
    while suffix and suffix[0] in (SEP, ARTICLE):
        suffix.pop(0)
    return tuple(prefix), tuple(suffix)


def pieces_regex(pieces: list[Expansion]) -> str:
    """One regular expression for many atom sequences, shaped as a trie so that the regex
    engine follows a single branch per letter instead of trying every term in turn."""
    root: dict[str, Any] = {}
    for piece in pieces:
        node = root
        for atom in piece:
            node = node.setdefault(atom, {})
        node[""] = {}
    return _serialize(root)


def _serialize(node: dict[str, Any]) -> str:
    alternatives = []
    for atom in sorted(key for key in node if key):
        piece = ATOM_REGEX.get(atom) or re.escape(atom)
        alternatives.append(piece + _serialize(node[atom]))
    if "" in node:
        alternatives.append(r"(?!\w)")  # a term ends at the end of a word
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"
