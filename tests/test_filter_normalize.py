"""Folding of text and terms: case, accents, Arabic forms, separators, term atoms."""

from __future__ import annotations

import random

import pytest

from crawler.filter.normalize import (
    AR_OPT_ARTICLE,
    AR_PREFIX,
    ARTICLE,
    DE,
    REF,
    SEP,
    WILD,
    normalize_slow,
    normalize_text,
    split_template,
    term_atoms,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Coopération DÉCENTRALISÉE", "cooperation decentralisee"),
        ("Île-de-France", "ile de france"),
        ("Casablanca–Settat", "casablanca settat"),  # en dash
        ("l’État", "l etat"),  # typographic apostrophe
        ("d'Ifrane", "d ifrane"),
        ("« Jour du Maroc »", "  jour du maroc  "),
        ("“Morocco Day”", " morocco day "),
        ("mise en œuvre", "mise en oeuvre"),
        ("(CRI)", " cri "),
        ("Ünïcödé İstanbul", "unicode istanbul"),
        ("١٢٣", "123"),
    ],
)
def test_folding_latin_and_separators(text, folded):
    assert normalize_text(text) == folded


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("أإآٱ", "اااا"),  # alef forms
        ("جهة", "جهه"),  # ta marbuta
        ("على", "علي"),  # alef maqsura
        ("التَّعَاوُنُ", "التعاون"),  # harakat
        ("تـــعاون", "تعاون"),  # tatweel
    ],
)
def test_folding_arabic(text, folded):
    assert normalize_text(text) == folded


def test_folding_keeps_line_breaks_and_word_order():
    assert normalize_text("Un\r\nDeux\tTrois") == "un\n\ndeux trois"


def _codepage_chars(codepage: str) -> list[str]:
    chars = []
    for byte in range(256):
        try:
            chars.append(bytes([byte]).decode(codepage))
        except UnicodeDecodeError:
            continue
    return chars


@pytest.mark.parametrize("codepage", ["cp1252", "cp1256"])
def test_fast_paths_agree_with_the_reference(codepage):
    chars = _codepage_chars(codepage)
    assert normalize_text("".join(chars)) == normalize_slow("".join(chars))
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice(chars) for _ in range(30))
        assert normalize_text(text) == normalize_slow(text)


def test_text_outside_the_code_pages_takes_the_general_path():
    text = "Şanlıurfa ✓ Région Łódź – التعاون"
    assert normalize_text(text) == normalize_slow(text) == "sanliurfa ✓ region lodz   التعاون"


def _show(atoms):
    return "".join(atom if len(atom) == 1 else f"[{atom.strip(chr(0))}]" for atom in atoms)


@pytest.mark.parametrize(
    ("term", "shown"),
    [
        ("Conseil régional", "conseil[sep]regional"),
        ("conseil de la région", "conseil[sep][de][sep]region"),  # "de la" is one DE atom
        ("ville d'Alexandrie", "ville[sep][de][sep]alexandrie"),
        ("la ville la plus", "ville[sep][art]plus"),  # leading article dropped, inner optional
        ("coopér*", "cooper[wild]"),
        ("جهة", "[ar]جهه"),
        ("الدار البيضاء", "[ar]دار[sep][aropt]بيضاء"),
        ("État de <us_states>", "etat[sep][de][sep][ref]"),
    ],
)
def test_term_atoms(term, shown):
    assert _show(term_atoms(term)) == shown


def test_special_atoms_are_distinct_from_letters():
    assert len({SEP, WILD, DE, ARTICLE, AR_PREFIX, AR_OPT_ARTICLE, REF}) == 7
    assert all(len(atom) > 1 for atom in (SEP, WILD, DE, ARTICLE, AR_PREFIX, REF))


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("co*", "at least 3 letters"),
        ("co*op", "may only end a word"),
        ("coop**", "may only end a word"),
        ("l'", "empty"),
    ],
)
def test_bad_terms(term, message):
    with pytest.raises(ValueError, match=message):
        term_atoms(term)


def test_split_template():
    prefix, suffix = split_template(term_atoms("président de la région <x> au Maroc"))
    assert _show(prefix) == "president[sep][de][sep]region"
    assert _show(suffix) == "au[sep]maroc"
    assert split_template(term_atoms("<x>")) == ((), ())
