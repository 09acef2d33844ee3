"""Tests for crawler.metadata_trim: the crawl's extraction is the same without the metadata it
never keeps (categories, tags, license), and only the crawl's extraction skips them."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

import pytest
import trafilatura
import trafilatura.metadata

from crawler import metadata_trim
from crawler.errors import ExtractionError
from crawler.extract import ExtractedArticle, build_extractor, extract_article
from tests.extraction_pages import all_pages

if TYPE_CHECKING:
    from tests.site.plugin import NewsSite

# A WordPress-like article whose categories, tags and license trafilatura finds when it looks.
TAGGED_PAGE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Souss-Massa et Nouvelle-Aquitaine renouvellent leur accord</title></head><body>
<article><h1>Souss-Massa et Nouvelle-Aquitaine renouvellent leur accord</h1>
<div class="entry-meta"><a href="/category/regions/">Régions</a></div>
<p>Le Conseil de la région Souss-Massa et la Région Nouvelle-Aquitaine ont renouvelé à Agadir
leur accord de coopération décentralisée, signé pour la première fois il y a dix ans.</p>
<p>La nouvelle feuille de route porte sur l'eau agricole, la formation aux métiers de la mer et
l'accueil d'étudiants des deux régions dans leurs universités.</p>
<div class="tags"><a href="/tag/cooperation/">coopération</a> <a href="/tag/agadir/">Agadir</a></div>
</article><footer><a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY</a>
</footer></body></html>"""


def extract(url: str, html: str) -> ExtractedArticle | str:
    try:
        return extract_article(html, url, extractor=build_extractor())
    except ExtractionError as error:
        return error.reason


def test_extraction_is_the_same_with_and_without_the_trim(
    news_site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = [*all_pages(news_site), ("https://tagged.example/accord", TAGGED_PAGE)]
    trimmed = [extract(url, html) for url, html in pages]
    monkeypatch.setattr(metadata_trim, "skipping", contextlib.nullcontext)
    for (url, html), expected in zip(pages, trimmed, strict=True):
        assert extract(url, html) == expected, url
    assert sum(isinstance(result, ExtractedArticle) for result in trimmed) > 100


def test_inside_skipping_categories_tags_and_license_are_not_searched() -> None:
    assert metadata_trim.install()
    document = trafilatura.bare_extraction(TAGGED_PAGE, with_metadata=True)
    assert document is not None
    assert not isinstance(document, dict)
    assert document.categories == ["Régions"]
    assert document.tags == ["coopération", "Agadir"]
    assert document.license == "CC BY 4.0"
    with metadata_trim.skipping():
        document = trafilatura.bare_extraction(TAGGED_PAGE, with_metadata=True)
    assert document is not None
    assert not isinstance(document, dict)
    assert (document.categories, document.tags, document.license) == ([], [], None)
    assert document.title == "Souss-Massa et Nouvelle-Aquitaine renouvellent leur accord"


def test_plain_trafilatura_keeps_its_metadata() -> None:
    assert metadata_trim.install()
    extract("https://tagged.example/accord", TAGGED_PAGE)
    output = trafilatura.extract(TAGGED_PAGE, with_metadata=True, output_format="json")
    assert output is not None
    document = json.loads(output)
    assert document["categories"] == "Régions"
    assert document["tags"] == "coopération;Agadir"
    assert document["license"] == "CC BY 4.0"


def test_install_leaves_other_releases_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert metadata_trim.install()
    originals = {
        name: getattr(trafilatura.metadata, name).__wrapped__
        for name in ("extract_catstags", "extract_license")
    }
    for name, original in originals.items():
        monkeypatch.setattr(trafilatura.metadata, name, original)
    monkeypatch.setattr(trafilatura, "__version__", "9.0.0")
    assert not metadata_trim.install()
    for name, original in originals.items():
        assert getattr(trafilatura.metadata, name) is original
    with metadata_trim.skipping():
        assert trafilatura.metadata.extract_license(trafilatura.load_html(TAGGED_PAGE))
    monkeypatch.setattr(trafilatura, "__version__", max(metadata_trim.VERIFIED_VERSIONS))
    assert metadata_trim.install()
    assert metadata_trim.install()  # once only
    for name, original in originals.items():
        assert getattr(trafilatura.metadata, name).__wrapped__ is original
