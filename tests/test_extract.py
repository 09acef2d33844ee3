"""Tests for crawler.extract: golden pages in tests/data/extract/ plus focused unit cases.

Each golden case is `<name>.html` (bytes as served) next to `<name>.json` holding the request
("input"), hand-written strings that must never reach the text ("must_not_contain"), and the
recorded result ("expected"). After an intended change, regenerate "expected" with
`python tests/data/extract/refresh.py` and review the diff.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.encoding import decode_html
from crawler.errors import ExtractionError
from crawler.extract import ExtractedArticle, _guess_language, build_extractor, extract_article

CASES_DIR = Path(__file__).parent / "data" / "extract"
CASES = sorted(path.stem for path in CASES_DIR.glob("*.html"))
EXTRACTOR = build_extractor()


def observe(name: str) -> tuple[dict[str, Any], ExtractedArticle | None]:
    """Run a golden case: decode its bytes, extract, and summarise what came out."""
    case = load_case(name)
    page = decode_html((CASES_DIR / f"{name}.html").read_bytes(), case["input"]["content_type"])
    summary: dict[str, Any] = {"encoding": page.encoding, "encoding_source": page.source}
    try:
        article = extract_article(
            page.text,
            case["input"]["url"],
            extractor=EXTRACTOR,
            language_hint=case["input"]["language_hint"],
        )
    except ExtractionError as error:
        return summary | {"error": error.reason}, None
    published = article.published_at.isoformat() if article.published_at else None
    return summary | {
        "title": article.title,
        "published_at": published,
        "author": article.author,
        "language": article.language,
        "canonical_url": article.canonical_url,
        "description": article.description,
        "text_chars": len(article.text),
        "text_start": article.text[:80],
        "text_end": article.text[-80:],
    }, article


def load_case(name: str) -> dict[str, Any]:
    path = CASES_DIR / f"{name}.json"
    if not path.exists():
        return {"input": {"url": "", "content_type": None, "language_hint": None}}
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def test_golden_cases_exist() -> None:
    missing = [name for name in CASES if not (CASES_DIR / f"{name}.json").exists()]
    assert not missing, f"run `python tests/data/extract/refresh.py` to record {missing}"
    assert len(CASES) >= 6


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    case = load_case(name)
    observed, _ = observe(name)
    assert observed == case["expected"], (
        "extraction changed; if intended, run `python tests/data/extract/refresh.py` and review"
    )


@pytest.mark.parametrize("name", CASES)
def test_golden_keeps_boilerplate_out(name: str) -> None:
    _, article = observe(name)
    if article is None:
        return
    for unwanted in load_case(name).get("must_not_contain", []):
        assert unwanted not in article.text, f"{unwanted!r} leaked into the text of {name}"
        assert unwanted not in article.title


def _article(name: str, **kwargs: Any) -> ExtractedArticle:
    case = load_case(name)
    page = decode_html((CASES_DIR / f"{name}.html").read_bytes(), case["input"]["content_type"])
    return extract_article(page.text, case["input"]["url"], extractor=EXTRACTOR, **kwargs)


def test_repeated_paragraph_is_kept_once() -> None:
    text = _article("fr_wordpress").text
    assert text.count("Le deuxième axe concerne les coopératives agricoles") == 1


def test_title_is_not_repeated_as_first_line() -> None:
    article = _article("jsonld_dates")
    assert not article.text.startswith(article.title)


def test_json_ld_article_date_wins_over_website_date() -> None:
    # The WebSite node says 2011; trafilatura's own date picks it up.
    assert _article("jsonld_dates").published_at == datetime(2024, 12, 13, 18, 45, tzinfo=UTC)


def test_time_element_refines_a_day_only_date() -> None:
    assert _article("ar_rtl").published_at == datetime(2024, 11, 23, 14, 5, tzinfo=UTC)


def test_date_only_becomes_midnight_utc() -> None:
    published = _article("en_article").published_at
    assert published == datetime(2025, 6, 18, tzinfo=UTC)
    assert published is not None
    assert published.utcoffset() is not None


def test_wrong_declared_language_is_overridden_by_the_text() -> None:
    # The page says lang="en-US" (a theme default) but is written in French.
    assert _article("fr_mislabeled_cp1252").language == "fr"


def test_relative_canonical_is_made_absolute() -> None:
    canonical = _article("ar_rtl").canonical_url
    assert (
        canonical
        == "https://alchamal.example/regions/2024/11/23/tanger-andalousie-commission-mixte.html"
    )


def test_extractor_is_reusable_and_not_mutated() -> None:
    extractor = build_extractor()
    page = (CASES_DIR / "fr_wordpress.html").read_text(encoding="utf-8")
    first = extract_article(page, "https://a.example/1", extractor=extractor)
    second = extract_article(page, "https://a.example/2", extractor=extractor)
    assert first == second
    assert extractor.url is None


def test_article_is_frozen() -> None:
    article = _article("en_article")
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.title = "x"  # type: ignore[misc]


# --- pages that are not articles -----------------------------------------------------------

ARTICLE_BODY = " ".join(
    f"La commune de Chefchaouen et la ville de Vejer de la Frontera ont tenu leur réunion {n}."
    for n in range(12)
)


def _page(body: str, head: str = "<title>Jumelage</title>") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    "content",
    [
        "%PDF-1.7\n%âãÏÓ\n1 0 obj << /Type /Catalog >> endobj",
        '{"articles": [{"title": "Jumelage"}]}',
        (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>x</title>'
            "<item><title>Jumelage</title></item></channel></rss>"
        ),
        (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>https://a.example/</loc></url></urlset>"
        ),
        "",
        "just some plain text without any markup at all",
    ],
    ids=["pdf", "json", "rss", "sitemap", "empty", "plain-text"],
)
def test_not_html_is_rejected(content: str) -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_article(content, "https://a.example/x", extractor=EXTRACTOR)
    assert caught.value.reason == "not HTML"
    assert caught.value.url == "https://a.example/x"


def test_xhtml_with_xml_declaration_is_html() -> None:
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + _page(
        f"<article><p>{ARTICLE_BODY}</p></article>"
    )
    article = extract_article(html, "https://a.example/x", extractor=EXTRACTOR)
    assert article.text.startswith("La commune de Chefchaouen")


def test_php_warning_before_doctype_is_still_html() -> None:
    html = "<b>Warning</b>: Undefined variable $x in /var/www/index.php on line 3\n" + _page(
        f"<article><p>{ARTICLE_BODY}</p></article>"
    )
    assert extract_article(html, "https://a.example/x", extractor=EXTRACTOR).text


def test_page_without_text_is_rejected() -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_article(_page("<div><img src='a.jpg'></div>"), "https://a.example/x")
    assert caught.value.reason == "no article text"


def test_short_text_reason_says_how_long() -> None:
    html = _page(f"<article><p>{ARTICLE_BODY}</p></article>")
    with pytest.raises(ExtractionError) as caught:
        extract_article(html, "https://a.example/x", extractor=EXTRACTOR, min_text_chars=5000)
    assert caught.value.reason == f"text too short ({len(ARTICLE_BODY)} chars)"


def test_minimal_article_and_absent_metadata() -> None:
    article = extract_article(
        _page(f"<article><p>{ARTICLE_BODY}</p></article>"),
        "https://a.example/x",
        extractor=EXTRACTOR,
    )
    assert article.title == "Jumelage"
    assert article.canonical_url is None
    assert article.published_at is None
    assert article.language == "fr"  # from the stopwords: nothing is declared


FRENCH = "Le conseil de la région et la ville de Séville ont signé une convention pour les jeunes. "
ARABIC = "وقع مجلس جهة الشرق اتفاقية شراكة مع جهة الأندلس في مجال الماء والتكوين. "


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (FRENCH * 3, "fr"),
        (FRENCH * 3 + ARABIC, "fr"),  # an Arabic quote in a French story
        (ARABIC * 3 + FRENCH, "ar"),  # Arabic letters are more than half of all the letters
        (ARABIC + FRENCH, None),  # a little less than half: neither, by script or stopwords
        ("Rabat 2026 : 12,5 % ; 3 400 MDH. " * 20, None),  # under 50 letters
        ("Séville " * 6, None),  # 48 letters
        ("Séville " * 7, None),  # 56 letters, but no stopwords
    ],
)
def test_the_language_guess(text: str, language: str | None) -> None:
    assert _guess_language(text) == language


def test_language_hint_is_the_last_resort() -> None:
    body = "<article><p>" + " ".join(["Chefchaouen 2025 Vejer 2026."] * 30) + "</p></article>"
    article = extract_article(_page(body), "https://a.example/x", language_hint="es-ES")
    assert article.language == "es"


def test_control_characters_are_removed_from_the_text() -> None:
    html = _page(f"<article><p>{ARTICLE_BODY}\x00\x85 fin.</p></article>")
    text = extract_article(html, "https://a.example/x", extractor=EXTRACTOR).text
    assert "\x00" not in text
    assert "\x85" not in text


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        (
            '<meta property="article:published_time" content="2025-01-05T23:30:00-05:00">',
            datetime(2025, 1, 6, 4, 30, tzinfo=UTC),
        ),
        (
            '<meta property="article:published_time" content="2025-01-05T10:00:00">',
            datetime(2025, 1, 5, 10, tzinfo=UTC),
        ),
        (
            '<meta name="date" content="Sun, 05 Jan 2025 10:00:00 +0100">',
            datetime(2025, 1, 5, 9, tzinfo=UTC),
        ),
        ('<meta itemprop="datePublished" content="2025-01-05">', datetime(2025, 1, 5, tzinfo=UTC)),
        ('<meta property="article:published_time" content="1970-01-01T00:00:00Z">', None),
        ('<meta property="article:published_time" content="not a date">', None),
    ],
    ids=["offset", "naive-is-utc", "rfc2822", "day-only", "implausible", "garbage"],
)
def test_publication_date_sources(meta: str, expected: datetime | None) -> None:
    html = _page(f"<article><p>{ARTICLE_BODY}</p></article>", head=f"<title>J</title>{meta}")
    article = extract_article(html, "https://a.example/x", extractor=EXTRACTOR)
    assert article.published_at == expected


def test_wrapper_named_sidebar_holding_the_article_is_kept() -> None:
    # Genesis-style themes wrap content and sidebar together; the title here is no <h1>.
    body = (
        '<div class="content-sidebar-wrap"><main class="content"><h2>Jumelage</h2>'
        f'<div class="entry-content"><p>{ARTICLE_BODY}</p></div></main>'
        '<aside class="sidebar"><ul class="most-read"><li><a href="/a">Une autre histoire'
        " sans aucun rapport avec le jumelage</a></li></ul></aside></div>"
    )
    article = extract_article(_page(body), "https://a.example/x", extractor=EXTRACTOR)
    assert article.text.endswith("réunion 11.")
    assert "Une autre histoire" not in article.text


def test_other_stories_after_the_closing_html_tag_are_pruned_too() -> None:
    # Broken templates print widgets after </html>: the parser makes them a second top-level
    # element, outside the root, where the date and canonical lookups still look.
    html = (
        '<html lang="fr"><head><title>Jumelage</title>'
        '<meta property="article:published_time" content="2026-03-02"></head>'
        f"<body><article><h1>Jumelage</h1><p>{ARTICLE_BODY}</p></article></body></html>"
        '<div class="recent-posts"><a href="/b">Un autre jumelage</a>'
        '<time datetime="2026-03-02T17:45:00+00:00">2 mars</time>'
        '<link rel="canonical" href="https://a.example/un-autre-jumelage"></div>'
    )
    article = extract_article(html, "https://a.example/x", extractor=EXTRACTOR)
    assert article.published_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert article.canonical_url is None


def test_undeclared_arabic_is_recognised_by_its_script() -> None:
    arabic = "وقعت جماعة شفشاون وبلدية فيخير دي لا فرونتيرا اتفاقية توأمة جديدة. " * 12
    html = _page(f"<article><p>{arabic}</p></article>")
    article = extract_article(html, "https://a.example/x", extractor=EXTRACTOR, language_hint="fr")
    assert article.language == "ar"
