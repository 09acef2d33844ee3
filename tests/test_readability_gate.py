"""Tests for crawler.readability_gate: the crawl's extraction is the same with and without it.

The pages are the golden pages, bulk benchmark pages and every page of the local news site, plus
a page built to push readability's text towards the bound (scripts, video iframes, loose div
text, comments, non-breaking spaces).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from copy import copy
from typing import TYPE_CHECKING

import lxml.html
import pytest
import trafilatura
import trafilatura.core
import trafilatura.external
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.utils import trim
from trafilatura.xpaths import OVERALL_DISCARD_XPATH

from crawler import readability_gate
from crawler.encoding import decode_html
from crawler.errors import ExtractionError
from crawler.extract import ExtractedArticle, build_extractor, extract_article
from tests.extraction_pages import (
    CONTROL_PAGE,
    GOLDEN,
    HEAVY_PAGE,
    PACKED_PAGE,
    RAW_TEXT_ELEMENTS,
    all_pages,
    raw_text_page,
)
from tests.site.server import render_bulk_page

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.site.plugin import NewsSite


@contextmanager
def ungated() -> Iterator[None]:
    """trafilatura's own comparison, as if the gate had never been installed: `install()` then
    reports that it does not apply, so `build_extractor` builds a plain extractor."""
    assert readability_gate.install()
    gated = trafilatura.core.compare_extraction  # type: ignore[attr-defined]
    install = readability_gate.install
    trafilatura.core.compare_extraction = gated.__wrapped__  # type: ignore[attr-defined]
    readability_gate.install = lambda: False  # type: ignore[assignment]
    try:
        yield
    finally:
        trafilatura.core.compare_extraction = gated  # type: ignore[attr-defined]
        readability_gate.install = install  # type: ignore[assignment]


def extract(url: str, html: str) -> ExtractedArticle | str:
    try:
        return extract_article(html, url, extractor=build_extractor())
    except ExtractionError as error:
        return error.reason


def readability_text(tree: lxml.html.HtmlElement) -> str:
    summary = trafilatura.external.try_readability(tree)
    return trim(lxml.html.tostring(summary, method="text", encoding=str))


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The gate's decisions (True: readability skipped), recorded as it makes them."""
    made: list[bool] = []
    decide = readability_gate.readability_cannot_win

    def recording(*args: object) -> bool:
        made.append(decide(*args))  # type: ignore[arg-type]
        return made[-1]

    monkeypatch.setattr(readability_gate, "readability_cannot_win", recording)
    return made


def test_extraction_is_the_same_with_and_without_the_gate(
    news_site: NewsSite, decisions: list[bool]
) -> None:
    pages = all_pages(news_site)
    with ungated():
        expected = [extract(url, html) for url, html in pages]
    assert decisions == []  # the gate was out of the way
    for (url, html), before in zip(pages, expected, strict=True):
        assert extract(url, html) == before, url
    # Not vacuous: most pages skipped readability, and some ran it.
    assert len(pages) > 100
    assert sum(decisions) > 0.8 * len(decisions)
    assert not all(decisions)


def test_the_bound_covers_readabilitys_text_on_every_page(news_site: NewsSite) -> None:
    for url, html in all_pages(news_site):
        tree = trafilatura.load_html(html)
        if tree is None:
            continue
        bound = readability_gate.readability_text_bound(tree)
        if bound is None:
            continue
        tightened = readability_gate.readability_text_bound(tree, limit=0)
        assert tightened is not None
        assert tightened <= bound
        pruned = prune_unwanted_nodes(copy(tree), OVERALL_DISCARD_XPATH)
        for candidate in (copy(tree), pruned):
            assert len(readability_text(candidate)) <= tightened, url


def furniture_text_by_ancestors(tree: lxml.html.HtmlElement) -> int:
    """`_unlikely_text` as first written (on `tree`'s subtree): every element with a class or id,
    in document order, tested against the blocks already dropped among its ancestors."""
    dropped: set[lxml.html.HtmlElement] = set()
    removed = 0
    for element in tree.xpath("descendant-or-self::*[@class or @id]"):
        attributes = " ".join(filter(None, (element.get("class"), element.get("id"))))
        if len(attributes) < 2 or element.tag in ("html", "body"):
            continue
        lowered = attributes.lower()
        unlikely = readability_gate._UNLIKELY.search(lowered)
        if not unlikely or readability_gate._MAYBE.search(lowered):
            continue
        if any(up in dropped for up in element.iterancestors()):
            continue
        dropped.add(element)
        text = lxml.html.tostring(element, method="text", encoding=str, with_tail=False)
        removed += len(" ".join(text.split()))
        for script in element.iter("script", "style"):
            words = " ".join((script.text or "").split())
            removed -= len(words) + 1 if words else 0
    return removed


# Comments inside dropped and kept blocks (lxml's own parser keeps them, trafilatura's drops
# them), and a long menu after </html>, which the parser makes a second top-level element.
TRAILING_MENU_PAGE = (
    """<!DOCTYPE html><html><head><title>Agadir</title></head><body>
<div id="main"><!-- une --><p>"""
    + "Le conseil communal d'Agadir a adopté la convention de jumelage. " * 18
    + """</p></div>
<div class="sidebar"><!-- pub --><p>Les plus lus</p>
<div class="menu">Accueil Régions</div><script>var x = "a b";</script></div>
</body></html><nav class="footer-menu">"""
    + "Contact Publicité Mentions légales Plan du site " * 45
    + "</nav>\n"
)


def test_the_furniture_walk_measures_what_the_ancestor_test_measured(
    news_site: NewsSite,
) -> None:
    pages = [*all_pages(news_site), ("https://trailing.example/", TRAILING_MENU_PAGE)]
    for url, html in pages:
        for tree in (trafilatura.load_html(html), lxml.html.fromstring(html)):
            if tree is not None:
                walked = readability_gate._unlikely_text(tree)
                assert walked == furniture_text_by_ancestors(tree), url


def test_furniture_after_the_page_is_not_taken_off_the_bound() -> None:
    """The bound counts the root's text only: the menu after </html> is not in it."""
    tree = trafilatura.load_html(TRAILING_MENU_PAGE)
    assert tree is not None
    assert tree.getnext() is not None  # the menu is a second top-level element
    cut = trafilatura.load_html(TRAILING_MENU_PAGE.split("</html>")[0] + "</html>")
    assert cut is not None
    assert readability_gate._unlikely_text(tree) == readability_gate._unlikely_text(cut) > 0
    tightened = readability_gate.readability_text_bound(tree, limit=0)
    assert tightened is not None
    assert len(readability_text(tree)) <= tightened


def test_the_packed_page_brings_readability_close_to_the_bound() -> None:
    tree = lxml.html.fromstring(PACKED_PAGE)
    text = readability_text(copy(tree))
    assert "VIDEO" in text
    assert "tail après le bloc" in text
    assert "analytics" not in text
    bound = readability_gate.readability_text_bound(tree)
    assert bound is not None
    assert len(text) <= bound <= len(text) + 120


def test_readability_runs_where_it_could_win(decisions: list[bool]) -> None:
    # The gallery page: trafilatura keeps 113 characters of captions, readability 355.
    html = decode_html((GOLDEN / "gallery.html").read_bytes(), None).text
    gated = extract("https://golden.example/gallery", html)
    with ungated():
        assert extract("https://golden.example/gallery", html) == gated
    assert decisions
    assert not any(decisions)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("<body><p>Texte propre.</p></body>", ""),  # no own text: readability takes any
        ("<body><div>Un texte sans paragraphe.</div></body>", "Un texte sans paragraphe."),
        (
            (
                "<body><table><tr><td>Région</td></tr></table><table><tr><td>2025</td></tr></table>"
                "<p>Chiffres.</p></body>"
            ),
            "Région 2025 Chiffres.",
        ),
    ],
    ids=["empty", "no-paragraph", "tables"],
)
def test_readability_runs_where_the_own_text_is_empty_or_not_made_of_paragraphs(
    body: str, text: str
) -> None:
    page = lxml.html.document_fromstring(f"<html>{body}</html>")
    own = page.body
    options = build_extractor()
    assert readability_gate.readability_text_bound(page) <= 2 * len(text) or not text
    assert not readability_gate.readability_cannot_win(page, own, text, options)


def test_a_page_with_more_than_twice_the_own_text_runs_readability() -> None:
    own_text = "La Région de l'Oriental signe un accord avec la province de Huelva. " * 3
    page = lxml.html.fromstring(
        f"<html><body><p>{own_text}</p><div>{'Autres dépêches du jour. ' * 20}</div></body></html>"
    )
    own = lxml.html.document_fromstring(f"<html><body><p>{own_text}</p></body></html>").body
    options = build_extractor()
    assert not readability_gate.readability_cannot_win(page, own, own_text, options)
    short = lxml.html.fromstring(f"<html><body><p>{own_text}</p></body></html>")
    assert readability_gate.readability_cannot_win(short, own, own_text, options)


def test_plain_trafilatura_is_not_gated(monkeypatch: pytest.MonkeyPatch) -> None:
    assert readability_gate.install()
    decisions: list[object] = []
    monkeypatch.setattr(
        readability_gate, "readability_cannot_win", lambda *args: decisions.append(args)
    )
    html = render_bulk_page(1, 4).decode()
    assert trafilatura.extract(html, with_metadata=True)
    assert decisions == []
    extract("http://127.0.0.1/actualite/1/depeche.html", html)
    assert len(decisions) == 1


def test_install_leaves_other_releases_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    original = trafilatura.external.compare_extraction
    monkeypatch.setattr(trafilatura.core, "compare_extraction", original)
    monkeypatch.setattr(trafilatura, "__version__", "9.0.0")
    assert not readability_gate.install()
    assert trafilatura.core.compare_extraction is original  # type: ignore[attr-defined]
    monkeypatch.setattr(trafilatura, "__version__", max(readability_gate.VERIFIED_VERSIONS))
    assert readability_gate.install()
    assert trafilatura.core.compare_extraction.__wrapped__ is original  # type: ignore[attr-defined]
    assert readability_gate.install()  # once only
    assert trafilatura.core.compare_extraction.__wrapped__ is original  # type: ignore[attr-defined]


@pytest.mark.parametrize("element", RAW_TEXT_ELEMENTS)
def test_raw_text_elements_leave_readability_unbounded(element: str) -> None:
    html = raw_text_page(element)
    tree = trafilatura.load_html(html)
    assert readability_gate.readability_text_bound(tree) is None
    # Why: readability's text of such a page is longer than all the page's text.
    assert len(readability_text(copy(tree))) > len(" ".join(" ".join(tree.itertext()).split()))
    gated = extract(f"https://raw.example/{element}", html)
    with ungated():
        assert extract(f"https://raw.example/{element}", html) == gated


def test_furniture_readability_removes_first_is_taken_off_the_bound(decisions: list[bool]) -> None:
    tree = trafilatura.load_html(HEAVY_PAGE)
    own = extract("https://heavy.example/", HEAVY_PAGE)
    assert isinstance(own, ExtractedArticle)
    limit = 2 * len(own.text)
    simple = readability_gate.readability_text_bound(tree)
    tightened = readability_gate.readability_text_bound(tree, limit)
    assert simple is not None
    assert tightened is not None
    assert tightened <= limit < simple
    assert decisions == [True]  # readability skipped on this page
    with ungated():
        assert extract("https://heavy.example/", HEAVY_PAGE) == own


def test_control_characters_xml_refuses_leave_readability_unbounded() -> None:
    tree = trafilatura.load_html(CONTROL_PAGE)
    assert readability_gate.readability_text_bound(tree) is None
    # Why: readability's text of the page is longer than all its text, counted as the bound does.
    assert len(readability_text(copy(tree))) > len(" ".join(" ".join(tree.itertext()).split()))
    gated = extract("https://control.example/", CONTROL_PAGE)
    with ungated():
        assert extract("https://control.example/", CONTROL_PAGE) == gated


def test_the_debug_log_says_readability_was_skipped_not_that_it_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    extract("https://heavy.example/", HEAVY_PAGE)  # gated
    messages = [(record.name, record.getMessage()) for record in caplog.records]
    assert (
        "crawler.readability_gate",
        "Readability skipped (it cannot win): https://heavy.example/",
    ) in messages
    assert not any(name == "trafilatura.readability_lxml" for name, _ in messages)
    assert not any(message.startswith("extracted length") for _, message in messages)
    assert any(message.startswith("using custom extraction") for _, message in messages)
    caplog.clear()
    html = decode_html((GOLDEN / "gallery.html").read_bytes(), None).text
    extract("https://golden.example/gallery", html)  # readability runs, and says what it found
    assert any(record.getMessage().startswith("extracted length") for record in caplog.records)
