"""Tests for crawler.encoding: which encoding a body gets, and text cleaning for storage."""

from __future__ import annotations

import codecs
import dataclasses

import pytest

from crawler.encoding import DecodedPage, clean_text, decode_html

ARABIC = (
    "وقعت جهة الدار البيضاء سطات وجهة إيل دو فرانس خارطة طريق جديدة للتعاون اللامركزي "
    "تشمل التنمية الاقتصادية والتشغيل والتنقل والابتكار والبيئة والثقافة، إضافة إلى الدعم "
    "المؤسساتي وتبادل الخبرات بين الإدارتين خلال السنوات الثلاث المقبلة."
)
FRENCH = (
    "La Région de Casablanca-Settat et la Région Île-de-France ont signé mardi une feuille de "
    "route de coopération pour 2025-2027. L’accord, renouvelé après celui de décembre 2016, "
    "prévoit des échanges réguliers entre élus, agents territoriaux et entreprises ; « il "
    "faut des résultats concrets », a précisé la présidente. Créée en 2015, la région réunit "
    "neuf provinces et préfectures, dont El Jadida, Settat et Berrechid."
)


def _html(text: str, head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head>{head}<title>Actualité</title></head>"
        f"<body><article><h1>Coopération</h1><p>{text}</p><p>{text}</p></article></body></html>"
    )


def test_undeclared_windows_1256_is_detected() -> None:
    # Scrapy's fallback would decode this as windows-1252: "ÞÚÊ ÌåÉ ÇáÏÇÑ ÇáÈíÖÇÁ".
    page = decode_html(_html(ARABIC).encode("cp1256"), "text/html")
    assert page == DecodedPage(_html(ARABIC), "cp1256", "detected")


def test_undeclared_windows_1256_without_content_type() -> None:
    page = decode_html(_html(ARABIC).encode("cp1256"), None)
    assert (page.encoding, page.source) == ("cp1256", "detected")
    assert ARABIC in page.text


def test_declared_windows_1256_decodes_normally() -> None:
    html = _html(
        ARABIC, '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
    )
    page = decode_html(html.encode("cp1256"), "text/html")
    assert page == DecodedPage(html, "cp1256", "meta")


def test_header_charset_comes_before_meta() -> None:
    html = _html(ARABIC, '<meta charset="windows-1256">')
    page = decode_html(html.encode("cp1256"), "text/html; charset=Windows-1256")
    assert (page.encoding, page.source) == ("cp1256", "header")


def test_windows_1256_declared_as_latin_1_is_not_turned_into_mojibake() -> None:
    page = decode_html(_html(ARABIC).encode("cp1256"), "text/html; charset=ISO-8859-1")
    assert (page.encoding, page.source) == ("cp1256", "detected")
    assert ARABIC in page.text


@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_latin_body_declared_utf8_in_meta_is_detected(codec: str) -> None:
    html = _html(FRENCH.replace("’", "'"), '<meta charset="utf-8">')
    page = decode_html(html.encode(codec), None)
    assert page.source == "detected"
    assert "\ufffd" not in page.text
    assert "Île-de-France ont signé" in page.text


def test_cp1252_body_declared_utf8_in_header_is_detected() -> None:
    page = decode_html(_html(FRENCH).encode("cp1252"), "text/html; charset=utf-8")
    assert page == DecodedPage(_html(FRENCH), "cp1252", "detected")


def test_utf8_body_behind_a_default_latin_1_header_stays_utf8() -> None:
    page = decode_html(_html(FRENCH).encode(), "text/html; charset=ISO-8859-1")
    assert page == DecodedPage(_html(FRENCH), "utf-8", "detected")


def test_declared_utf8_is_the_fast_path() -> None:
    page = decode_html(_html(FRENCH).encode(), "text/html; charset=UTF-8")
    assert page == DecodedPage(_html(FRENCH), "utf-8", "header")


def test_declared_latin_1_french_is_trusted() -> None:
    html = _html(FRENCH.replace("’", "'"))
    page = decode_html(html.encode("latin-1"), "text/html; charset=iso-8859-1")
    # WHATWG: the ISO-8859-1 label means windows-1252.
    assert page == DecodedPage(html, "cp1252", "header")


def test_undeclared_utf8_is_recognised() -> None:
    page = decode_html(_html(ARABIC).encode(), None)
    assert page == DecodedPage(_html(ARABIC), "utf-8", "detected")


def test_ascii_without_declaration_is_the_default() -> None:
    page = decode_html(b"<html><body><p>Oujda</p></body></html>", None)
    assert page == DecodedPage("<html><body><p>Oujda</p></body></html>", "utf-8", "default")


@pytest.mark.parametrize(
    ("bom", "codec", "name"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    ],
)
def test_bom_wins_over_declarations_and_is_stripped(bom: bytes, codec: str, name: str) -> None:
    html = _html(FRENCH, '<meta charset="windows-1252">')
    page = decode_html(bom + html.encode(codec), "text/html; charset=ISO-8859-1")
    assert page == DecodedPage(html, name, "bom")


def test_unknown_declared_charset_is_ignored() -> None:
    page = decode_html(_html(FRENCH).encode(), "text/html; charset=x-no-such-thing")
    assert (page.encoding, page.text) == ("utf-8", _html(FRENCH))


def test_binary_garbage_does_not_raise() -> None:
    page = decode_html(bytes(range(256)) * 4, "text/html")
    assert isinstance(page.text, str)


def test_decoded_page_is_frozen() -> None:
    page = decode_html(b"<html></html>", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.encoding = "cp1252"  # type: ignore[misc]


# --- clean_text ----------------------------------------------------------------------------


def test_clean_text_removes_nul_and_controls_but_keeps_newlines_and_tabs() -> None:
    assert clean_text("Ouj\x00da\x07\x1b\x7f\x85\x9f\tRabat\nFès") == "Oujda\tRabat\nFès"


def test_clean_text_normalises_to_nfc() -> None:
    decomposed = "Fe\u0300s et Me\u0301knes"
    assert clean_text(decomposed) == "Fès et Méknes"


def test_clean_text_collapses_blank_line_runs_and_trailing_space() -> None:
    raw = "\n\n  Titre  \r\n\r\n\r\n \t \nPremier paragraphe.   \n\n\n\nSecond.\u00a0\n\n"
    assert clean_text(raw) == "Titre\n\nPremier paragraphe.\n\nSecond."


def test_clean_text_removes_lone_surrogates_and_stray_bom() -> None:
    assert clean_text("\ufeffTanger\ud800 Med") == "Tanger Med"


def test_clean_text_keeps_arabic_and_typography() -> None:
    text = "« جهة طنجة تطوان الحسيمة » — l’accord"
    assert clean_text(text) == text
